"""docs/hooks.md, generated from the hook specifications' docstrings.

``python -m alexbench.plugin.hookdocs > docs/hooks.md`` rewrites it; a test fails when the file
differs from :func:`render`. The docstrings (:mod:`alexbench.plugin.hookspecs`) are written in
the small reStructuredText subset pytest's hook specs use, turned into Markdown here:

- ``code`` and roles (:class:`~a.B`, :func:`a.b`, :mod:`a`) become `code` (``~`` keeps the last part);
- ``:param name: text`` and ``:return: text`` (continued on indented lines) become a
  parameter list and a "Returns" line;
- a title underlined with ``=`` becomes a level-3 heading;
- ``Example::`` or ``.. code-block:: lang`` before an indented block becomes a fenced block
  (Python unless a language is named).
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any

from alexbench.plugin import hookspecs

GENERATED_NOTE = ("<!-- Generated from the docstrings in alexbench/plugin/hookspecs.py (and renderspec.py) by "
                  "`python -m alexbench.plugin.hookdocs > docs/hooks.md`: edit those, not this file. -->")

_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj|hook):`(~?)([^`]+)`")
_FIELD = re.compile(r":(param\s+(\w+)|returns?):\s*(.*)")


def hooks() -> list[Callable[..., Any]]:
    """The hook specifications, in the order of the module."""
    return [value for name, value in vars(hookspecs).items()
            if name.startswith(f"{hookspecs.PROJECT}_") and callable(value)]


def _inline(text: str) -> str:
    text = _ROLE.sub(lambda m: f"``{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}``", text)
    return re.sub(r"``(.+?)``", r"`\1`", text, flags=re.DOTALL)


def _blocks(lines: list[str]) -> Iterator[list[str]]:
    """Paragraphs: runs of lines between blank lines, an indented block staying with its lines."""
    block: list[str] = []
    for line in lines:
        if line.strip():
            block.append(line)
        elif block:
            yield block
            block = []
    if block:
        yield block


def to_markdown(doc: str) -> str:
    """One docstring (already dedented) as Markdown."""
    out: list[str] = []
    fields: list[str] = []
    code_language: str | None = None
    indent = 0
    for block in _blocks(doc.splitlines()):
        first = block[0]
        if code_language is not None and first.startswith(" "):
            if out and out[-1] == "```":  # after a blank line inside the code: the same block
                out[-1] = ""
            else:
                indent = min(len(line) - len(line.lstrip()) for line in block)
                out.append(f"```{code_language}")
            out.extend(line[indent:] for line in block)
            out.append("```")
            continue
        code_language = None
        if out and out[-1] == "```":
            out.append("")
        directive = re.fullmatch(r"\.\. code-block::\s*(\w+)", first.strip())
        if directive:
            code_language = directive.group(1)
            continue
        if len(block) == 2 and set(block[1].strip()) == {"="}:
            out += [f"### {block[0].strip()}", ""]
            continue
        if _FIELD.match(first):
            for line in block:
                field = _FIELD.match(line)
                if field:
                    fields.append(f"- ``{field.group(2)}``: {field.group(3)}" if field.group(2)
                                  else f"Returns: {field.group(3)}")
                else:
                    fields[-1] += " " + line.strip()
            fields[:] = [_inline(f) for f in fields]
            params = [f for f in fields if f.startswith("- ")]
            out += (["Parameters:", "", *params, ""] if params else [])
            out += [f for f in fields if not f.startswith("- ")] + [""]
            fields.clear()
            continue
        text = _inline("\n".join(line.strip() for line in block)).split("\n")
        if text[-1].endswith("::"):
            code_language = "python"
            text[-1] = text[-1][:-2] + ":" if text[-1] != "::" else ""
        out += [line for line in text if line] + [""]
    return "\n".join(out).rstrip() + "\n"


def signature(hook: Callable[..., Any]) -> tuple[str, str]:
    """The heading form ``name(a, b)`` and the typed form, from the spec's own annotations."""
    sig = inspect.signature(hook)
    names = ", ".join(sig.parameters)
    typed = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"{hook.__name__}({names})", f"{hook.__name__}({typed}) -> {sig.return_annotation}"


def render() -> str:
    """The whole of docs/hooks.md."""
    parts = ["# alexbench hooks", "", GENERATED_NOTE, "", to_markdown(inspect.cleandoc(hookspecs.__doc__ or ""))]
    for hook in hooks():
        short, typed = signature(hook)
        parts += [f"## {short}", "", "```python", typed, "```", "", to_markdown(inspect.cleandoc(hook.__doc__ or ""))]
    return "\n".join(parts)


if __name__ == "__main__":
    sys.stdout.write(render())
