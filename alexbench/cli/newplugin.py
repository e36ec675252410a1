"""``alexbench new-plugin NAME --kind KIND``: write a ready-to-install plugin package.

The package holds a working component of the kind (a keyword-rule classifier, a random-swap
augmenter or a cue-word explainer), its ``alexbench`` entry point, a test that runs the
conformance kit (:mod:`alexbench.testing`) against it unmodified, and a README::

    alexbench-NAME/
        pyproject.toml            entry point [project.entry-points.alexbench] NAME = "alexbench_NAME"
        README.md
        src/alexbench_NAME/__init__.py
        tests/test_NAME.py
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import click

from alexbench.cli import newplugin_templates as templates
from alexbench.cli.errors import reports_errors
from alexbench.errors import AlexbenchError
from alexbench.interfaces import COMPONENT_KINDS, REGISTRAR_HOOKS

KINDS = tuple(COMPONENT_KINDS)
_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*$")


class NewPluginError(AlexbenchError):
    """The plugin name or target folder is not usable."""


@dataclass(frozen=True)
class PluginNames:
    """Every name derived from the one the user gives."""

    component: str  # registered name and entry-point name: keyword_rules
    module: str  # import package: alexbench_keyword_rules
    distribution: str  # pip name and folder: alexbench-keyword-rules
    cls: str  # component class: KeywordRulesClassifier
    kind: str

    @classmethod
    def derive(cls, name: str, kind: str) -> PluginNames:
        if kind not in KINDS:
            raise NewPluginError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        if not _NAME.match(name):
            raise NewPluginError(f"plugin name {name!r} must be lower-case letters and digits, words joined by "
                                 "'_' or '-', starting with a letter (e.g. keyword_rules)")
        component = re.sub(r"^alexbench[_-]", "", name).replace("-", "_")
        camel = "".join(part.capitalize() for part in component.split("_"))
        return cls(component, f"alexbench_{component}", f"alexbench-{component.replace('_', '-')}",
                   f"{camel}{kind.capitalize()}", kind)


def render(text: str, names: PluginNames) -> str:
    contract = f"{names.kind.capitalize()}Contract"
    replacements = {
        "__USAGE__": templates.USAGE[names.kind],
        "__VARIANT__": templates.VARIANT[names.kind],
        "__COMPONENT__": names.component,
        "__MODULE__": names.module,
        "__DIST__": names.distribution,
        "__TESTCLASS__": f"Test{names.cls}",
        "__CLASS__": names.cls,
        "__CONTRACT__": contract,
        "__HOOK__": REGISTRAR_HOOKS[names.kind],
        "__KIND__": names.kind,
    }
    for placeholder, value in replacements.items():  # USAGE/VARIANT first: they hold placeholders
        text = text.replace(placeholder, value)
    return text


def plugin_files(names: PluginNames) -> dict[str, str]:
    """Relative path → content of every file of the package."""
    files = {
        "pyproject.toml": templates.PYPROJECT,
        "README.md": templates.README,
        ".gitignore": templates.GITIGNORE,
        f"src/{names.module}/__init__.py": templates.MODULES[names.kind],
        f"tests/test_{names.component}.py": templates.TESTS[names.kind],
    }
    return {path: render(text, names) for path, text in files.items()}


def write_plugin(name: str, kind: str, parent: Path) -> tuple[PluginNames, Path, list[Path]]:
    """Create ``parent/alexbench-NAME/`` with the package; refuses to overwrite anything."""
    names = PluginNames.derive(name, kind)
    root = Path(parent) / names.distribution
    if root.exists():
        raise NewPluginError(f"{root} already exists; choose another name or --dir, or remove it")
    written = []
    for rel, content in plugin_files(names).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return names, root, written


def _already_registered(names: PluginNames) -> str | None:
    """The plugin that already registers this component name in this environment, if any."""
    from alexbench.plugin.host import PluginHost

    registry = PluginHost(trace=False).registry(names.kind)
    if names.component in registry:
        return registry.entry(names.component).plugin or "?"
    return None


@click.command("new-plugin")
@click.argument("name")
@click.option("--kind", type=click.Choice(KINDS), required=True, help="What the plugin registers.")
@click.option("--dir", "parent", type=click.Path(path_type=Path, file_okay=False), default=Path("."),
              show_default=True, help="Folder in which to create the package folder alexbench-NAME.")
@reports_errors
def new_plugin(name: str, kind: str, parent: Path) -> None:
    """Write a ready plugin package NAME: entry point, a working component, kit tests, README."""
    names, root, written = write_plugin(name, kind, parent)
    owner = _already_registered(names)
    if owner is not None:
        click.echo(f"warning: a {kind} named {names.component!r} is already registered by plugin {owner!r}; "
                   "rename yours before installing it, or the two will clash", err=True)
    click.echo(f"wrote {names.kind} plugin {names.component!r} ({names.distribution}) to {root}:")
    for path in written:
        click.echo(f"  {path.relative_to(root)}")
    click.echo(f"next: cd {root} && pip install -e . && python -m pytest && alexbench plugins")
