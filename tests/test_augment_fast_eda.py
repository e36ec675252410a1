"""The fast EDA engine against real TextAttack: the text each edit makes, and each of EDA's four
walks (synonym replacement, deletion, swap, insertion) and their pooled output sampled from the
same distribution, shown with chi-square tests over many seeds (p-values printed with ``-s`` and
recorded in docs/augmenters.md). Both sides are seeded: the p-values are fixed numbers."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from alexbench_augment import eda_fast
from alexbench_augment.eda_fast import FastEdaEngine, Segments
from alexbench_augment.generation import MENTION_PLACEHOLDER
from alexbench_augment.nltkdata import ENGLISH_STOPWORDS
from alexbench_augment.ta_tables import words_from_text
from hypothesis import given, settings
from hypothesis import strategies as st

from .stats import chi2_p

REPO = Path(__file__).resolve().parents[1]
STOPWORDS = frozenset(ENGLISH_STOPWORDS) | {MENTION_PLACEHOLDER}
ALPHA = 0.001
PARTS = {"replace": "synonym_replacement", "delete": "random_deletion", "swap": "random_swap",
         "insert": "random_insertion"}


def test_insertion_synonyms_equal_the_textattack_transformation(ta, demo_positives) -> None:
    insertion = ta.SortedWordInsertionRandomSynonym()
    words = sorted({w for text in demo_positives[:40] for w in words_from_text(text)})
    assert len(words) > 100
    for word in words:
        assert list(eda_fast.INSERTION_SYNONYMS(word)) == insertion._get_synonyms(word)


@given(st.data())
@settings(max_examples=300, deadline=None)
def test_deletions_space_the_text_as_attacked_text_does(ta, demo_positives, data) -> None:
    """Deletions one after another, in any order, as TextAttack's walk makes them."""
    from textattack.shared import AttackedText

    text = data.draw(st.sampled_from(demo_positives + ["a b", "  a  b c ", "(a) b, c!", "a - b - c", "x"]))
    seg = Segments(text)
    order = data.draw(st.permutations(range(len(seg.words))))[:data.draw(st.integers(0, len(seg.words)))]
    at = AttackedText(text)
    for k in order:
        at = at.delete_word_at_index(int(at.attack_attrs["original_index_map"][k]))
        seg.delete(k)
    assert seg.text() == at.text


def test_swaps_and_insertions_make_attacked_texts_text(ta, demo_positives) -> None:
    from textattack.shared import AttackedText

    rng = random.Random(0)
    for text in demo_positives[:60]:
        seg = Segments(text)
        at = AttackedText(text)
        n = len(seg.words)
        for _ in range(3):
            i, j = rng.sample(range(n), 2)
            wi, wj = seg.words[i], seg.words[j]
            at = at.replace_word_at_index(i, wj).replace_word_at_index(j, wi)
            seg.words[i], seg.words[j] = wj, wi
        assert seg.text() == at.text
        # insertions before original words (each at most once), as the insertion walk makes them
        for k in rng.sample(range(n), min(3, n)):
            current = int(at.attack_attrs["original_index_map"][k])
            at = at.insert_text_before_word_index(current, "inserted")
            seg.inserted[k] = "inserted"
        assert seg.text() == at.text


def _aligned_gaps(original: list[str], longer: list[str]) -> list[int]:
    """Original positions before which ``longer`` (a supersequence) has extra words (greedy)."""
    out, i = [], 0
    for word in longer:
        if i < len(original) and word == original[i]:
            i += 1
        else:
            out.append(i)
    return out


