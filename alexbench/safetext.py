"""Text from the data (post texts, variant, task and label names, task titles, LLM replies, error
messages that quote them) made safe for each place it is shown, leaving ordinary text unchanged.

* **Terminal** (:func:`terminal`, :func:`rich_text`, :class:`SafeConsole`, :func:`terminal_json`):
  control characters (Unicode ``Cc``: C0, DEL and C1, ESC among them), the line and paragraph
  separators and the bidi embedding, override and isolate characters are shown as escapes
  (``\\x1b``, ``\\n``, ``\\u202e``), so a post cannot clear the screen, recolour the output, set
  the window title or reorder what is shown. Names and one-line fields escape newlines and tabs
  too; multi-line text (post texts, reasons, tracebacks: ``multiline=True``) keeps them.
* **Markdown** (:func:`markdown`, :func:`markdown_cell`, :func:`markdown_code`): ``<`` and ``>``
  become ``&lt;``/``&gt;``, an ``&`` that would start a character reference ``&amp;``, ``![`` and
  ``](`` are backslash-escaped (no image or link from a name), and control characters, newlines
  included, are escapes as in the terminal (a newline would end a table row).
* **CSV** (:func:`csv_text`): a text cell that starts with ``=``, ``+``, ``-``, ``@`` or a tab and is
  not a number gets a leading ``'`` (a spreadsheet shows it as text instead of running it as a
  formula); control characters but newline and tab are escapes. Numbers (``-0.389``) are never
  touched, and the JSON keeps every name exactly.

docs/leaderboards.md ("Text from the data in every format") states the rules for users.
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.text import Text

#: Characters a terminal acts on instead of showing (and line/paragraph separators, bidi controls).
_UNSAFE = "\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_ONE_LINE = re.compile(f"[{_UNSAFE}]")
_MULTI_LINE = re.compile(f"(?![\n\t])[{_UNSAFE}]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    return _NAMED.get(ch) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def terminal(value: Any, *, multiline: bool = False) -> str:
    """``value`` as text a terminal shows as written: control characters as visible escapes
    (newlines and tabs kept with ``multiline``)."""
    return (_MULTI_LINE if multiline else _ONE_LINE).sub(_escape, str(value))


def rich_text(value: Any, style: str = "", *, multiline: bool = False) -> Text:
    """A rich :class:`Text` of ``value`` (never read as markup) with :func:`terminal`'s escapes:
    every cell, title or line of data a command prints is made with it."""
    return Text(terminal(value, multiline=multiline), style=style)


def terminal_json(text: str) -> str:
    """JSON text (``json.dumps(..., ensure_ascii=False)``) with the characters a terminal acts on
    written as ``\\uXXXX`` escapes: the same JSON value, safe to print."""
    return _ONE_LINE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class SafeConsole(Console):
    """A console whose printed strings (markup, table cells and titles given as ``str``) have
    their control characters escaped before they are parsed: a safety net under every
    ``console.print(f"... {escape(name)}")``. :class:`Text` objects are not touched (their width
    is measured before rendering): make them with :func:`rich_text`."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(terminal(text, multiline=True), **kwargs)


_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")


def markdown(value: Any) -> str:
    """Text from the data for a Markdown file: no HTML, image, link or line break of its own."""
    text = _ONE_LINE.sub(_escape, str(value))
    text = _ENTITY.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("![", "!\\[").replace("](", "]\\(")


def markdown_cell(value: Any) -> str:
    """Text from the data for a Markdown table cell: :func:`markdown`, and ``|`` (which would end
    the cell) escaped."""
    return markdown(value).replace("|", "\\|")


def markdown_code(value: Any) -> str:
    """Text from the data as a Markdown code span: fenced with more backticks than it holds, so a
    backtick in it cannot end the span (inside, HTML is shown as written)."""
    text = _ONE_LINE.sub(_escape, str(value))
    fence = "`" * (1 + max((len(run) for run in re.findall("`+", text)), default=0))
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def csv_text(value: Any) -> str:
    """A text cell of a CSV file: never a spreadsheet formula."""
    text = _MULTI_LINE.sub(_escape, str(value))
    if text[:1] in ("=", "+", "-", "@", "\t") and not _NUMBER.fullmatch(text):
        return "'" + text
    return text
