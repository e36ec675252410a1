"""Significance tests against hand computations and known distributions."""

from __future__ import annotations

import pytest
from hypothesis import given
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