def _features(part: str, original: str, copies: list[str]) -> dict[str, list]:
    """Per-call and per-copy features of one walk's output."""
    words = words_from_text(original)
    f: dict[str, list] = {"copies per call": [len(copies)], "original returned": [int(original in copies)],
                          "text": [], "size of change": [], "where": []}
    for copy in copies:
        if copy == original:
            continue
        f["text"].append(copy)
        new = words_from_text(copy)
        if part == "delete":
            gone = _aligned_gaps(new, words)  # the original words missing from the copy
            f["size of change"].append(len(words) - len(new))
            f["where"].extend(gone)
        elif part == "insert":
            f["size of change"].append(len(new) - len(words))
            f["where"].extend(_aligned_gaps(words, new))
        else:
            changed = [i for i, (a, b) in enumerate(zip(words, new)) if a != b]
            f["size of change"].append(len(changed))
            f["where"].extend(changed)
    return f


def _collect(runs: list[tuple[str, list[str]]], part: str, original: str) -> dict[str, list]:
    total: dict[str, list] = {}
    for _, copies in runs:
        for key, values in _features(part, original, copies).items():
            total.setdefault(key, []).extend(values)
    return total


def run_textattack(ta, text: str, part: str, n: int, seeds: range) -> list[tuple[str, list[str]]]:
    eda = ta.OfflineEasyDataAugmenter(0.1, n, (MENTION_PLACEHOLDER,))
    out = []
    for seed in seeds:
        random.seed(seed)
        np.random.seed(seed)
        out.append((part, eda.augment(text) if part == "eda" else getattr(eda, PARTS[part]).augment(text)))
    return out


def run_fast(text: str, part: str, n: int, seeds: range) -> list[tuple[str, list[str]]]:
    engine = FastEdaEngine(0.1, n, STOPWORDS)
    if part == "eda":
        return [(part, engine.augment(text, seed)) for seed in seeds]
    return [(part, engine.parts(text, random.Random(seed))[part]) for seed in seeds]


#: (post, EDA's n: each walk makes max(n // 4, 1) copies, calls for TextAttack, calls for the fast engine)
POSTS = {
    "6 words": ("Feeling rough today, tested positive again", 8, 300, 3000),
    "18 words": ("the little cassette says C and T and both lines are showing. I have covid, send help please",
                 8, 200, 2000),
    "3 words, one without synonyms": ("xkcd covid positive", 4, 300, 3000),
}
CASES = [(post, part) for post in POSTS for part in ("replace", "delete", "swap", "insert", "eda")]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[f"{p}-{w}" for p, w in CASES])
def test_same_distribution_as_textattack(ta, case) -> None:
    post, part = case
    text, n, ta_calls, fast_calls = POSTS[post]
    ta_runs = _collect(run_textattack(ta, text, part, n, range(ta_calls)), part, text)
    fast_runs = _collect(run_fast(text, part, n, range(10_000, 10_000 + fast_calls)), part, text)
    p = {key: chi2_p(ta_runs[key], fast_runs[key]) for key in ta_runs}
    print(f"\nEDA {part} on a post of {post} (n={n}, {ta_calls} TextAttack calls): "
          + ", ".join(f"{k} p={v:.3g}" for k, v in p.items()))
    assert min(p.values()) > ALPHA, p


@pytest.mark.slow
def test_a_sampler_without_the_insertion_quirk_fails(ta, monkeypatch) -> None:
    """Dropping TextAttack's 'seven failed tries: no change' rule shows on a post where most words
    have no synonyms."""
    text, n = "xkcd covid positive", 4
    ta_runs = _collect(run_textattack(ta, text, "insert", n, range(300)), "insert", text)
    monkeypatch.setattr(eda_fast, "QUIRK", False)
    fast_runs = _collect(run_fast(text, "insert", n, range(10_000, 13_000)), "insert", text)
    assert min(chi2_p(ta_runs[k], fast_runs[k]) for k in ta_runs) < 1e-6


def test_fast_eda_is_a_pure_function_of_post_and_seed(demo_positives) -> None:
    engine = FastEdaEngine(0.1, 4, STOPWORDS)
    text = " ".join(demo_positives[:10])
    random.seed(1)
    before = random.getstate()
    one = engine.augment(text, 7)
    assert random.getstate() == before  # no global generator touched
    assert one == engine.augment(text, 7) and one != engine.augment(text, 8) and len(one) == 4
