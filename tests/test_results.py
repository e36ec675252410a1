"""Typed results (issue 29): metrics.json, predictions.jsonl and explanations.jsonl read back into
frozen types and written out again exactly as they were stored (so checksums keep verifying and
run ids stay), whatever wrote them; a malformed file is named with its field (and line)."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import re
import types
from pathlib import Path

import pytest

from alexbench import hookimpl
from alexbench.config.tasks import load_task
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.errors import DamagedRunError
from alexbench.fsio import sha256_obj
from alexbench.interfaces import Classifier, Explainer, Explanation, Prediction, split_labels
from alexbench.plugin.host import PluginHost
from alexbench.run.runner import Runner
from alexbench.run.store import ResultsStore, StoredRun
from alexbench.scoring.results import (
    ExplainerStats,
    ExplanationRow,
    PredictionRow,
    ResultsError,
    RunMetrics,
)

from .leaderboard_runs import make_boards
from .test_multilabel import make_task

#: Real results from stored runs, by their folder under the results root: metrics.json whole and a
#: few rows of each JSON-lines file (a run made with the LLM explainer before checksums existed, the
#: LLM classifier's with its usage, a baseline, a stance run whose posts carry extra inputs, an
#: augmented one). Written before the types existed.
STORED = json.loads((Path(__file__).parent / "stored_run_results.json").read_text(encoding="utf-8"))
TYPES = {"metrics.json": RunMetrics, "predictions.jsonl": PredictionRow, "explanations.jsonl": ExplanationRow}
#: Stores of real runs on a machine that has them (ALEXBENCH_STORES: more, separated by os.pathsep).
STORES = [Path(p) for p in ("/work/store", "/work/store-ablation", *os.environ.get("ALEXBENCH_STORES", "").split(
    os.pathsep)) if p]


def round_trips(name: str, raw: object) -> None:
    typed = TYPES[name].from_dict(raw, name)
    assert typed.to_dict() == raw and sha256_obj(typed.to_dict()) == sha256_obj(raw)
    assert TYPES[name].from_dict(typed.to_dict(), name) == typed


@pytest.mark.parametrize("folder", sorted(STORED))
def test_stored_results_round_trip_exactly(folder: str) -> None:
    for name, content in STORED[folder].items():
        for raw in content if name.endswith(".jsonl") else [content]:
            round_trips(name, raw)


def test_an_explainers_statistics_from_before_the_latency_percentiles_round_trip() -> None:
    """Runs stored before the explainer's p50/p95 latencies and the cost paid were recorded have
    no such keys: they stay absent (not null), so those runs' checksums still verify."""
    raw = copy.deepcopy(STORED["runs/demo/alex-full/s1-b0eb4c64907ed026"]["metrics.json"])
    for key in ExplainerStats.LATER:
        del raw["explainer"][key]
    metrics = RunMetrics.from_dict(raw)
    assert metrics.explainer is not None and metrics.explainer.absent == set(ExplainerStats.LATER)
    assert metrics.explainer.latency_p50_s is None and metrics.to_dict() == raw
    current = RunMetrics.from_dict(STORED["runs/demo/alex-full/s1-b0eb4c64907ed026"]["metrics.json"])
    assert current.explainer is not None and not current.explainer.absent


def test_the_typed_fields_read_what_the_files_say() -> None:
    raw = STORED["runs/demo/llm-zero-shot/s1-685c436d52baebff"]["metrics.json"]
    metrics = RunMetrics.from_dict(raw)
    assert metrics.test.official.value == raw["test"]["official"]["value"]
    assert metrics.dev.per_class["1"].f1 == raw["dev"]["per_class"]["1"]["f1"]
    assert metrics.classifier_usage is not None
    assert metrics.classifier_usage["test"].cost_usd == raw["classifier_usage"]["test"]["cost_usd"]
    assert metrics.classifier_usage["test"].posts == raw["classifier_usage"]["test"]["posts"] == metrics.test.n
    with pytest.raises(dataclasses.FrozenInstanceError):
        metrics.run_id = "x"  # type: ignore[misc]
    metrics.to_dict()["test"]["scalars"]["accuracy"] = 2.0  # a copy: the metrics are unchanged
    assert metrics.to_dict() == raw


@pytest.mark.parametrize("root", STORES, ids=str)
def test_every_run_of_a_store_on_this_machine_reads_back_exactly(root: Path) -> None:
    runs = list(ResultsStore(root).runs()) if (root / "runs").is_dir() else []
    if not runs:
        pytest.skip(f"no stored runs under {root}")
    for run in runs:
        assert_reads_back(run)


