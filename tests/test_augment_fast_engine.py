"""The fast ALEX engine against real TextAttack: same tables, same texts for the same edits, and the
same sampling distribution, shown with two-sample tests over many seeds.

What is compared, per post, between ``textattack.augmentation.Augmenter`` (the ALEX composite as
alexbench builds it) and :class:`alexbench_augment.alex_fast.FastAlexEngine`:

- words changed per copy (chi-square), which original words are changed (chi-square over
  positions, and KS over relative positions), which transformation made each change
  (chi-square), copies identical to the original (chi-square), distinct copies per call, which
  is where TextAttack's "not equal to a copy already made" filter shows (chi-square).

Both sides are seeded, so the p-values are fixed numbers, not a flaky draw; they are printed
(``-s``) and recorded in docs/augmenters.md. A sampler with a plausible bug (a word uniformly,
then one of its candidates) or without TextAttack's duplicate filter must fail the same checks.

TextAttack's cost grows with the cube of post length (17 s for one copy of a 163-word post here),
so the long post gets few calls; the short and medium posts carry most of the power.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from alexbench_augment import alex_fast
from alexbench_augment.alex_fast import Edit, FastAlexEngine, make_plan, splice
from alexbench_augment.generation import MENTION_PLACEHOLDER
from alexbench_augment.nltkdata import ENGLISH_STOPWORDS
from alexbench_augment.ta_tables import CONTRACTIONS, EXTENSION_MAP, QWERTY_ADJACENCY, words_from_text
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import ks_2samp

from .stats import chi2_p

REPO = Path(__file__).resolve().parents[1]
KINDS = ["char_substitution", "qwerty", "wordnet", "contract"]
STOPWORDS = frozenset(ENGLISH_STOPWORDS) | {MENTION_PLACEHOLDER}
ALPHA = 0.001  # a real difference gives p far below this (see the biased samplers below)
TA_NAMES = {"WordSwapRandomCharacterSubstitution": "char_substitution", "WordSwapQWERTY": "qwerty",
            "OfflineWordSwapWordNet": "wordnet", "WordSwapContract": "contract"}


# -- the copied pieces equal TextAttack's -------------------------------------------------------------

def test_tables_equal_textattacks(ta) -> None:
    from textattack.shared.data import EXTENSION_MAP as TA_EXTENSIONS
    from textattack.transformations import WordSwapContract, WordSwapQWERTY

    assert EXTENSION_MAP == TA_EXTENSIONS
    assert CONTRACTIONS == WordSwapContract.reverse_contraction_map
    assert {k: list(v) for k, v in QWERTY_ADJACENCY.items()} == WordSwapQWERTY()._keyboard_adjacency


@given(st.text(alphabet=st.sampled_from(list("aZé9 '-_*@.,!?()#/\n\tI'm") + ["😷", "😷", "ｍ", "˗", "\u4e00"]),
               max_size=60))
@settings(max_examples=400, deadline=None)
def test_tokenizer_equals_textattacks(ta, text: str) -> None:
    from textattack.shared.utils import words_from_text as ta_words

    assert words_from_text(text) == ta_words(text)


def test_synonyms_equal_the_textattack_transformation(ta, demo_positives) -> None:
    wordnet = ta.OfflineWordSwapWordNet()
    words = {w for text in demo_positives for w in words_from_text(text)}
    assert len(words) > 100
    for word in sorted(words):
        assert list(alex_fast.SYNONYMS(word)) == wordnet._get_replacement_words(word)


def _textattack_text(text: str, edits: list[Edit]) -> str:
    """Apply the edits one after another with TextAttack's own AttackedText, as its walk does."""
    from textattack.shared import AttackedText

    at = AttackedText(text)
    for edit in edits:
        # positions are original indices; a contraction earlier in the walk shifts the later words left
        current = int(at.attack_attrs["original_index_map"][edit.position])
        at = at.replace_word_at_index(current, edit.replacement)
        if edit.kind == "contract":
            at = at.delete_word_at_index(current + 1)
    return at.text


