"""The committed real-data result, leaderboards/public/ (issue 14), is the study ``public`` as
defined now: every task, variant and seed, the baseline, each task file's published references,
and the README's table of it. A change to the study or a task's references that is not re-run
and re-rendered fails here, as a stale docs/hooks.md does."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from alexbench.config.studies import load_study
from alexbench.config.tasks import TaskCatalog
from alexbench.config.variants import VariantCatalog
from alexbench.plugin.host import PluginHost

REPO = Path(__file__).resolve().parents[1]
BOARD = REPO / "leaderboards" / "public"
CATALOG = TaskCatalog(PluginHost().task_dirs())
STUDY = load_study(CATALOG.study_files["public"], VariantCatalog(CATALOG.variant_files))


def _readme_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("## Results on public data")
    return text[start:text.index("\n## ", start + 1)]


@pytest.mark.parametrize("task", STUDY.tasks)
def test_the_committed_board_holds_every_variant_and_seed_of_the_study(task: str) -> None:
    data = json.loads((BOARD / f"{task}.json").read_text(encoding="utf-8"))
    assert data["task"] == task and data["baseline"] == STUDY.baseline
    assert sorted(r["variant"] for r in data["rows"]) == sorted(v.name for v in STUDY.variants)
    assert all(r["seeds"] == list(STUDY.seeds) and len(r["run_ids"]) == len(STUDY.seeds) for r in data["rows"])
    assert all(r["comparison"] is not None for r in data["rows"] if r["variant"] != STUDY.baseline)
    # run folders are named relative to a store called results/, never by this machine's paths
    assert all(d.startswith(f"results/runs/{task}/") for r in data["rows"] for d in r["run_dirs"])
    for page in ("md", "csv", "tex"):
        assert (BOARD / f"{task}.{page}").stat().st_size > 0
    assert (BOARD / f"{task}_official.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("task", STUDY.tasks)
def test_its_reference_rows_are_the_task_files(task: str) -> None:
    data = json.loads((BOARD / f"{task}.json").read_text(encoding="utf-8"))
    spec = CATALOG.load(task)
    assert [(r["name"], r["score"], r["source"], r["note"]) for r in data["references"]] == [
        (r.name, r.score, r.source, r.note) for r in spec.references]
    assert spec.references, "a public task without its published result"


def test_the_readme_table_is_the_committed_board() -> None:
    section = _readme_section()
    for task in STUDY.tasks:
        data = json.loads((BOARD / f"{task}.json").read_text(encoding="utf-8"))
        for row in data["rows"]:
            line = next(line for line in section.splitlines() if line.startswith(f"| {row['variant']} |"))
            official = row["test_official"]
            assert f"{official['mean']:.3f} ± {official['std']:.3f}" in line, (task, row["variant"])
            c = row["comparison"]
            if c and not c["delta"] == c["ci_low"] == c["ci_high"] == 0:
                delta = f"{c['delta']:+.3f}".replace("-", "−")
                assert re.search(re.escape(delta) + r"(\\\*)*\s\[", line), (task, row["variant"], delta)
        for ref in data["references"]:
            assert any(line.startswith(f"| *{ref['name']}* †") and str(ref["score"]) in line
                       for line in section.splitlines())
