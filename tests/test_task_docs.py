"""docs/tasks.md documents every field the task-file parser accepts (like the hooks meta-test):
the parser itself is asked, table by table, which fields it allows."""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from alexbench.config.tasks import SPLITS, load_task
from alexbench.errors import TaskFileError

from .conftest import REPO

DOC = REPO / "docs" / "tasks.md"
PROBE = "zz_not_a_field"


def _example() -> dict[str, Any]:
    """The doc's complete example (the first ```toml block)."""
    block = re.search(r"```toml\n(.*?)```", DOC.read_text(), flags=re.S)
    assert block, "docs/tasks.md has no ```toml example"
    return tomllib.loads(block.group(1))


def _tables(data: dict[str, Any], path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every table of the example, arrays of tables ([[references]]) by their first entry."""
    yield path
    for key, value in data.items():
        if isinstance(value, dict):
            yield from _tables(value, (*path, key))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            yield from _tables(value[0], (*path, key, 0))


def _allowed(tmp_path: Path, example: dict[str, Any], table: tuple[str, ...]) -> list[str] | None:
    """The fields the parser accepts in ``table`` (from its unknown-field error), or None when
    the table takes any key (metric params, an extra mapping)."""
    data = copy.deepcopy(example)
    target = data
    for key in table:
        target = target[key]
    target[PROBE] = "x"
    path = tmp_path / "probe.toml"
    path.write_text(tomli_w.dumps(data))
    try:
        load_task(path, tmp_path)
    except TaskFileError as exc:
        if "unknown field" in str(exc):
            where = ".".join(f"{p}" for p in table).replace(".0", "[0]")
            assert exc.field == (f"{where}.{PROBE}" if where else PROBE) and "Allowed: " in str(exc), str(exc)
            return str(exc).split("Allowed: ", 1)[1].split(", ")
        if "unknown split" in str(exc):  # [splits] names its tables
            return str(exc).split("splits are ", 1)[1].split(", ")
        assert table[-1] == "extra", str(exc)  # an extra mapping's keys must match the task's
    return None


def _documented(qualified: str) -> bool:
    text = DOC.read_text()
    return f"`{qualified}`" in text or f"`[{qualified}]`" in text


def _doc_name(table: tuple[str, ...], field: str) -> list[str]:
    """How the doc names a field: splits.train.file -> splits.<split>.file; a split's own columns
    and format tables take the fields of [columns] and [format]."""
    table = tuple(part for part in table if not isinstance(part, int))  # references[0].name -> references.name
    parts = ["<split>" if len(table) > 1 and table[0] == "splits" and i == 1 else part for i, part in enumerate(table)]
    names = [".".join((*parts, field))]
    if len(parts) == 3 and parts[:2] == ["splits", "<split>"]:
        names.append(f"{parts[2]}.{field}")
    return names


def test_the_docs_example_is_a_valid_task_file(tmp_path: Path) -> None:
    path = tmp_path / "example.toml"
    path.write_text(tomli_w.dumps(_example()))
    task = load_task(path, tmp_path)
    assert task.splits["dev"].carve is not None and task.extra_keys == ("claim",) and task.submission is not None


def test_every_field_the_parser_accepts_is_documented(tmp_path: Path) -> None:
    example = _example()
    undocumented, seen_tables = [], []
    for table in _tables(example):
        allowed = _allowed(tmp_path, example, table)
        if allowed is None:
            assert table in (("metric", "params"), ("columns", "extra")) or table[-1] == "extra", table
            continue
        seen_tables.append(table)
        for field in allowed:
            names = _doc_name(table, field)
            if not any(_documented(name) for name in names):
                undocumented.append(names[-1])
    assert not undocumented, f"fields the parser accepts but docs/tasks.md does not document: {sorted(set(undocumented))}"
    # the example reaches every table the parser has, so nothing is left unchecked
    for table in [(), ("task",), ("format",), ("columns",), ("labels",), ("metric",), ("submission",), ("splits",),
                  ("references", 0),
                  *(("splits", s) for s in SPLITS), ("splits", "train", "columns"), ("splits", "train", "format")]:
        assert table in seen_tables, table


def test_every_documented_field_is_accepted(tmp_path: Path) -> None:
    """The other way round: the reference names no field the parser would refuse."""
    example = _example()
    accepted = set()
    for table in _tables(example):
        for field in _allowed(tmp_path, example, table) or []:
            accepted.update(_doc_name(table, field))
    rows = re.findall(r"^\| `([a-z_<>.]+)` \|", DOC.read_text(), flags=re.M)
    rows = [name for name in rows if not name.startswith("study.")]  # studies: the test below
    assert len(rows) > 30
    assert not [name for name in rows if name not in accepted]


@pytest.mark.parametrize("table", [("task",), ("splits", "dev"), ("splits", "train", "format"), ("submission",)])
def test_the_probe_really_is_refused(tmp_path: Path, table: tuple[str, ...]) -> None:
    """The meta-test relies on unknown fields being errors; so does every user with a typo."""
    assert _allowed(tmp_path, _example(), table)


def _study_example() -> dict[str, Any]:
    """The doc's study example (the ```toml block with a [study] table)."""
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(), flags=re.S)
    found = [tomllib.loads(b) for b in blocks if "[study]" in b]
    assert found, "docs/tasks.md has no ```toml study example"
    return found[0]


def test_every_study_and_sweep_field_is_documented(tmp_path: Path) -> None:
    """The study parser is asked which fields [study] and [study.sweep] accept (its unknown-field
    error lists them); docs/tasks.md documents each, and its example is a valid swept study."""
    from alexbench.config.studies import load_study
    from alexbench.config.sweeps import expand
    from alexbench.config.tasks import TaskCatalog
    from alexbench.config.variants import VariantCatalog
    from alexbench.plugin.host import PluginHost

    host = PluginHost()
    catalog = VariantCatalog(TaskCatalog(host.task_dirs()).variant_files)
    example = _study_example()
    path = tmp_path / "study.toml"
    path.write_text(tomli_w.dumps(example))
    spec = load_study(path, catalog)
    plan = expand(path, spec.sweep, spec.variants, lambda kind, name: host.component_info(kind, name)[1], spec.fixed)
    assert {a.name for a in spec.sweep} == {"minority_share", "train_size", "explainer.catch_rate"} and plan.cells
    undocumented, accepted = [], {"study.sweep"}
    for table, prefix in ((("study",), "study"), (("study", "sweep"), "study.sweep")):
        data = copy.deepcopy(example)
        target = data
        for key in table:
            target = target[key]
        target[PROBE] = "x" if table == ("study",) else [1]
        path.write_text(tomli_w.dumps(data))
        with pytest.raises(TaskFileError) as info:
            load_study(path, catalog)
        assert "Allowed: " in str(info.value), str(info.value)
        for field_ in str(info.value).split("Allowed: ", 1)[1].split(", "):
            name = f"{prefix}.{field_}".replace("COMPONENT.KEY", "<component>.<key>")
            accepted.add(name)
            if not _documented(name):
                undocumented.append(name)
    assert not undocumented, f"study fields docs/tasks.md does not document: {undocumented}"
    rows = [n for n in re.findall(r"^\| `([a-z_<>.]+)` \|", DOC.read_text(), flags=re.M) if n.startswith("study.")]
    assert rows and not [n for n in rows if n not in accepted]  # and the doc names no field the parser refuses