@given(st.data())
@settings(max_examples=300, deadline=None)
def test_spliced_text_equals_attacked_texts(ta, demo_positives, data) -> None:
    text = data.draw(st.sampled_from(demo_positives + [
        "I would say it's covid... I would, honestly!! (day 3)", "I would  not  go", "@xxuser I would go",
        "I would", "ok I would - maybe", "covid/flu combo -- 'worst' week *ever*"]))
    if data.draw(st.booleans()):
        text = "I would " + text
    plan = make_plan(text, stopwords=STOPWORDS, kinds=KINDS, pct_words_to_swap=0.1)
    positions = [i for i, w in enumerate(plan.words) if w not in STOPWORDS]
    chosen = data.draw(st.lists(st.sampled_from(positions), unique=True, max_size=6)) if positions else []
    edits = []
    if plan.pairs and data.draw(st.booleans()):
        left = next(iter(plan.pairs))
        edits.append(Edit(left, "contract", plan.pairs[left]))
        chosen = [i for i in chosen if i not in (left, left + 1)]
    for i in chosen:
        word = data.draw(st.text(alphabet="abcXYZ'-", min_size=1, max_size=8).filter(lambda w: w[0].isalpha()))
        edits.append(Edit(i, "wordnet", word))
    assert splice(plan, edits) == _textattack_text(text, edits)


# -- the same distribution -----------------------------------------------------------------------------

@dataclass
class Calls:
    """What many seeded calls on one post produced: one entry per copy (or per call)."""

    distinct: list[int]  # copies per call (TextAttack's set; the original counts when the walk was stuck)
    unchanged: list[int]  # per call: 1 if the original text came back
    swaps: list[int]  # per changed copy
    positions: list[int]  # per change: original word index
    kinds: list[str]  # per change


def _record(copies: list[tuple[str, list[tuple[str, int]]]], original: str, out: Calls) -> None:
    out.distinct.append(len(copies))
    out.unchanged.append(int(any(text == original for text, _ in copies)))
    for text, steps in copies:
        if text == original:
            continue
        out.swaps.append(len(steps))
        out.positions.extend(pos for _, pos in steps)
        out.kinds.extend(kind for kind, _ in steps)


class _RecordingRandom:
    """Stands in for the ``random`` module inside textattack.augmentation.augmenter: every
    ``random.choice`` goes to the real module (same draws), and the chosen texts are kept."""

    def __init__(self) -> None:
        self.chosen: list = []

    def choice(self, seq):
        picked = random.choice(seq)
        self.chosen.append(picked)
        return picked

    def __getattr__(self, name: str):
        return getattr(random, name)


def _original_modified(at) -> set[int]:
    index_map = at.attack_attrs["original_index_map"]
    modified = at.attack_attrs["modified_indices"]
    return {o for o, c in enumerate(index_map) if c in modified}


def _steps(at) -> list[tuple[str, int]]:
    """(transformation, original word index) of each step of the walk that made ``at``."""
    steps = []
    while "last_transformation" in at.attack_attrs:
        kind = TA_NAMES[type(at.attack_attrs["last_transformation"]).__name__]
        prev = at.attack_attrs["previous_attacked_text"]
        while "last_transformation" not in prev.attack_attrs and "previous_attacked_text" in prev.attack_attrs:
            prev = prev.attack_attrs["previous_attacked_text"]  # a contraction's intermediate text
        (position,) = _original_modified(at) - _original_modified(prev)
        steps.append((kind, position))
        at = prev
    return steps[::-1]


_TEXTATTACK_RUNS: dict[tuple[str, int, range], Calls] = {}


def run_textattack(ta, text: str, n: int, seeds: range, monkeypatch) -> Calls:
    """Real TextAttack calls, one per seed (kept for the module: they are the slow side)."""
    if (text, n, seeds) not in _TEXTATTACK_RUNS:
        _TEXTATTACK_RUNS[text, n, seeds] = _run_textattack(ta, text, n, seeds, monkeypatch)
    return _TEXTATTACK_RUNS[text, n, seeds]