def assert_reads_back(run: StoredRun) -> None:
    """The typed results of ``run`` are its files' content exactly, verified against its checksums
    (when it has them), and its id is still its spec's."""
    assert run.scores().to_dict() == run.metrics()
    assert [r.to_dict() for r in run.prediction_rows()] == run.predictions()
    assert [e.to_dict() for e in run.explanation_rows()] == run.explanations()
    assert run.spec().run_id == run.run_id
    sums = run.checksums() or {}
    for name, typed in (("metrics.json", run.scores().to_dict()),
                        ("predictions.jsonl", [r.to_dict() for r in run.prediction_rows()]),
                        ("explanations.jsonl", [e.to_dict() for e in run.explanation_rows()])):
        if name in sums:
            assert sha256_obj(typed) == sums[name], name


# ----- every shape the runner writes, from real runs ----------------------------------------------


class AskingClassifier(Classifier):
    """A model-calling classifier's stand-in: the first label for every post, and what asking cost
    (``Prediction.usage``), with an unknown cost as the LLM classifier records it."""

    name = "asking"
    version = "1.0"
    multi_label = True

    def fit(self, train, dev, ctx):
        return {}

    def predict(self, posts, ctx):
        first = ctx.task.labels[0]
        probs = [[1.0 if label == first else 0.0 for label in ctx.task.labels] for _ in posts]
        return Prediction([first] * len(posts), probs,
                          usage={"questions": len(posts), "cached": 0, "cost_usd": None, "latency_p50_s": 0.5,
                                 "latency_p95_s": 0.75, "model": "stand-in"})


class LabelJudge(Explainer):
    """A multi-label judge's stand-in: calibrates a threshold on dev, asks about each predicted
    label (``details.labels``), removes it from the first posts, and fails on the last post."""

    name = "label_judge"
    version = "1.0"
    multi_label = True

    def calibrate(self, posts, prediction, ctx, objective):
        return {"threshold": 0.25, "candidates": [[0.25, objective(prediction.labels)]]}

    def explain(self, posts, prediction, ctx):
        out = []
        for i, (post, label) in enumerate(zip(posts, prediction.labels)):
            asked = [{"label": x, "status": "ok", "verdict": i % 2 == 1, "removed": i % 2 == 0, "reason": "r"}
                     for x in split_labels(label)]
            if i == len(posts) - 1:
                out.append(Explanation(post.id, label, label, "failed", None, "", {"error": "timeout"}))
            elif i % 2 == 0:
                out.append(Explanation(post.id, label, "", "ok", False, "not about it",
                                       {"labels": asked, "latency_s": 0.1, "cost_usd": 0.0}))
            else:
                out.append(Explanation(post.id, label, label, "ok", True, "", {"labels": asked, "latency_s": 0.2}))
        return out


PLUGIN = types.SimpleNamespace(
    alexbench_register_classifiers=hookimpl(lambda registry: registry.add(AskingClassifier)),
    alexbench_register_explainers=hookimpl(lambda registry: registry.add(LabelJudge)),
)


def test_runs_the_runner_writes_read_back_exactly_with_the_same_run_ids(tmp_path: Path) -> None:
    """The leaderboard tests' runs (single-label, with an augmenter, with an explainer, on the demo
    and the tiny task) and multi-label runs with a classifier's usage, a calibrated judge, its
    per-label questions and a failed post: each reads back as written, checksums verifying."""
    make_boards(tmp_path)
    store = ResultsStore(tmp_path / "results")
    runner = Runner(PluginHost(plugins=[("results-test-plugin", PLUGIN)]), store, show_progress=False,
                    explainer_max_failed=0.5)
    task = load_task(make_task(tmp_path))
    usage = runner.run(task, VariantSpec("asking", ComponentSpec("asking")), 1).run
    judged = runner.run(task, VariantSpec("asking+judge", ComponentSpec("asking"), (),
                                          ComponentSpec("label_judge")), 1).run
    assert usage is not None and judged is not None
    runs = list(store.runs())
    assert len(runs) == 2 * 6 * 2 + 2
    for run in runs:
        assert_reads_back(run)
    stats = judged.scores().explainer
    assert stats is not None and stats.threshold == 0.25 and stats.failed == 1 and stats.label_questions
    assert judged.scores().explainer_calibration["threshold"] == 0.25
    assert judged.scores().test_before_explainer is not None and not stats.absent
    assert usage.scores().classifier_usage is not None and usage.scores().test.confusion.kind == "multilabel"
    assert usage.scores().classifier_usage["test"].recorded["model"] == "stand-in"
    assert judged.metrics()["explainer"].keys() >= {"failed", "threshold", "label_questions", "removal_precision"}


