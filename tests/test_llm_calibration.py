"""The score verdict's threshold, chosen on dev by the task's official metric (plugin
alexbench_llm.calibration), with the demo task's real metric; and reading P(true)/P(false) out of
OpenAI-style token logprobs."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

from alexbench.config.tasks import load_task
from alexbench.plugin.host import PluginHost
from alexbench.scoring.metrics import score

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plugins"))
from alexbench_llm.calibration import candidate_thresholds, select_threshold  # noqa: E402
from alexbench_llm.parse import verdict_probs  # noqa: E402

GOLD = ["1", "0", "0", "1", "0", "1"]
P_FALSE = [0.2, 0.9, 0.7, 0.6, 0.4, 0.1]


@pytest.fixture(scope="module")
def demo_f1():
    """The demo task's official metric (F1 of class "1") through the host's real metric registry."""
    task = load_task(REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml")
    metrics = PluginHost().metrics

    def objective(labels):
        return score(task, GOLD, list(labels), metrics)["official"]["value"]

    return objective


def test_the_threshold_known_by_hand(demo_f1) -> None:
    """Six dev posts, all predicted "1"; a flip gives "0". F1 of class 1 by threshold, by hand:
    flip none 0.667 (TP 3, FP 3), flip 0.9: 0.750, flip 0.9 and 0.7: 0.857 (TP 3, FP 1), + 0.6
    (a true positive): 0.667, + 0.4: 0.800, + 0.2: 0.500, all: 0.0. The best is to flip the posts
    with P(false) >= the midpoint between 0.7 and 0.6."""
    choice = select_threshold(["1"] * 6, [(i, p, "0") for i, p in enumerate(P_FALSE)], demo_f1)
    assert choice.threshold == pytest.approx(0.65)
    assert choice.objective == pytest.approx(6 / 7) and choice.objective_without_flips == pytest.approx(2 / 3)
    assert choice.flips == 2 and choice.scored == 6
    assert [round(c.objective, 3) for c in choice.candidates] == [0.667, 0.75, 0.857, 0.667, 0.8, 0.5, 0.0]
    assert [c.flips for c in choice.candidates] == [0, 1, 2, 3, 4, 5, 6]
    assert [c.threshold for c in choice.candidates] == pytest.approx([0.95, 0.8, 0.65, 0.5, 0.3, 0.15, 0.05])


def test_a_lower_is_better_official_metric_picks_the_smallest_value() -> None:
    """A lower-is-better objective (the share of wrong posts, hamming-loss style) on the same six
    posts: flipping in order of P(false) leaves 3, 2, 1, 2, 1, 2, 3 wrong; the smallest (1/6) is
    reached at 0.65 (2 flips) and at 0.3 (4 flips), and of equally good thresholds the highest
    wins. Maximising instead would pick a threshold with 3 wrong."""
    from alexbench.scoring.metrics import higher_is_better

    metrics = PluginHost().metrics
    assert not higher_is_better("hamming_loss") and not higher_is_better("hamming_loss", metrics)

    def loss(labels):
        return sum(g != p for g, p in zip(GOLD, labels)) / len(GOLD)

    scored = [(i, p, "0") for i, p in enumerate(P_FALSE)]
    lowest = select_threshold(["1"] * 6, scored, loss, higher_is_better=False)
    assert [round(c.objective * 6) for c in lowest.candidates] == [3, 2, 1, 2, 1, 2, 3]
    assert lowest.flips == 2 and lowest.objective == pytest.approx(1 / 6)
    assert lowest.threshold == pytest.approx(0.65)
    assert min(c.objective for c in lowest.candidates) == pytest.approx(lowest.objective)
    highest = select_threshold(["1"] * 6, scored, loss)
    assert highest.objective == pytest.approx(3 / 6) and highest.flips == 0


def test_equal_scores_flip_together_and_ties_keep_the_classifier_label(demo_f1) -> None:
    """All six predicted "1" (F1 0.667 without flips)."""
    # Two wrong positives with the same score flip together: 0.857, better than flipping all
    # three scored posts (a true positive too: 0.667).
    pair = select_threshold(["1"] * 6, [(1, 0.8, "0"), (2, 0.8, "0"), (0, 0.3, "0")], demo_f1)
    assert pair.threshold == pytest.approx(0.55) and pair.flips == 2 and pair.objective == pytest.approx(6 / 7)
    # Flipping the only scored post (a true positive) lowers F1 to 0.5: nothing flips, and the
    # threshold lies above its score.
    none = select_threshold(["1"] * 6, [(0, 0.99, "0")], demo_f1)
    assert none.flips == 0 and none.threshold == pytest.approx(0.995) and none.objective == pytest.approx(2 / 3)
    # A true positive scored highest, then two wrong positives: flipping all three (TP 2, FP 1,
    # FN 1) scores 0.667 exactly as flipping none does, and nothing in between is better
    # (0.5, 0.571): of the two, the classifier's labels are kept.
    tie = select_threshold(["1"] * 6, [(3, 0.9, "0"), (4, 0.8, "0"), (2, 0.7, "0")], demo_f1)
    assert [round(c.objective, 3) for c in tie.candidates] == [0.667, 0.5, 0.571, 0.667]
    assert tie.flips == 0 and tie.threshold == pytest.approx(0.95)


def test_candidate_thresholds_separate_every_distinct_score() -> None:
    assert candidate_thresholds([]) == []
    assert candidate_thresholds([0.5, 0.5]) == pytest.approx([0.75, 0.25])
    top = candidate_thresholds([1.0, 0.0])
    assert top[0] > 1.0 and top[1:] == [0.5, 0.0]  # P(false) = 1 exactly: "flip none" is just above 1
    # Each threshold flips exactly the scores at or above it and none below.
    scores = [0.1, 0.35, 0.35, 0.9]
    for t in candidate_thresholds(scores):
        assert all((s >= t) == (s > t) for s in scores)


def test_verdict_probabilities_from_token_logprobs() -> None:
    """Gemma's tokens from the local server (' {"', 'ver', 'dict', '":', ' true') and OpenAI-style
    ones ('{"', 'verdict', '":', 'false'), and a token that holds the key, the value and more."""
    gemma = [(' {"', -0.009, []), ("ver", -0.0007, []), ("dict", -0.0004, []), ('":', -0.0001, []),
             (" true", -0.436, [(" true", -0.436), (" false", -1.054), (' "', -5.69)]), (",", -0.002, [])]
    p_true, p_false = verdict_probs(gemma)
    assert p_true == pytest.approx(math.exp(-0.436)) and p_false == pytest.approx(math.exp(-1.054))
    openai = [('{"', 0.0, []), ("verdict", 0.0, []), ('":', 0.0, []),
              ("false", -0.2, [("false", -0.2), ("true", -1.8), ("fal", -3.0)])]
    p_true, p_false = verdict_probs(openai)
    assert p_true == pytest.approx(math.exp(-1.8)) and p_false == pytest.approx(math.exp(-0.2) + math.exp(-3.0))
    merged = [('{"verdict":true,', -0.3, [('{"verdict":true,', -0.3), ('{"verdict":false,', -1.5)])]
    assert verdict_probs(merged) == pytest.approx((math.exp(-0.3), math.exp(-1.5)))
    # No verdict value in the tokens, or none of the alternatives is a boolean: no probabilities.
    assert verdict_probs([("Sure", 0.0, []), ("!", 0.0, [])]) is None
    assert verdict_probs([('{"verdict": ', 0.0, []), ('"maybe"', -0.1, [('"maybe"', -0.1)])]) is None
