"""The host's layout: the README's layout section names every module where it lives, and no
module of the host or the built-in plugins grows past about 400 lines (issue 17: a newcomer reads
the pipeline from the tree)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HOST = REPO / "alexbench"
MAX_LINES = 420  # "about 400": a module past this is doing two things


def layout_section() -> dict[str, set[str]]:
    """Folder (``alexbench/`` or ``alexbench/<sub>/``) -> the file names its README bullet lists."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("### Layout", 1)[1].split("\n#", 1)[0]
    listed: dict[str, set[str]] = {}
    for bullet in re.split(r"\n- ", section)[1:]:
        folder = re.match(r"`(alexbench/(?:[a-z_]+/)?)`", bullet)
        if folder:
            listed[folder.group(1)] = set(re.findall(r"`([a-z_]+\.py)`", bullet))
    return listed


def test_the_readme_layout_names_every_host_module_in_its_folder() -> None:
    listed = layout_section()
    actual: dict[str, set[str]] = {}
    for path in HOST.rglob("*.py"):
        if path.name in ("__init__.py", "__main__.py"):
            continue
        folder = path.parent.relative_to(REPO).as_posix() + "/"
        actual.setdefault(folder, set()).add(path.name)
    assert set(listed) == set(actual), f"README layout folders {sorted(listed)} vs the tree {sorted(actual)}"
    for folder in actual:
        assert listed[folder] == actual[folder], (
            f"README layout, {folder}: missing {sorted(actual[folder] - listed[folder])}, "
            f"not in the tree {sorted(listed[folder] - actual[folder])}")


def test_no_host_or_plugin_module_is_over_about_400_lines() -> None:
    long = {str(p.relative_to(REPO)): n for root in (HOST, REPO / "plugins") for p in root.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these modules by what they hold: {long}"


# ----- Layers: who may import whom (issue 29) -----
#
# The host's layers, lowest first: a module may import its own layer's modules and lower layers',
# never a higher layer's, and no modules import each other in a circle. A unit is a top-level
# module or subpackage of alexbench (a dotted name, e.g. ``"run.grid"``, names one module of a
# subpackage that stands lower than the rest of it; ``"__init__"`` is the package's face, ``alexbench.hookimpl``),
# or a module of the LLM plugin (``alexbench_llm``, above the host it plugs into).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "fsio", "jsonfields", "safetext"),
    ("progress", "selftest", "faults"),
    ("config",),
    ("interfaces", "renderer"),
    ("plugin",),
    ("__init__",),
    ("data",),
    ("scoring",),
    ("run",),
    ("report",),
    ("kit",),  # the conformance kit draws leaderboards through renderers (kit/renderer.py)
    ("testing", "doctor"),
    ("api",),
    ("cli",),
    ("__main__",),
    ("alexbench_llm",),
)
LAYER_OF = {unit: n for n, units in enumerate(LAYERS) for unit in units}
IMPORT_ROOTS = ((REPO, "alexbench"), (REPO / "plugins", "alexbench_llm"))


def _modules() -> dict[str, Path]:
    found = {}
    for base, package in IMPORT_ROOTS:
        for path in (base / package).rglob("*.py"):
            parts = list(path.relative_to(base).with_suffix("").parts)
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ``modules`` that ``name`` imports, at module level or inside a function
    (``if TYPE_CHECKING:`` blocks excepted); ``from package import module`` names the module."""
    is_package = path.name == "__init__.py"
    targets: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                targets.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = name.split(".")[: len(name.split(".")) - (child.level - 1) - (0 if is_package else 1)]
                    source = ".".join(base + ([child.module] if child.module else []))
                else:
                    source = child.module or ""
                for alias in child.names:
                    targets.add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    resolved = set()
    for target in targets:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != name and not name.startswith(target + "."):  # a parent package comes with it
            resolved.add(target)
    return resolved


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imported(name, path, modules) for name, path in modules.items()}


def unit_of(module: str) -> str:
    """The most specific unit of :data:`LAYERS` that holds ``module``."""
    if module == "alexbench":
        return "__init__"
    parts = module.removeprefix("alexbench.").split(".") if module.startswith("alexbench.") else [module.split(".")[0]]
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in LAYER_OF:
            return ".".join(parts[:n])
    raise AssertionError(f"{module}: in no layer of tests/test_layout.py LAYERS; add it where it belongs")


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return cycles


def test_no_import_cycle_among_host_and_llm_plugin_modules() -> None:
    graph = import_graph()
    cycles = import_cycles(graph)
    described = ["; ".join(f"{a} -> {b}" for a in cycle for b in sorted(graph[a] & set(cycle))) for cycle in cycles]
    assert not cycles, "modules that import each other in a circle:\n" + "\n".join(described)


def test_no_import_runs_from_a_lower_layer_to_a_higher_one() -> None:
    upward = sorted(f"{a} ({unit_of(a)}) -> {b} ({unit_of(b)})" for a, targets in import_graph().items()
                    for b in targets if LAYER_OF[unit_of(a)] < LAYER_OF[unit_of(b)])
    assert not upward, "imports from a lower layer to a higher one (tests/test_layout.py LAYERS):\n" + "\n".join(upward)