# ----- strict: the file, the line and the field ---------------------------------------------------

METRICS = STORED["runs/demo/alex-full/s1-b0eb4c64907ed026"]["metrics.json"]


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.update(colour="blue"), r"metrics\.json: colour: unknown field .* newer alexbench"),
    (lambda d: d["test"]["official"].pop("value"), r"metrics\.json: test\.official\.value: is missing"),
    (lambda d: d["dev"]["official"].update(value="0.5"), r"dev\.official\.value: expected number, got '0\.5'"),
    (lambda d: d["test"]["per_class"]["1"].update(support=True), r"test\.per_class\.1\.support: expected int"),
    (lambda d: d["test"]["confusion"].update(matrix=[[1, "2"]]), r"test\.confusion\.matrix: expected nested lists"),
    (lambda d: d["explainer"].pop("sent"), r"explainer\.sent: is missing"),
    (lambda d: d["explainer"].update(flips_fixd=1), r"explainer\.flips_fixd: unknown field"),
    (lambda d: d.update(test_before_explainer=[]), r"test_before_explainer: expected dict, got \[\]"),
])
def test_a_malformed_metrics_file_names_the_file_and_the_field(tmp_path: Path, edit, message) -> None:
    raw = copy.deepcopy(METRICS)
    edit(raw)
    with pytest.raises(ResultsError, match=message):
        RunMetrics.from_dict(raw, str(tmp_path / "metrics.json"))
    run = StoredRun(tmp_path)
    (tmp_path / "metrics.json").write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(DamagedRunError, match=f"^{re.escape(str(tmp_path / 'metrics.json'))}: .*alexbench rescore"):
        run.scores()
    with pytest.raises(DamagedRunError, match=message):
        run.metrics()  # the raw accessor checks as much


ROWS = STORED["runs/demo/alex-full/s1-b0eb4c64907ed026"]


@pytest.mark.parametrize(("name", "edit", "message"), [
    ("predictions.jsonl", lambda r: r.pop("classifier_pred"), "classifier_pred: is missing"),
    ("predictions.jsonl", lambda r: r.update(probs=[0.5, "x"]), "probs: expected a list of numbers"),
    ("predictions.jsonl", lambda r: r.update(gold=1), "gold: expected str, got 1"),
    ("predictions.jsonl", lambda r: r.update(label="1"), "label: unknown field"),
    ("explanations.jsonl", lambda r: r.update(verdict="yes"), "verdict: expected bool or null, got 'yes'"),
    ("explanations.jsonl", lambda r: r.pop("reason"), "reason: is missing"),
    ("explanations.jsonl", lambda r: r.update(details=None), "details: expected dict, got None"),
])
def test_a_malformed_row_names_the_file_its_line_and_the_field(tmp_path: Path, name: str, edit, message) -> None:
    rows = copy.deepcopy(ROWS[name])
    edit(rows[1])
    (tmp_path / name).write_text("".join(json.dumps(r) + "\n\n" for r in rows), encoding="utf-8")  # blank lines
    run = StoredRun(tmp_path)
    read = run.prediction_rows if name == "predictions.jsonl" else run.explanation_rows
    with pytest.raises(DamagedRunError, match=f"^{re.escape(str(tmp_path / name))}:3: {re.escape(message)}.*"
                                              "delete the folder"):
        read()
    with pytest.raises(ResultsError, match=f"^{name}: {re.escape(message)}"):
        TYPES[name].from_dict(rows[1], name)


def test_an_explainer_answer_that_cannot_be_stored_fails_the_run_naming_the_explainer(tmp_path: Path) -> None:
    class NoReason(LabelJudge):
        name = "no_reason"

        def explain(self, posts, prediction, ctx):
            return [dataclasses.replace(e, reason=None) for e in super().explain(posts, prediction, ctx)]

    plugin = types.SimpleNamespace(
        alexbench_register_classifiers=hookimpl(lambda registry: registry.add(AskingClassifier)),
        alexbench_register_explainers=hookimpl(lambda registry: registry.add(NoReason)))
    runner = Runner(PluginHost(plugins=[("no-reason", plugin)]), ResultsStore(tmp_path / "results"),
                    show_progress=False, explainer_max_failed=0.5)
    task = load_task(make_task(tmp_path))
    with pytest.raises(Exception, match=r"explainer 'no_reason': explanation of post 'test0': reason: expected str"):
        runner.run(task, VariantSpec("v", ComponentSpec("asking"), (), ComponentSpec("no_reason")), 1)
    assert not list(ResultsStore(tmp_path / "results").runs())
