"""Golden tests: values computed by hand for small confusion matrices."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alexbench.interfaces import Explanation
from alexbench.scoring.explainer_stats import explainer_stats
from alexbench.scoring.metrics import (
    ScoreInput,
    accuracy,
    confusion,
    f1_positive,
    grouped_macro_f1,
    macro_f1,
    micro_f1,
    per_class,
    weighted_f1,
)
from alexbench.scoring.results import ExplanationRow

# 3 classes. gold/pred pairs:  a→a ×3, a→b ×1, b→b ×2, b→c ×1, c→c ×1, c→a ×2
GOLD = ["a"] * 4 + ["b"] * 3 + ["c"] * 3
PRED = ["a", "a", "a", "b", "b", "b", "c", "c", "a", "a"]
LABELS = ["a", "b", "c"]


def test_confusion_matrix_by_hand() -> None:
    assert confusion(GOLD, PRED, LABELS) == [[3, 1, 0], [0, 2, 1], [2, 0, 1]]


def test_per_class_by_hand() -> None:
    pc = per_class(GOLD, PRED, LABELS)
    # a: tp 3, fp 2, fn 1 -> P 3/5, R 3/4, F1 = 2*.6*.75/1.35 = 2/3
    assert pc["a"]["precision"] == pytest.approx(0.6)
    assert pc["a"]["recall"] == pytest.approx(0.75)
    assert pc["a"]["f1"] == pytest.approx(2 / 3)
    # b: tp 2, fp 1, fn 1 -> P = R = F1 = 2/3
    assert pc["b"]["f1"] == pytest.approx(2 / 3)
    # c: tp 1, fp 1, fn 2 -> P 1/2, R 1/3, F1 = 2*(1/6)/(5/6) = 0.4
    assert pc["c"]["f1"] == pytest.approx(0.4)
    assert [pc[x]["support"] for x in LABELS] == [4, 3, 3]


def test_averages_by_hand() -> None:
    d = ScoreInput(GOLD, PRED, LABELS, positive="c")
    assert accuracy(d) == pytest.approx(0.6)
    assert micro_f1(d) == pytest.approx(0.6)  # single-label: micro-F1 == accuracy
    assert macro_f1(d) == pytest.approx((2 / 3 + 2 / 3 + 0.4) / 3)
    assert weighted_f1(d) == pytest.approx((4 * 2 / 3 + 3 * 2 / 3 + 3 * 0.4) / 10)
    assert f1_positive(d) == pytest.approx(0.4)
    assert f1_positive(ScoreInput(GOLD, PRED, LABELS)) is None
    assert macro_f1(ScoreInput(GOLD, PRED, LABELS, params={"labels": ["a", "b"]})) == pytest.approx(2 / 3)


def test_grouped_macro_f1_by_hand() -> None:
    # group x: gold F,A pred F,F -> F: P 1/2 R 1 F1 2/3; A: 0 -> macro 1/3
    # group y: gold F,A pred F,A -> 1.0 ; mean = 2/3
    d = ScoreInput(["F", "A", "F", "A"], ["F", "F", "F", "A"], ["F", "A", "N"],
                   extra=[{"g": "x"}, {"g": "x"}, {"g": "y"}, {"g": "y"}],
                   params={"labels": ["F", "A"], "group_by": "g"})
    assert grouped_macro_f1(d) == pytest.approx((1 / 3 + 1.0) / 2)


def test_degenerate_cases() -> None:
    d = ScoreInput(["0", "0"], ["0", "0"], ["0", "1"], positive="1")
    assert f1_positive(d) == 0.0  # no positives at all: F1 defined as 0, not a crash
    with pytest.raises(ValueError, match="'x' is not one of"):
        confusion(["0"], ["x"], ["0", "1"])
    with pytest.raises(ValueError, match="1 gold labels but 2 predictions"):
        confusion(["0"], ["0", "1"], ["0", "1"])


def test_explainer_stats() -> None:
    exps = [
        Explanation("1", "1", "1", "not_sent"),
        Explanation("2", "1", "0", "ok", False, details={"latency_s": 1.0}),
        Explanation("3", "1", "0", "ok", False, details={"latency_s": 3.0}),
        Explanation("4", "1", "1", "unparsable"),
    ]
    stats = explainer_stats(exps, {"1": "1", "2": "0", "3": "1", "4": "0"})
    assert (stats.sent, stats.flips, stats.flips_fixed, stats.flips_broke) == (3, 2, 1, 1)
    assert stats.flip_precision == pytest.approx(0.5)
    assert stats.unparsable_rate == pytest.approx(1 / 3)
    assert stats.mean_latency_s == pytest.approx(2.0)
    # the stored rows give the same statistics
    assert explainer_stats([ExplanationRow.from_explanation(e) for e in exps], {"1": "1", "2": "0", "3": "1",
                                                                                "4": "0"}) == stats


labels_st = st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=80)


@given(gold=labels_st, data=st.data())
def test_metric_invariants(gold, data) -> None:
    pred = data.draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=len(gold), max_size=len(gold)))
    d = ScoreInput(gold, pred, ["a", "b", "c"], positive="a")
    for value in (accuracy(d), micro_f1(d), macro_f1(d), weighted_f1(d), f1_positive(d)):
        assert 0.0 <= value <= 1.0
    assert micro_f1(d) == pytest.approx(accuracy(d))
    assert sum(map(sum, confusion(gold, pred, ["a", "b", "c"]))) == len(gold)
    perfect = ScoreInput(gold, gold, ["a", "b", "c"], positive="a")
    assert accuracy(perfect) == 1.0 and all(
        v["f1"] == 1.0 for k, v in per_class(gold, gold, ["a", "b", "c"]).items() if v["support"])
