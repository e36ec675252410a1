"""Significance tests against hand computations and known distributions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alexbench.scoring.significance import compare, holm, mcnemar_exact


def accuracy(gold, pred, extra):
    return sum(g == p for g, p in zip(gold, pred)) / len(gold)


def test_mcnemar_exact_by_hand() -> None:
    gold = ["1"] * 10
    a = ["1"] * 8 + ["0"] * 2
    b = ["0"] * 8 + ["1"] * 2
    # discordant: a right/b wrong = 8, a wrong/b right = 2 -> two-sided binomial(8 of 10, 0.5)
    p, disc = mcnemar_exact(gold, a, b)
    assert disc == (8, 2)
    assert p == pytest.approx(2 * sum(__import__("math").comb(10, k) for k in range(8, 11)) / 2**10)
    assert mcnemar_exact(gold, a, a) == (1.0, (0, 0))


def test_holm_by_hand() -> None:
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5]) == [0.5]


@given(st.lists(st.floats(0, 1), min_size=1, max_size=12))
def test_holm_is_monotone_and_bounded(ps) -> None:
    adjusted = holm(ps)
    assert all(a >= p - 1e-12 and a <= 1.0 for a, p in zip(adjusted, ps))
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    assert all(adjusted[order[k]] <= adjusted[order[k + 1]] + 1e-12 for k in range(len(ps) - 1))


def test_bootstrap_detects_a_real_difference_and_not_a_null_one() -> None:
    gold = (["1", "0"] * 100)
    better = [gold[:]]                                   # always right
    worse = [[g if i % 3 else ("0" if g == "1" else "1") for i, g in enumerate(gold)]]  # 1/3 wrong
    c = compare(gold, better, worse, accuracy, n_boot=500)
    assert c.delta == pytest.approx(67 / 200) and c.ci_low > 0.2 and c.p_bootstrap < 0.01
    assert c.discordant[0] == 67 and c.p_mcnemar < 1e-10
    same = compare(gold, worse, worse, accuracy, n_boot=200)
    assert same.delta == 0 and same.p_bootstrap == 1.0 and same.p_mcnemar == 1.0
    assert compare(gold, better, worse, accuracy, n_boot=300, seed=5) == compare(gold, better, worse, accuracy, n_boot=300, seed=5)


# --- the counted bootstrap: the same floats as calling the metric on every resample -----------

from alexbench.scoring.metrics import BUILTIN_METRICS, ScoreInput  # noqa: E402
from alexbench.scoring.significance import Counted  # noqa: E402

COUNTED = [m for m in BUILTIN_METRICS if m.from_tables is not None]
LABELS = ("FAVOR", "AGAINST", "NONE")


def _on_posts(metric, params, positive):
    def fn(gold, pred, extra):
        value = metric(ScoreInput(gold, pred, LABELS, positive, extra, params))
        return float(value if value is not None else 0.0)
    return fn


def test_every_counting_builtin_is_counted() -> None:
    """The single-label built-ins all count; a metric added without ``from_tables`` would be
    bootstrapped the slow way, so the list is checked, not assumed."""
    assert {m.name for m in COUNTED} == {"f1_positive", "micro_f1", "macro_f1", "weighted_f1", "accuracy",
                                         "grouped_macro_f1"}


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_counted_bootstrap_equals_the_metric_called_on_every_resample(data) -> None:
    n = data.draw(st.integers(1, 80))
    label = st.sampled_from(LABELS)
    gold = data.draw(st.lists(label, min_size=n, max_size=n))
    seeds_a, seeds_b = (data.draw(st.lists(st.lists(label, min_size=n, max_size=n), min_size=1, max_size=3))
                        for _ in range(2))
    extra = [{"claim": c} for c in data.draw(st.lists(st.sampled_from("uvwxyz"), min_size=n, max_size=n))]
    params = data.draw(st.sampled_from([{}, {"labels": ["FAVOR", "AGAINST"]},
                                        {"group_by": "claim", "labels": ["FAVOR", "AGAINST"]}]))
    positive = data.draw(st.sampled_from([None, "FAVOR"]))
    metric = data.draw(st.sampled_from(COUNTED))
    slow = compare(gold, seeds_a, seeds_b, _on_posts(metric, params, positive), extra, n_boot=60, seed=3)
    fast = compare(gold, seeds_a, seeds_b, _on_posts(metric, params, positive), extra, n_boot=60, seed=3,
                   counted=Counted(metric.from_tables, LABELS, positive, params))
    assert fast == slow  # every field, exactly: delta, CI, p-values


def test_counted_grouped_bootstrap_sums_the_groups_in_the_metrics_order() -> None:
    """The mean over claims adds the claims' scores in the order they first occur among the
    resampled posts; another order changes the last bit of ~1 sum in 4, so a counted bootstrap
    that sorted the groups would drift from the metric. Seeded cases with six claims."""
    grouped = next(m for m in COUNTED if m.name == "grouped_macro_f1")
    params = {"group_by": "claim", "labels": ["FAVOR", "AGAINST"]}
    rng = __import__("random").Random(0)
    for _ in range(12):
        n = rng.randint(20, 80)
        gold, a, b = ([rng.choice(LABELS) for _ in range(n)] for _ in range(3))
        extra = [{"claim": rng.choice("uvwxyz")} for _ in range(n)]
        on_posts = _on_posts(grouped, params, None)
        assert compare(gold, [a], [b], on_posts, extra, n_boot=60) == compare(
            gold, [a], [b], on_posts, extra, n_boot=60, counted=Counted(grouped.from_tables, LABELS, None, params))


def test_counted_bootstrap_falls_back_where_it_cannot_count() -> None:
    """A label outside the task's set, or a post without the grouping column: the metric itself
    is called, so its own error (or value) is what the user sees."""
    macro = next(m for m in COUNTED if m.name == "macro_f1")
    gold, pred = ["FAVOR", "NONE"] * 5, ["FAVOR", "OTHER"] * 5
    with pytest.raises(ValueError, match="'OTHER' is not one of"):
        compare(gold, [pred], [gold], _on_posts(macro, {}, None), n_boot=5,
                counted=Counted(macro.from_tables, LABELS))
    grouped = next(m for m in COUNTED if m.name == "grouped_macro_f1")
    params = {"group_by": "claim"}
    with pytest.raises(KeyError, match="claim"):
        compare(gold, [gold], [gold], _on_posts(grouped, params, None), [{"claim": "x"}] * 9 + [{}], n_boot=5,
                counted=Counted(grouped.from_tables, LABELS, None, params))
