"""Multi-label tasks (issue 18): task files, data rows, metrics against scikit-learn, the
component flag and the runner's refusal, the baselines on label sets."""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, hamming_loss, precision_recall_fscore_support

from alexbench import hookimpl
from alexbench.config.tasks import load_task
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.data.splits import load_dataset
from alexbench.errors import DataError, TaskFileError, UnsupportedTaskError
from alexbench.interfaces import Augmenter, join_labels, split_labels
from alexbench.plugin.host import PluginHost
from alexbench.run.runner import Runner
from alexbench.run.store import ResultsStore
from alexbench.scoring import metrics as m
from alexbench.scoring.significance import compare

LABELS = ["side_effects", "efficacy", "access"]

TASK = """
[task]
name = "ml"
data_dir = "data"
[columns]
id = "id"
text = "text"
label = "labels"
[splits.train]
file = "train.tsv"
[splits.dev]
file = "dev.tsv"
[splits.test]
file = "test.tsv"
[labels]
values = ["side_effects", "efficacy", "access"]
multi_label = true
separator = "{sep}"
{empty}
[metric]
official = "macro_f1"
"""

ROWS = [("sore arm and fever after the jab", "side_effects"), ("does it even work", "efficacy"),
        ("no appointments anywhere and my arm hurts", "access{sep}side_effects"),
        ("booked my booster today", "none"), ("cannot get a slot and does it work", "efficacy{sep}access"),
        ("feeling rough after dose two", "side_effects"), ("clinic closed again", "access"),
        ("got jabbed, all fine", "none")]


