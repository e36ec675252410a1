"""The Python API (issue 29 item 1): ``alexbench.api.Bench`` runs task × variant × seed with a
progress callback, reuses finished runs, reads the store and builds leaderboards, with typed
results and ``to_pandas()`` on leaderboards and run collections. Real runs of a real (cheap)
classifier on a real task folder; the docs example is run by tests/test_clean_checkout.py."""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from alexbench.api import Bench, Leaderboards, RunEvent, Runs, StudyResult
from alexbench.errors import AlexbenchError, UnknownNameError

from .conftest import REPO, make_tiny_task


@pytest.fixture
def bench(tmp_path: Path) -> tuple[Bench, Path, list[str]]:
    warned: list[str] = []
    return Bench(results=tmp_path / "results", on_warning=warned.append), make_tiny_task(tmp_path / "tasks"), warned


def test_run_reports_every_run_as_an_event_then_reuses_them(bench) -> None:
    api, task_file, _ = bench
    seen: list[RunEvent] = []
    first = api.run(str(task_file), ["tfidf", "tfidf-balanced"], seeds=[1, 2], show_progress=False,
                    on_event=seen.append)
    assert isinstance(first, StudyResult) and first.ok and first.failures == 0
    assert seen == list(first.events)
    assert [(e.done, e.total) for e in seen] == [(n, 4) for n in range(1, 5)]
    # seed by seed: every variant of seed 1 before seed 2
    assert [(e.seed, e.variant) for e in seen] == [(1, "tfidf"), (1, "tfidf-balanced"), (2, "tfidf"),
                                                   (2, "tfidf-balanced")]
    assert {e.state for e in seen} == {"done"} and all(e.metric == "f1_positive" for e in seen)
    for event in seen:
        assert event.run_path is not None and (event.run_path / "metrics.json").is_file()
        assert 0.0 <= event.official <= 1.0
    again = api.run(str(task_file), ["tfidf", "tfidf-balanced"], seeds=[1, 2], show_progress=False)
    assert {e.state for e in again.events} == {"reused"}
    assert [e.official for e in again.events] == [e.official for e in first.events]


def test_leaderboards_and_runs_as_dataframes_hold_the_boards_numbers(bench) -> None:
    api, task_file, _ = bench
    api.run(str(task_file), ["tfidf", "tfidf-balanced"], seeds=[1, 2, 3], show_progress=False)
    boards = api.leaderboards(str(task_file), baseline="tfidf", n_boot=200)
    assert isinstance(boards, Leaderboards) and [b.task for b in boards] == ["tiny"]
    board = boards[0]
    frame = boards.to_pandas()
    assert list(frame["variant"]) == [row.variant for row in board.rows]  # best first, as on the board
    assert list(frame["rank"]) == [1, 2]
    for record, row in zip(frame.to_dict("records"), board.rows, strict=True):
        assert record["test_mean"] == pytest.approx(row.test_official.mean)
        assert record["test_std"] == pytest.approx(row.test_official.std)
        assert record["n_seeds"] == 3 and record["official_metric"] == "f1_positive"
        for label in board.labels:
            assert record[f"f1_{label}"] == pytest.approx(row.per_class_f1[label].mean)
        if row.variant == "tfidf":
            assert record["delta"] is None or record["delta"] != record["delta"]  # the baseline: no Δ (None/NaN)
        else:
            assert record["delta"] == pytest.approx(row.delta)
            assert record["p_bootstrap_holm"] == pytest.approx(row.comparison.p_bootstrap_holm)
            assert record["ci_low"] <= record["delta"] <= record["ci_high"]
    runs = api.runs("tiny")
    assert isinstance(runs, Runs) and len(runs) == 6
    per_run = runs.to_pandas()
    assert sorted(per_run["seed"]) == [1, 1, 2, 2, 3, 3]
    for variant, group in per_run.groupby("variant"):  # the board's mean is the runs' mean
        row = next(r for r in board.rows if r.variant == variant)
        assert statistics.fmean(group["test"]) == pytest.approx(row.test_official.mean)
        assert set(group["run_id"]) == set(row.run_ids)


def test_a_damaged_run_is_a_warning_and_left_out(bench) -> None:
    api, task_file, warned = bench
    result = api.run(str(task_file), "tfidf", seeds=[1, 2], show_progress=False)
    (result.events[0].run_path / "metrics.json").write_text("{}")
    boards, damaged = api.leaderboards_of({"tiny"})
    assert damaged == 1 and boards[0].rows[0].seeds == [2]
    assert any("left out of the leaderboard" in w and "metrics.json" in w for w in warned)


def test_names_are_checked_before_any_work(bench, tmp_path: Path) -> None:
    api, task_file, _ = bench
    with pytest.raises(UnknownNameError, match="demo"):
        api.study("dmeo")
    with pytest.raises(UnknownNameError, match="tfidf"):
        api.run(str(task_file), "tfidff", seeds=[1], show_progress=False)
    with pytest.raises(AlexbenchError):
        api.run(str(task_file), "tfidf", seeds=[1], show_progress=False, device="tpu")
    assert not (tmp_path / "results" / "runs").exists()  # nothing ran


def test_the_command_line_never_imports_pandas() -> None:
    code = ("import runpy, sys; sys.argv = ['alexbench', 'variants']\n"
            "try:\n    runpy.run_module('alexbench', run_name='__main__')\n"
            "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
            "print('pandas imported:', 'pandas' in sys.modules, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert "tfidf-balanced" in done.stdout  # the command ran
    assert done.stderr.strip().endswith("pandas imported: False"), done.stderr


def test_explained_joins_a_runs_verdicts_with_gold_and_texts(tmp_path: Path) -> None:
    from alexbench.config.variants import ComponentSpec, VariantSpec
    from alexbench.data.splits import load_dataset
    from alexbench.plugin.host import PluginHost

    from .leaderboard_runs import PLUGIN

    api = Bench(results=tmp_path / "results", _host=PluginHost(plugins=[("veto", PLUGIN)], disabled=[], trace=False))
    variant = VariantSpec("tfidf+veto", ComponentSpec("tfidf_logreg", {"class_weight": "balanced"}),
                          explainer=ComponentSpec("third_party_veto"))
    result = api.run("demo", variant, seeds=[1], show_progress=False)
    run = api.runs("demo")[0]
    rows = api.explained(run.run_id)
    gold = {r.id: r.gold for r in run.prediction_rows() if r.split == "test"}
    texts = {p.id: p.text for p in load_dataset(api.task("demo")).test}
    assert result.ok and rows and {r["id"] for r in rows} <= set(gold)
    for row in rows:
        assert row["gold"] == gold[row["id"]] and row["text"]
        assert row["flipped"] == (row["final"] != row["classifier"])
        assert row["text"] == texts[row["id"]]
    flips = api.explained(run.run_id, only_flips=True)
    assert [r["id"] for r in flips] == [r["id"] for r in rows if r["flipped"]]
    with pytest.raises(AlexbenchError, match="no explainer"):
        api.explained(str(api.run("demo", "tfidf", seeds=[1], show_progress=False).events[0].run_path))
