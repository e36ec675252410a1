"""A lower-is-better official metric (hamming_loss on a multi-label task): leaderboards rank the
lowest first, mark it best, judge Δ and count wins by the metric's direction, and every format
says the direction where it shows the official metric."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from alexbench.config.tasks import load_task
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.interfaces import Classifier, Prediction, join_labels
from alexbench.kit.inline import make_host
from alexbench.kit.tasks import write_tiny_task
from alexbench.report import board as lb
from alexbench.report.board import Leaderboard, Row, Stat
from alexbench.run.runner import Runner
from alexbench.run.store import ResultsStore
from alexbench.scoring.metrics import higher_is_better
from alexbench.scoring.significance import compare, verdict


class AllLabels(Classifier):
    """Multi-label: every label for every post (many wrong decisions: a high Hamming loss)."""

    name = "all_labels"
    version = "1.0"
    multi_label = True

    def fit(self, train, dev, ctx):
        return {}

    def predict(self, posts, ctx):
        every = join_labels(ctx.task.labels, ctx.task.labels)
        return Prediction([every] * len(posts), [[1.0] * len(ctx.task.labels) for _ in posts])


def _task(root: Path, metric: str) -> Path:
    path = write_tiny_task(root, "multilabel")
    path.write_text(path.read_text(encoding="utf-8").replace('official = "macro_f1"', f'official = "{metric}"'),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def boards(tmp_path_factory):
    """The kit's multi-label task twice: hamming_loss official (lower is better) and, as another
    task, macro_f1 official; three variants, two seeds each, majority the baseline."""
    root = tmp_path_factory.mktemp("lower")
    host = make_host(AllLabels)
    store = ResultsStore(root / "results")
    runner = Runner(host, store, show_progress=False)
    hamming = load_task(_task(root / "hamming", "hamming_loss"))
    macro_path = _task(root / "macro", "macro_f1")
    macro_path.write_text(macro_path.read_text(encoding="utf-8").replace('"kit_multilabel"', '"kit_ml_macro"'),
                          encoding="utf-8")
    macro = load_task(macro_path)
    variants = [VariantSpec("majority", ComponentSpec("majority")), VariantSpec("all_labels", ComponentSpec("all_labels")),
                VariantSpec("tfidf", ComponentSpec("tfidf_logreg", {"class_weight": "balanced"}))]
    for task in (hamming, macro):
        for variant in variants:
            for seed in (1, 2):
                assert runner.run(task, variant, seed).ok
    built = lb.build(store, baseline="majority", metrics=host.metrics, n_boot=200)
    return {b.task: b for b in built}


def test_the_lowest_ranks_first_and_is_best(boards) -> None:
    board = boards["kit_multilabel"]
    assert board.official_metric == "hamming_loss" and not board.higher_is_better
    means = [r.test_official.mean for r in board.rows]
    assert means == sorted(means) and len(set(means)) == 3  # lowest first, no ties to hide the order
    assert board.rows[-1].variant == "all_labels"  # every label on every post: the most wrong decisions
    for row in board.rows:
        assert row.test_official.values == [row.scalars["hamming_loss"].values[i] for i in range(2)]
    from alexbench.report.table import build_table

    model = build_table(board)
    assert model.best == means[0] and model.is_best(board.rows[0]) and not model.is_best(board.rows[-1])
    # The higher-is-better board of the same runs ranks the other way round by its own metric.
    other = boards["kit_ml_macro"]
    assert other.higher_is_better and [r.test_official.mean for r in other.rows] == \
        sorted((r.test_official.mean for r in other.rows), reverse=True)


def test_delta_sign_and_significance_direction(boards) -> None:
    board = boards["kit_multilabel"]
    base = next(r for r in board.rows if r.variant == "majority")
    for row in board.rows:
        if row is base:
            assert row.delta is None and row.comparison is None
            continue
        assert row.delta == pytest.approx(row.test_official.mean - base.test_official.mean)  # variant − baseline
        c = row.comparison
        assert c is not None and c.delta == pytest.approx(row.delta) and c.higher_is_better is False
        assert c.ci_low <= c.delta <= c.ci_high
        assert c.verdict() == ("better" if row.delta < 0 else "worse")
        assert c.to_dict()["higher_is_better"] is False
    worst = board.rows[-1]
    assert worst.delta > 0 and worst.comparison.verdict() == "worse"
    assert worst.comparison.ci_low > 0  # the whole CI on the worse side: every label everywhere loses
    best = board.rows[0]  # tfidf beats predicting the commonest set ("none") on Hamming loss: Δ < 0 is better
    assert best.variant == "tfidf" and best.delta < 0 and best.comparison.verdict() == "better"
    # On the macro-F1 board the same variant is judged by that metric's direction.
    other = next(r for r in boards["kit_ml_macro"].rows if r.variant == "all_labels")
    assert other.comparison.higher_is_better and "higher_is_better" not in other.comparison.to_dict()
    assert other.comparison.verdict() == ("better" if other.delta > 0 else "worse")


def test_verdicts_and_the_direction_of_metrics() -> None:
    assert verdict(-0.1, higher_is_better=False) == "better" and verdict(0.1, higher_is_better=False) == "worse"
    assert verdict(0.1) == "better" and verdict(-0.1) == "worse" and verdict(0.0, False) == "same"
    assert higher_is_better("hamming_loss") is False and higher_is_better("macro_f1") is True
    assert higher_is_better("a_plugin_metric_nobody_registered") is True

    def count(gold, pred, extra):  # a lower-is-better statistic: wrong posts
        return float(sum(g != p for g, p in zip(gold, pred)))

    gold = ["a", "b"] * 20
    better = compare(gold, [gold], [["a"] * 40], count, n_boot=200, higher_is_better=False)
    assert better.delta == -20 and better.verdict() == "better" and better.ci_high < 0


def _row(variant: str, score: float) -> Row:
    return Row(task="t", variant=variant, official_metric="m", seeds=[1], run_ids=["r"], test_official=Stat([score]),
               dev_official=Stat([score]), scalars={}, per_class_f1={})


def test_the_ranking_across_tasks_counts_wins_by_each_metrics_direction() -> None:
    up = Leaderboard("f1_task", "macro_f1", [], [_row("a", 0.8), _row("b", 0.6), _row("c", 0.4)])
    down = Leaderboard("loss_task", "hamming_loss", [], [_row("a", 0.05), _row("b", 0.10), _row("c", 0.30)],
                       higher_is_better=False)
    ranks = {r["variant"]: r for r in lb.ranking([up, down])}
    assert ranks["a"]["mean_rank"] == 1 and ranks["a"]["win_rate"] == 1.0  # best on both: highest F1, lowest loss
    assert ranks["c"]["mean_rank"] == 3 and ranks["c"]["win_rate"] == 0.0
    assert [r["variant"] for r in lb.ranking([up, down])] == ["a", "b", "c"]
    # Read the loss higher-is-better and "c" would win that task: the direction decides.
    wrong = Leaderboard("loss_task", "hamming_loss", [], down.rows)
    assert {r["variant"]: r["mean_rank"] for r in lb.ranking([up, wrong])}["c"] == 2


def test_every_format_says_the_direction(boards, tmp_path: Path) -> None:
    from alexbench.report.csvjson import to_csv, to_json
    from alexbench.report.htmlpage import render_html
    from alexbench.report.latex import to_latex
    from alexbench.report.markdown import to_markdown
    from alexbench.report.terminal import to_rich

    board = boards["kit_multilabel"]
    assert "Official metric: `hamming_loss` (lower is better) on test" in to_markdown(board)
    assert "official metric: hamming_loss (lower is better) (test" in str(to_rich(board).title)
    latex = to_latex(board)
    assert r"official metric hamming\_loss (lower is better) on test" in latex
    assert rf"\textbf{{{board.rows[0].test_official.mean:.3f}}}" in latex  # the lowest is bold
    table = list(csv.DictReader(io.StringIO(to_csv(board))))
    assert [r["variant"] for r in table] == [r.variant for r in board.rows]
    assert {r["official_direction"] for r in table} == {"lower is better"}
    data = json.loads(to_json(board))
    assert data["official_higher_is_better"] is False and data["official_metric"] == "hamming_loss"
    page = render_html(list(boards.values()))
    assert "Official metric <b>hamming_loss</b> (lower is better) on test" in page
    assert "a lower-is-better metric ranks the lowest first" in page
    section = page.split('data-task="kit_multilabel"')[1]
    for variant, colour in (("all_labels", "neg"), ("tfidf", "pos")):  # the Δ colour is better/worse, not the sign
        cell = section.split(f'data-variant="{variant}"')[1].split("</tr>")[0]
        assert f'<span class="delta {colour}" title="paired bootstrap' in cell
    assert "(lower is better: a negative Δ is an improvement)" in page
    # The higher-is-better board of the same page says nothing of a direction.
    macro = boards["kit_ml_macro"]
    assert "(lower is better)" not in to_markdown(macro) + to_latex(macro) + to_csv(macro) + to_json(macro)


def test_the_official_plot_says_the_direction(boards, monkeypatch) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib.figure

    from alexbench.report.plots import official_png

    # The title and axis label are drawn into the PNG: read them from the real figure as it is saved.
    texts: list[str] = []
    save = matplotlib.figure.Figure.savefig

    def saving(fig, *args, **kwargs):
        texts.extend(t for ax in fig.axes for t in (ax.get_title(loc="left"), ax.get_xlabel()))
        return save(fig, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", saving)
    assert official_png(boards["kit_multilabel"]).startswith(b"\x89PNG")
    assert any(t.startswith("kit_multilabel: hamming_loss (lower is better)") for t in texts)
    assert any(t.startswith("test hamming_loss (lower is better)") for t in texts)


def test_rescore_says_the_direction(boards) -> None:
    from click.testing import CliRunner

    from alexbench.cli.main import cli

    run = boards["kit_multilabel"].rows[0].runs[0]
    original = (run.path / "metrics.json").read_bytes()
    metrics = json.loads(original)
    metrics["test"]["official"]["value"] = 0.999
    (run.path / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--results", str(run.path.parents[3]), "rescore", "--run", str(run.path),
                                      "--write"])
    assert result.exit_code == 0, result.output
    assert "test hamming_loss (lower is better) = " in result.output
    assert json.loads((run.path / "metrics.json").read_bytes()) == json.loads(original)