def make_task(tmp_path: Path, *, sep: str = " ", empty: str | None = 'empty = "none"',
              rows: list[tuple[str, str]] | None = None) -> Path:
    folder = tmp_path / "ml"
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "task.toml").write_text(TASK.format(sep=sep, empty=empty or ""), encoding="utf-8")
    body = [(t, label.format(sep=sep)) for t, label in (rows or ROWS)]
    for split in ("train", "dev", "test"):
        lines = ["id\ttext\tlabels"] + [f"{split}{i}\t{t}\t{label}" for i, (t, label) in enumerate(body)]
        (folder / "data" / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder / "task.toml"


def test_canonical_label_sets_follow_the_task_order() -> None:
    assert join_labels(["access", "side_effects"], LABELS) == "side_effects|access"
    assert join_labels([], LABELS) == "" and split_labels("") == () and split_labels(None) == ()
    assert split_labels("side_effects|access") == ("side_effects", "access")
    with pytest.raises(ValueError, match="not among"):
        join_labels(["mandates"], LABELS)


@pytest.mark.parametrize("sep", [" ", ",", " ; "])
def test_a_multi_label_task_reads_label_sets(tmp_path: Path, sep: str) -> None:
    task = load_task(make_task(tmp_path, sep=sep))
    assert task.multi_label and task.separator == sep and task.empty == "none" and task.positive is None
    data = load_dataset(task)
    labels = [p.label for p in data.train]
    assert labels[2] == "side_effects|access" and labels[4] == "efficacy|access" and labels[3] == ""
    assert task.label_set(labels[2]) == ("side_effects", "access")
    assert task.label_space.cell(labels[2]) == sep.join(("side_effects", "access"))
    assert task.label_space.cell("") == "none"
    assert data.splits["train"].report.label_counts == {"access": 3, "efficacy": 2, "side_effects": 3, "none": 2}


def test_single_label_tasks_read_as_before(tiny_task) -> None:
    assert not tiny_task.multi_label and tiny_task.label_set("1") == ("1",)
    assert tiny_task.label_space.problem("1") is None and "not one of" in tiny_task.label_space.problem("1|0")


@pytest.mark.parametrize(("label", "message"), [
    ("side_effects mandates", "unknown label 'mandates' in 'side_effects mandates'"),
    ("efficacy efficacy", "label 'efficacy' given twice"),
    ("efficacy  access", "empty label in 'efficacy  access'"),
    ("none efficacy", r"'none' \(no label\) together with labels"),
    ("", "missing label; .*a post with none of the labels is written 'none'"),
])
def test_bad_label_cells_name_file_line_and_column(tmp_path: Path, label: str, message: str) -> None:
    task = load_task(make_task(tmp_path, rows=[*ROWS[:3], ("a post", label)]))
    with pytest.raises(DataError, match=rf"train.tsv:5: labels: {message}"):
        load_dataset(task)


def test_no_label_needs_the_tasks_empty_value(tmp_path: Path) -> None:
    task = load_task(make_task(tmp_path, empty=None))
    with pytest.raises(DataError, match=r"train.tsv:5: labels: unknown label 'none' in 'none'"):
        load_dataset(task)
    task = load_task(make_task(tmp_path, empty=None, rows=[*ROWS[:3], ("a post", "")]))
    with pytest.raises(DataError, match=r"train.tsv:5: labels: missing label.*needs labels.empty"):
        load_dataset(task)


@pytest.mark.parametrize(("change", "field", "message"), [
    (('separator = " "', 'separator = ""'), "labels.separator", "must not be empty"),
    (('empty = "none"', 'empty = "access"'), "labels.empty", "is one of the labels"),
    (('empty = "none"', 'empty = ""'), "labels.empty", "visible value"),
    (('empty = "none"', 'empty = "no thing"'), "labels.empty", "contains the separator"),
    (('"access"]', '"no access"]'), "labels.values", "must not contain the separator"),
    (('"access"]', '"a|b"]'), "labels.values", "must not contain"),
    (("multi_label = true", 'multi_label = true\npositive = "access"'), "labels.positive", "no positive class"),
    (("multi_label = true", "multi_label = false"), "labels.separator", "multi-label tasks only"),
    (("multi_label = true", 'multi_label = "yes"'), "labels.multi_label", "expected"),
])
def test_bad_multi_label_fields_name_file_and_field(tmp_path: Path, change: tuple[str, str], field: str,
                                                     message: str) -> None:
    path = make_task(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace(*change), encoding="utf-8")
    with pytest.raises(TaskFileError, match=rf"task.toml: {field}: .*{message}"):
        load_task(path)


GOLD = ["side_effects|efficacy", "", "access", "efficacy", "", "side_effects", "side_effects|access", "efficacy"]
PRED = ["side_effects", "", "", "efficacy|access", "efficacy", "side_effects", "side_effects|access", ""]


def _input(gold=GOLD, pred=PRED, **kw) -> m.ScoreInput:
    return m.ScoreInput(gold, pred, LABELS, multi_label=True, **kw)


def test_multi_label_metrics_equal_scikit_learns() -> None:
    g, p = m.indicator(GOLD, LABELS).astype(int), m.indicator(PRED, LABELS).astype(int)
    d = _input()
    for average, fn in (("micro", m.micro_f1), ("macro", m.macro_f1), ("weighted", m.weighted_f1)):
        expected = precision_recall_fscore_support(g, p, average=average, zero_division=0)[2]
        assert fn(d) == pytest.approx(expected)
    # a post with neither gold nor predicted labels is right: scikit-learn's zero_division=1 for samples
    assert m.samples_f1(d) == pytest.approx(precision_recall_fscore_support(g, p, average="samples",
                                                                             zero_division=1)[2])
    assert m.subset_accuracy(d) == m.accuracy(d) == pytest.approx(accuracy_score(g, p))
    assert m.hamming_loss(d) == pytest.approx(hamming_loss(g, p))
    precision, recall, f1, support = precision_recall_fscore_support(g, p, average=None, zero_division=0)
    per = m.multilabel_per_label(GOLD, PRED, LABELS)
    assert [per[label]["f1"] for label in LABELS] == pytest.approx(list(f1))
    assert [per[label]["precision"] for label in LABELS] == pytest.approx(list(precision))
    assert [per[label]["recall"] for label in LABELS] == pytest.approx(list(recall))
    assert [per[label]["support"] for label in LABELS] == list(support)
    assert per["access"] | {} == {**per["access"], "tp": 1, "fp": 1, "fn": 1, "predicted": 2}
    from sklearn.metrics import multilabel_confusion_matrix

    assert m.multilabel_confusion(GOLD, PRED, LABELS) == multilabel_confusion_matrix(g, p).tolist()
    assert m.macro_f1(_input(params={"labels": ["access"]})) == pytest.approx(f1[2])


def test_single_label_metrics_are_unchanged_and_label_set_ones_do_not_apply() -> None:
    d = m.ScoreInput(["a", "b"], ["a", "a"], ["a", "b"], positive="a")
    assert m.samples_f1(d) is None and m.hamming_loss(d) is None and m.subset_accuracy(d) is None
    assert m.f1_positive(_input()) is None and m.grouped_macro_f1(_input(params={"group_by": "x"})) is None


def test_score_gives_label_set_metrics_and_per_label_counts(host, tmp_path: Path) -> None:
    task = load_task(make_task(tmp_path))
    out = m.score(task, GOLD, PRED, host.metrics)
    assert out["official"]["name"] == "macro_f1"
    assert {"micro_f1", "macro_f1", "weighted_f1", "samples_f1", "subset_accuracy", "hamming_loss",
            "accuracy"} <= set(out["scalars"]) and "f1_positive" not in out["scalars"]
    assert out["per_class"]["side_effects"]["support"] == 3 and out["confusion"]["kind"] == "multilabel"
    assert out["confusion"]["matrix"][2] == [[5, 1], [1, 1]]


def test_paired_bootstrap_works_on_label_sets() -> None:
    def official(gold, pred, extra):
        return m.macro_f1(m.ScoreInput(gold, pred, LABELS, multi_label=True))

    result = compare(GOLD, [GOLD, GOLD], [PRED, PRED], official, n_boot=200)
    assert result.delta > 0 and result.n_posts == len(GOLD)
    assert result.discordant == (5, 0)  # posts whose whole set only the variant gets right


def _variant(classifier: str, **params) -> VariantSpec:
    return VariantSpec(classifier, ComponentSpec(classifier, params))


class Shout(Augmenter):
    """A single-label augmenter (it does not declare multi_label): an upper-case copy of each post."""

    name = "shout"
    version = "1.0"

    def augment(self, train, ctx):
        return [*train, *(p.replace(id=f"{p.id}#shout", text=p.text.upper(), meta={"source_id": p.id})
                          for p in train)]


def test_the_runner_refuses_a_single_label_component_before_any_work(tmp_path: Path) -> None:
    plugin = types.SimpleNamespace(alexbench_register_augmenters=hookimpl(lambda registry: registry.add(Shout)))
    task = load_task(make_task(tmp_path))
    store = ResultsStore(tmp_path / "results")
    runner = Runner(PluginHost(plugins=[("shout-plugin", plugin)]), store, show_progress=False)
    variant = VariantSpec("shout+majority", ComponentSpec("majority"), (ComponentSpec("shout"),))
    with pytest.raises(UnsupportedTaskError, match=r"variant 'shout\+majority' cannot run on task 'ml': "
                                                   r"augmenter 'shout' does not support multi-label tasks"):
        runner.run(task, variant, 1)
    assert not list(store.runs()) and not (store.root / "failed").exists()


@pytest.mark.parametrize("balanced", ["none", "balanced"])
def test_tfidf_one_vs_rest_and_majority_run_on_label_sets(host, tmp_path: Path, balanced: str) -> None:
    task = load_task(make_task(tmp_path))
    store = ResultsStore(tmp_path / "results")
    runner = Runner(host, store, show_progress=False)
    for variant in (_variant("tfidf_logreg", class_weight=balanced), _variant("majority")):
        outcome = runner.run(task, variant, 1)
        assert outcome.ok
        metrics = outcome.run.metrics()
        assert metrics["test"]["official"]["name"] == "macro_f1"
        assert set(metrics["test"]["per_class"]) == set(LABELS)
        spec = outcome.run.spec()
        assert spec.task.multi_label and spec.to_dict()["task"]["multi_label"] is True
        rows = [r for r in outcome.run.predictions() if r["split"] == "test"]
        assert all(task.label_space.problem(r["pred"]) is None for r in rows)
        assert all(len(r["probs"]) == len(LABELS) for r in rows)
    majority = [r for r in outcome.run.predictions() if r["split"] == "test"]
    assert {r["pred"] for r in majority} == {"side_effects"}  # first of the most frequent sets (2 each)
    assert majority[0]["probs"] == pytest.approx([3 / 8, 2 / 8, 3 / 8])
    assert np.isfinite(metrics["test"]["scalars"]["hamming_loss"])


SHOUT_PLUGIN = """
from alexbench import hookimpl
from alexbench.interfaces import Augmenter


class Shout(Augmenter):
    name = "shout"
    version = "1.0"

    def augment(self, train, ctx):
        return list(train)


@hookimpl
def alexbench_register_augmenters(registry):
    registry.add(Shout)
"""


def test_a_grid_refuses_a_multi_label_task_for_an_unsupported_variant_before_any_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every built-in component handles label sets, so a third-party plugin that does not declare
    it is installed for real (a distribution with an ``alexbench`` entry point on sys.path, found
    by importlib.metadata as pip's would be); `run` refuses its variant before any run."""
    from click.testing import CliRunner

    from alexbench.cli.main import cli

    site = tmp_path / "site"
    (site / "alexbench_shout-1.0.dist-info").mkdir(parents=True)
    (site / "shout_plugin.py").write_text(SHOUT_PLUGIN)
    (site / "alexbench_shout-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: alexbench-shout\nVersion: 1.0\n")
    (site / "alexbench_shout-1.0.dist-info" / "entry_points.txt").write_text("[alexbench]\nshout = shout_plugin\n")
    monkeypatch.syspath_prepend(str(site))
    task = make_task(tmp_path)
    result = CliRunner().invoke(cli, ["--results", str(tmp_path / "results"), "run", "-t", str(task),
                                      "-v", "majority", "--classifier", "majority", "--augmenter", "shout",
                                      "--no-progress"])
    assert result.exit_code == 2, result.output
    assert "variant 'shout+majority' cannot run on task 'ml': augmenter 'shout' does not support" in result.output
    assert not (tmp_path / "results" / "runs").exists()


def test_the_vaccine_concerns_demo_is_what_its_script_writes(host, tmp_path: Path) -> None:
    import importlib.util

    from alexbench.config.tasks import TaskCatalog

    task = TaskCatalog(host.task_dirs()).load("vaccine_concerns")
    assert task.multi_label and task.empty == "none" and task.official_metric == "macro_f1"
    data = load_dataset(task)
    assert [len(data.train), len(data.dev), len(data.test)] == [360, 120, 120]
    counts = {label: sum(split.report.label_counts[label] for split in data.splits.values()) for label in task.labels}
    assert min(counts.values()) / 600 < 0.035 and sum(1 for n in counts.values() if n / 600 <= 0.05) >= 2
    spec = importlib.util.spec_from_file_location("make_data", task.path.parent / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module.generate()
    assert [line.split("\t") for line in task.split_path("test").read_text(encoding="utf-8").splitlines()[1:]] == \
        [list(row) for row in rows["test"]]


def test_leaderboards_show_per_label_f1_and_label_counts(host, tmp_path: Path) -> None:
    import csv
    import io
    import json

    from alexbench.report import board as lb
    from alexbench.report.csvjson import to_csv, to_json
    from alexbench.report.htmlpage import render_html
    from alexbench.report.latex import to_latex
    from alexbench.report.markdown import to_markdown

    task = load_task(make_task(tmp_path))
    store = ResultsStore(tmp_path / "results")
    runner = Runner(host, store, show_progress=False)
    for seed in (1, 2):
        for variant in (_variant("tfidf_logreg", class_weight="balanced"), _variant("majority")):
            assert runner.run(task, variant, seed).ok
    [board] = lb.build(store, baseline="majority", metrics=host.metrics, n_boot=200)
    assert board.multi_label and board.labels == LABELS
    top = next(r for r in board.rows if r.variant == "tfidf_logreg")
    assert top.comparison is not None and top.delta is not None
    majority = next(r for r in board.rows if r.variant == "majority")
    # majority predicts {side_effects} for all 8 test posts, 3 of which have it; summed over 2 seeds
    assert majority.label_counts["side_effects"] == {"gold": 6, "predicted": 16, "tp": 6, "fp": 10, "fn": 0}
    assert majority.label_counts["access"] == {"gold": 6, "predicted": 0, "tp": 0, "fp": 0, "fn": 6}
    assert majority.confusion[0] == [[0, 10], [0, 6]]  # [[tn, fp], [fn, tp]] per label

    markdown = to_markdown(board)
    assert "F1[side_effects]" in markdown and "samples_f1" in markdown and "hamming_loss" in markdown
    header = next(csv.reader(io.StringIO(to_csv(board))))
    assert {"test_f1_access_mean", "test_samples_f1_mean", "test_hamming_loss_mean"} <= set(header)
    data = json.loads(to_json(board))
    assert data["multi_label"] is True
    assert data["rows"][0]["test_label_counts_summed"]["access"]["gold"] == 6
    assert r"F1[side\_effects]" in to_latex(board)
    page = render_html([board])
    assert "Test label counts, summed over seeds" in page and "confusion matrices" not in page
    assert "Label-count shading" in page and "Confusion-matrix shading" not in page and "was predicted for" in page
    assert "F1 of label &#x27;access&#x27;" in page


def test_an_official_metric_that_cannot_score_label_sets_is_refused_when_the_task_is_read(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from alexbench.cli.main import cli

    path = make_task(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace('"macro_f1"', '"f1_positive"'), encoding="utf-8")
    for args in (["validate", str(path)], ["run", "-t", str(path), "-v", "majority", "--no-progress"]):
        result = CliRunner().invoke(cli, ["--results", str(tmp_path / "results"), *args])
        assert result.exit_code == 2, result.output
        assert "task.toml: metric.official: 'f1_positive' does not score label sets" in result.output
        assert "'samples_f1'" in result.output and "'hamming_loss'" in result.output and "'f1_positive'" not in \
            result.output.split("use one of")[1]
    assert not (tmp_path / "results" / "runs").exists()


def test_a_lower_is_better_official_metric_is_accepted_when_the_task_is_read(tmp_path: Path) -> None:
    """Leaderboards rank by the metric's direction (tests/test_lower_is_better.py): hamming_loss may be official."""
    from click.testing import CliRunner

    from alexbench.cli.main import cli

    path = make_task(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace('"macro_f1"', '"hamming_loss"'), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--results", str(tmp_path / "results"), "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "metric hamming_loss (lower is better)" in result.output