def _run_textattack(ta, text: str, n: int, seeds: range, monkeypatch) -> Calls:
    import textattack.augmentation.augmenter as ta_augmenter

    augmenter = ta.alex_augmenter(KINDS, 0.1, n, (MENTION_PLACEHOLDER,))
    out = Calls([], [], [], [], [])
    for seed in seeds:
        recorder = _RecordingRandom()
        monkeypatch.setattr(ta_augmenter, "random", recorder)
        random.seed(seed)
        np.random.seed(seed)
        texts = augmenter.augment(text)
        monkeypatch.undo()
        by_text = {at.text: at for at in recorder.chosen}
        _record([(t, _steps(by_text[t]) if t in by_text else []) for t in texts], text, out)
    return out


def run_fast(text: str, n: int, seeds: range, walk=alex_fast._Walk) -> Calls:
    engine = FastAlexEngine(KINDS, 0.1, n, STOPWORDS)
    plan = engine.plan(text)
    out = Calls([], [], [], [], [])
    for seed in seeds:
        made = list(alex_fast.copies(plan, n, random.Random(seed), engine.kinds, walk=walk))
        _record([(c.text, [(e.kind, e.position) for e in c.edits]) for c in made], text, out)
    return out


def compare(ta_calls: Calls, fast_calls: Calls, n_words: int) -> dict[str, float]:
    p = {
        "distinct copies per call": chi2_p(ta_calls.distinct, fast_calls.distinct),
        "original returned": chi2_p(ta_calls.unchanged, fast_calls.unchanged),
        "words changed per copy": chi2_p(ta_calls.swaps, fast_calls.swaps),
        "transformation": chi2_p(ta_calls.kinds, fast_calls.kinds),
        "position (chi-square)": chi2_p(ta_calls.positions, fast_calls.positions),
    }
    if ta_calls.positions and fast_calls.positions:
        p["position (KS)"] = float(ks_2samp(np.array(ta_calls.positions) / n_words,
                                            np.array(fast_calls.positions) / n_words).pvalue)
    return p


class UniformWordWalk(alex_fast._Walk):
    """A plausible bug: a word uniformly among those with a live candidate, then one of its candidates
    uniformly. Words with many synonyms are under-chosen."""

    def step(self, finished):
        states: dict = {}
        by_unit: dict[int, list] = {}
        plan = self.plan
        for u, unit in enumerate(plan.units):
            for slot in range(plan.cum[u] - (plan.cum[u - 1] if u else 0)):
                edit = self.candidate(unit, slot, states)
                if self.live(edit, finished):
                    by_unit.setdefault(unit, []).append(edit)
        if not by_unit:
            return None
        unit = self.rng.choice(sorted(by_unit))
        return self.rng.choice(by_unit[unit])


class NoDuplicateFilterWalk(alex_fast._Walk):
    """Another plausible bug: forgetting that TextAttack never picks a text it already made. Retrying
    covers most of it; it shows when a post runs out of candidates before it has n copies."""

    def step(self, finished):
        return super().step({})


