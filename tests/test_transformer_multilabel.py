"""The transformer classifier on multi-label tasks (issue 18): the per-label losses against
torch's own, decision thresholds tuned on dev, the weighted sampler's post weights, and a real
MiniLM fit on a small sample of the vaccine_concerns demo (label sets, probabilities, thresholds
recorded and used, the cache, determinism). The real fits are kept small: about 60 train posts,
max_length 32, two epochs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from alexbench_transformers.labelsets import sample_weights, tune_thresholds  # noqa: E402
from alexbench_transformers.losses import binary_focal_loss, label_pos_weights, make_loss  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402

from alexbench.config.labels import LabelSpace  # noqa: E402
from alexbench.config.tasks import load_task  # noqa: E402
from alexbench.data.splits import load_dataset  # noqa: E402
from alexbench.errors import ParamError  # noqa: E402
from alexbench.interfaces import Context, join_labels  # noqa: E402
from alexbench.plugin.host import PluginHost  # noqa: E402
from alexbench.scoring.metrics import Metric, indicator  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CONCERNS = REPO / "plugins" / "alexbench_tasks" / "tasks" / "vaccine_concerns" / "task.toml"
SMALL = {"max_length": 32, "epochs": 2, "batch_size": 16, "lr": 2e-4, "warmup": 0.0}

LOGITS = torch.tensor([[2.0, -0.5, 0.3], [-1.0, 0.2, 3.0], [0.0, 1.5, -2.5], [4.0, -4.0, 0.7]])
TARGET = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
POS_WEIGHT = [0.5, 3.0, 7.0]


# -- losses ------------------------------------------------------------------------------------
def test_bce_with_pos_weight_is_torchs_bce_with_logits() -> None:
    weighted = make_loss("weighted_ce", POS_WEIGHT, 2.0, "cpu", multi_label=True)(LOGITS, TARGET)
    expected = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(POS_WEIGHT))(LOGITS, TARGET)
    assert weighted.item() == pytest.approx(expected.item(), abs=1e-7)
    plain = make_loss("ce", None, 2.0, "cpu", multi_label=True)(LOGITS, TARGET)
    assert plain.item() == pytest.approx(torch.nn.BCEWithLogitsLoss()(LOGITS, TARGET).item(), abs=1e-7)
    assert weighted.item() != pytest.approx(plain.item(), abs=1e-3)


def test_focal_with_gamma_zero_is_exactly_weighted_bce() -> None:
    for weight in (None, POS_WEIGHT):
        w = torch.tensor(weight) if weight else None
        focal = binary_focal_loss(LOGITS, TARGET, 0.0, w).item()
        assert focal == pytest.approx(torch.nn.BCEWithLogitsLoss(pos_weight=w)(LOGITS, TARGET).item(), abs=1e-6)
    via_make_loss = make_loss("focal", POS_WEIGHT, 0.0, "cpu", multi_label=True)(LOGITS, TARGET).item()
    assert via_make_loss == pytest.approx(binary_focal_loss(LOGITS, TARGET, 0.0, torch.tensor(POS_WEIGHT)).item())


def test_focal_matches_its_formula_and_down_weights_easy_decisions() -> None:
    gamma = 2.0
    total = 0.0
    for row, targets in zip(LOGITS.tolist(), TARGET.tolist()):
        for x, y, w in zip(row, targets, POS_WEIGHT):
            p = 1 / (1 + math.exp(-x))
            total += -(w * y * (1 - p) ** gamma * math.log(p) + (1 - y) * p ** gamma * math.log(1 - p))
    got = binary_focal_loss(LOGITS, TARGET, gamma, torch.tensor(POS_WEIGHT)).item()
    assert got == pytest.approx(total / LOGITS.numel(), rel=1e-5)

    def ratio(logit: float, y: float) -> float:  # focal / BCE for one decision
        x, t = torch.tensor([[logit]]), torch.tensor([[y]])
        return (binary_focal_loss(x, t, gamma) / binary_focal_loss(x, t, 0.0)).item()

    easy, hard = ratio(4.0, 1.0), ratio(-1.0, 1.0)  # p = 0.98 and p = 0.27 for a positive
    assert easy < 0.001 and hard > 0.5 and ratio(-4.0, 0.0) == pytest.approx(easy, rel=1e-4)


def test_pos_weights_auto_list_and_refusals() -> None:
    labels = ["a", "b", "c", "d"]
    weights, fallback = label_pos_weights("auto", "weighted_ce", [2, 5, 0, 10], 10, labels)
    assert weights == pytest.approx([8 / 2, 5 / 5, 1.0, 1.0]) and fallback == ["c", "d"]
    assert label_pos_weights("auto", "ce", [2, 5, 0, 10], 10, labels) == (None, [])
    assert label_pos_weights("none", "focal", [2, 5, 0, 10], 10, labels) == (None, [])
    assert label_pos_weights([1, 2, 3, 4], "focal", [2, 5, 0, 10], 10, labels) == ([1.0, 2.0, 3.0, 4.0], [])
    with pytest.raises(ParamError, match=r"class_weights has 2 values but the task has 4 labels"):
        label_pos_weights([1, 2], "weighted_ce", [2, 5, 0, 10], 10, labels)
    for loss in ("ce", "weighted_ce", "focal"):
        with pytest.raises(ParamError, match=r"parameter 'class_weights' = 'positive:2' weights the task's positive "
                                             r"label, and a multi-label task has none"):
            label_pos_weights("positive:2", loss, [2, 5, 0, 10], 10, labels)


# -- thresholds, decisions, sampler --------------------------------------------------------------
def test_thresholds_maximise_each_labels_f1() -> None:
    probs = np.array([[0.9, 0.75, 0.9], [0.8, 0.6, 0.1], [0.3, 0.25, 0.2], [0.2, 0.3, 0.4], [0.6, 0.1, 0.3]])
    gold = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0], [0, 0, 0], [0, 0, 0]], dtype=bool)
    no_positives = np.zeros((5, 1), dtype=bool)
    thresholds = tune_thresholds(np.column_stack([probs, probs[:, :1]]), np.column_stack([gold, no_positives]))
    # label 0: t = 0.3 catches all three positives at the cost of one (F1 6/7, the best);
    # label 1: 0.75 and 0.25 tie at F1 2/3 and are as near 0.5: the higher wins;
    # label 2: 0.9 and 0.5 both give F1 1: the nearest to 0.5 wins; label 3 has no positive: 0.5.
    assert thresholds == [0.3, 0.75, 0.5, 0.5]


def test_tuned_thresholds_agree_with_scikit_learn_on_random_data() -> None:
    rng = np.random.default_rng(0)
    probs = rng.random((200, 4)).round(2)  # rounding makes repeated values (and ties)
    gold = rng.random((200, 4)) < np.array([0.05, 0.2, 0.5, 0.02]) + probs * 0.3
    for j, t in enumerate(tune_thresholds(probs, gold)):
        candidates = sorted(set(probs[:, j].tolist()) | {0.5})
        scores = [f1_score(gold[:, j], probs[:, j] >= c, zero_division=0) for c in candidates]
        best = max(scores)
        assert f1_score(gold[:, j], probs[:, j] >= t, zero_division=0) == pytest.approx(best)
        tied = [c for c, s in zip(candidates, scores) if s == pytest.approx(best, abs=1e-12)]
        assert abs(t - 0.5) == min(abs(c - 0.5) for c in tied)


def test_decisions_use_each_labels_threshold_and_fall_back_only_without_a_none_value() -> None:
    labels = ("a", "b", "c")
    probs = np.array([[0.7, 0.2, 0.35], [0.1, 0.3, 0.2], [0.2, 0.9, 0.3]])
    thresholds = [0.8, 0.3, 0.35]
    with_none, without_none = LabelSpace(labels, True, empty="none"), LabelSpace(labels, True)
    assert with_none.decide(probs, thresholds) == ["c", "b", "b"]
    assert with_none.decide(probs * 0.1, thresholds) == ["", "", ""]
    assert without_none.decide(probs * 0.1, thresholds) == ["a", "b", "b"]  # every post has a label
    assert with_none.decide(probs, [0.0] * 3) == ["a|b|c"] * 3


def test_sampler_weights_follow_each_posts_rarest_label() -> None:
    y = indicator(["a", "a|b", "", "a", "", "b|c"], ["a", "b", "c"])  # a: 3, b: 2, c: 1, empty: 2
    assert sample_weights(y) == pytest.approx([6 / 3, 6 / 2, 6 / 2, 6 / 3, 6 / 2, 6 / 1])


def test_the_best_epoch_follows_the_metrics_direction() -> None:
    from alexbench_transformers.classifier import better

    up, down = Metric("f1", lambda d: 0.0), Metric("loss", lambda d: 0.0, higher_is_better=False)
    assert better(up, 0.5, None) and better(up, 0.6, 0.5) and not better(up, 0.5, 0.5) and not better(up, 0.4, 0.5)
    assert better(down, 0.5, None) and better(down, 0.4, 0.5) and not better(down, 0.5, 0.5)
    assert not better(down, 0.6, 0.5)


# -- a real fit on the vaccine_concerns demo ------------------------------------------------------
def build(**params):
    return PluginHost().component_class("classifier", "transformer").from_params({**SMALL, **params})


@pytest.fixture(scope="module")
def concerns():
    """Train: the first 6 posts of each concern and 24 posts with none (about 60); dev 40, test 30."""
    task = load_task(CONCERNS)
    data = load_dataset(task)
    chosen: dict[str, object] = {}
    for label in task.labels:
        for post in [p for p in data.train if label in task.label_set(p.label)][:6]:
            chosen[post.id] = post
    for post in [p for p in data.train if p.label == ""][:24]:
        chosen[post.id] = post
    train = sorted(chosen.values(), key=lambda p: p.id)
    return task, train, data.dev[:40], data.test[:30]


@pytest.fixture(scope="module")
def fitted(concerns, tmp_path_factory):
    task, train, dev, _ = concerns
    logs: list[str] = []
    ctx = Context(task=task, seed=7, device="cpu", cache_dir=tmp_path_factory.mktemp("cache"), log=logs.append)
    clf = build(loss="focal", sampler="weighted")
    return clf, clf.fit(train, dev, ctx), ctx, logs


@pytest.mark.slow
def test_a_fit_predicts_canonical_label_sets_with_a_probability_per_label(concerns, fitted) -> None:
    task, _, _, test = concerns
    clf, report, ctx, _ = fitted
    pred = clf.predict(test, ctx)
    assert len(pred.labels) == len(pred.probs) == len(test)
    for label, row in zip(pred.labels, pred.probs):
        assert join_labels(task.label_set(label), task.labels) == label and task.label_space.problem(label) is None
        assert len(row) == len(task.labels) and all(0.0 <= v <= 1.0 for v in row)
    assert any(abs(sum(row) - 1) > 0.05 for row in pred.probs)  # a sigmoid per label, not a softmax
    assert clf.predict([], ctx).labels == []


@pytest.mark.slow
def test_the_report_records_counts_weights_and_the_chosen_epochs_thresholds(concerns, fitted) -> None:
    task, train, dev, test = concerns
    clf, report, ctx, logs = fitted
    y = indicator([p.label for p in train], task.labels)
    assert report["train_label_counts"] == {label: int(y[:, j].sum()) for j, label in enumerate(task.labels)}
    assert report["pos_weight"] == pytest.approx({label: (len(train) - c) / c
                                                  for label, c in report["train_label_counts"].items()})
    assert "class_weights" not in report and report["threshold_tuning"] == "dev_f1"
    assert list(report["thresholds"]) == list(task.labels)
    assert not any(line.startswith("WARNING") for line in logs), logs
    # The thresholds are those tuned on dev with the kept model, and the ones predict uses.
    thresholds = [report["thresholds"][label] for label in task.labels]
    dev_probs = np.array(clf.predict(dev, ctx).probs)
    assert tune_thresholds(dev_probs, indicator([p.label for p in dev], task.labels)) == thresholds
    assert any(t != 0.5 for t in thresholds)
    pred = clf.predict(test, ctx)
    assert pred.labels == task.label_space.decide(pred.probs, thresholds)
    scores = [row["dev_macro_f1"] for row in report["epochs"]]
    assert report["best_dev"] == max(scores) and report["chosen_epoch"] == scores.index(max(scores)) + 1
    json.dumps(report)  # the report is stored as JSON


@pytest.mark.slow
def test_a_cache_hit_restores_the_thresholds_and_predicts_identically(concerns, fitted) -> None:
    task, train, dev, test = concerns
    clf, report, ctx, _ = fitted
    again = build(loss="focal", sampler="weighted")
    cached = again.fit(train, dev, ctx)
    assert cached["cached"] is True and cached["cache_key"] == report["cache_key"]
    assert cached["thresholds"] == report["thresholds"]
    first, second = clf.predict(test, ctx), again.predict(test, ctx)
    assert second.labels == first.labels and second.probs == first.probs


@pytest.mark.slow
def test_the_same_seed_gives_the_same_model_and_thresholds(concerns, fitted) -> None:
    task, train, dev, test = concerns
    clf, report, ctx, _ = fitted
    twin = build(loss="focal", sampler="weighted")
    twin_report = twin.fit(train, dev, Context(task=task, seed=7, device="cpu"))  # no cache: trained again
    assert twin_report["cached"] is False and twin_report["thresholds"] == report["thresholds"]
    assert twin_report["epochs"][-1]["train_loss"] == report["epochs"][-1]["train_loss"]
    assert twin.predict(test, ctx).probs == clf.predict(test, ctx).probs


def test_positive_weight_on_a_multi_label_task_is_a_clear_error_before_training(concerns) -> None:
    task, train, dev, _ = concerns
    clf = build(loss="weighted_ce", class_weights="positive:2")
    with pytest.raises(ParamError, match=r"classifier 'transformer': parameter 'class_weights' = 'positive:2'"):
        clf.fit(train, dev, Context(task=task, seed=0, device="cpu"))
