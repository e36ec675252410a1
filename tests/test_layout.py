"""The host's layout: the README's layout section names every module where it lives, and no
module of the host or the built-in plugins grows past about 400 lines (issue 17: a newcomer reads
the pipeline from the tree)."""

from __future__ import annotations

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