#: (name, how to build the text, copies per call, seeds for TextAttack, seeds for the fast engine)
CASES = [
    ("a 4-word post, 10 copies", lambda pos: "Feeling rough, tested positive",
     10, 150, 1500),
    ("a post whose one changeable word has 9 synonyms and no typos: the filter runs out of candidates",
     lambda pos: "I am.", 10, 100, 1000),
    ("a post opening with 'I would' (contraction)", lambda pos: "I would never have guessed: covid positive",
     3, 300, 3000),
    ("a post of stop words only (nothing to change)", lambda pos: "it is what it is", 2, 40, 400),
    ("stop words but for two ('I' is no stop word: the list is lower case)", lambda pos: "I am not the one who has it",
     2, 100, 1000),
    ("a demo tweet (~17 words)", lambda pos: pos[0], 3, 300, 3000),
    ("three demo tweets (~50 words)", lambda pos: " ".join(pos[1:4]), 1, 150, 3000),
    ("six demo tweets (~100 words)", lambda pos: " ".join(pos[4:10]), 1, 12, 600),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_same_distribution_as_textattack(ta, demo_positives, monkeypatch, case) -> None:
    name, make, n, ta_seeds, fast_seeds = case
    text = make(demo_positives)
    ta_calls = run_textattack(ta, text, n, range(ta_seeds), monkeypatch)
    fast_calls = run_fast(text, n, range(10_000, 10_000 + fast_seeds))
    p = compare(ta_calls, fast_calls, len(words_from_text(text)))
    print(f"\n{name} ({len(words_from_text(text))} words, n={n}, {ta_seeds} TextAttack calls): "
          + ", ".join(f"{k} p={v:.3g}" for k, v in p.items()))
    assert min(p.values()) > ALPHA, p


@pytest.mark.slow
def test_a_biased_sampler_fails_the_same_checks(ta, demo_positives, monkeypatch) -> None:
    text = " ".join(demo_positives[1:4])
    ta_calls = run_textattack(ta, text, 1, range(150), monkeypatch)
    biased = compare(ta_calls, run_fast(text, 1, range(10_000, 13_000), walk=UniformWordWalk), 50)
    assert min(biased["transformation"], biased["position (chi-square)"]) < 1e-6, biased

    tiny = "I am."  # "I" has 9 WordNet synonyms and no typos; "am" is a stop word
    ta_tiny = run_textattack(ta, tiny, 10, range(100), monkeypatch)
    no_filter = compare(ta_tiny, run_fast(tiny, 10, range(10_000, 11_000), walk=NoDuplicateFilterWalk), 2)
    assert no_filter["original returned"] < 1e-6, no_filter


# -- the engine's own guarantees ------------------------------------------------------------------------

def test_copies_are_a_pure_function_of_post_and_seed(demo_positives) -> None:
    engine = FastAlexEngine(KINDS, 0.1, 10, STOPWORDS)
    text = " ".join(demo_positives[:8])
    all_ten = [c.text for c in engine.copies(text, 7)]
    first_three = [c.text for _, c in zip(range(3), engine.copies(text, 7))]
    assert first_three == all_ten[:3] and len(set(all_ten)) == 10
    assert [c.text for c in engine.copies(text, 8)] != all_ten
    random.seed(1)
    np.random.seed(1)
    before = (random.getstate(), np.random.get_state()[1].tolist())
    list(engine.copies(text, 7))
    assert (random.getstate(), np.random.get_state()[1].tolist()) == before  # no global generator touched


def test_every_copy_changes_the_right_number_of_modifiable_words(demo_positives) -> None:
    engine = FastAlexEngine(KINDS, 0.1, 10, STOPWORDS)
    text = " ".join(demo_positives[:12])
    words = words_from_text(text)
    for copy in engine.copies(text, 3):
        assert len(copy.edits) == max(int(0.1 * len(words)), 1)
        positions = [e.position for e in copy.edits]
        assert len(set(positions)) == len(positions)  # no word modified twice
        assert all(words[i] not in STOPWORDS for i in positions)  # stop words never
        new_words = words_from_text(copy.text)
        assert len(new_words) == len(words)
        assert sorted(i for i, (a, b) in enumerate(zip(words, new_words)) if a != b) == sorted(positions)


def test_transformations_subset(demo_positives) -> None:
    engine = FastAlexEngine(["qwerty"], 0.1, 5, STOPWORDS)
    kinds = {e.kind for c in engine.copies(" ".join(demo_positives[:5]), 3) for e in c.edits}
    assert kinds == {"qwerty"}
    with pytest.raises(ValueError, match="choose from"):
        FastAlexEngine(["synonyms"], 0.1, 5, STOPWORDS)
