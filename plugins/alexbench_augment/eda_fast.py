"""The fast engine for EDA: TextAttack's ``EasyDataAugmenter`` sampled lazily, linear work per copy.

EDA (Wei & Zou 2019) as TextAttack builds it is four ``Augmenter`` walks of
``max(int(pct × words), 1)`` steps, each with one transformation and the constraints
``RepeatModification`` + ``StopwordModification``, ``max(n // 4, 1)`` copies each; their outputs
are pooled, de-duplicated, shuffled and cut to ``n``. Every step builds every candidate text, so,
as for ALEX's composite, a call costs (words² × steps): 50 s for a 160-word post here. What each
walk does, and how this engine samples it (one ``random.Random`` per post):

- synonym replacement (``WordSwapWordNet``; stop words protected): the ALEX engine with WordNet
  only (:mod:`.alex_fast`).
- deletion (``WordDeletion``): the stop-word constraint does not apply to deletions, and a
  deletion never marks a word modified, so every step deletes a word drawn uniformly from the
  current words (none when one is left). The text follows TextAttack's spacing rule step by step
  (a deleted word takes the space before it, or the one after it when it is the first word).
- swap (``WordInnerSwapRandom``): each unmodified word has one candidate, a swap with a partner
  drawn uniformly from all other words; a swap marks both words modified (neither when they are
  equal); the walk counts ``max(modified words, steps)``.
- insertion (``WordInsertionRandomSynonym``): each unmodified word has one candidate, a synonym of
  a word drawn uniformly from the current words (up to 7 tries for one with synonyms) inserted
  before it; both words are then modified. TextAttack's quirk is kept: if any word's 7 tries all
  fail, the step's only candidate is the unchanged text. That happens with probability
  ``1 - (1 - (1 - f)^7)^m`` (``f``: share of current words with synonyms, ``m``: unmodified
  words), drawn once per step; otherwise the tried word is uniform among those with synonyms.

A candidate equal to a copy the walk already finished is excluded (compared by text, as TextAttack
compares; only candidates of a finished copy's length are checked), and TextAttack's outer loop (at
least ``k``, at most ``3k`` walks until ``k`` distinct texts) is kept. Equivalence with TextAttack
is tested per walk and for the pooled output in ``tests/test_augment_fast_engine.py``.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from .alex_fast import MAX_DRAWS, SYNONYMS, FastAlexEngine, SynonymTable, _spans, copies
from .ta_tables import words_from_text


class InsertionSynonyms(SynonymTable):
    """``WordInsertionRandomSynonym._get_synonyms``: WordNet lemma names of the word, other than the
    word, made of letters only; sorted (alexbench's sorted subclass), memoised."""

    def __call__(self, word: str) -> tuple[str, ...]:
        found = self._cache.get(word)
        if found is None:
            wordnet = self._load()
            names = {lemma.name() for syn in wordnet.synsets(word) for lemma in syn.lemmas()
                     if lemma.name() != word and all(c.isalpha() for c in lemma.name())}
            found = self._cache[word] = tuple(sorted(names))
        return found


INSERTION_SYNONYMS = InsertionSynonyms()
QUIRK = True  # TextAttack's "a word's 7 tries failed: the step changes nothing" (off only to test the test)


class Segments:
    """A post as TextAttack edits it: gaps and words (where ``AttackedText`` finds the words),
    changed step by step, joined into text on demand."""

    def __init__(self, text: str) -> None:
        self.words = words_from_text(text)
        starts, ends = _spans(text, self.words)
        cuts = [0, *[x for pair in zip(starts, ends) for x in pair], len(text)]
        self.gaps = [text[cuts[2 * i]:cuts[2 * i + 1]] for i in range(len(self.words) + 1)]
        self.inserted: dict[int, str] = {}  # word position -> the word inserted before it

    def copy(self) -> Segments:
        new = object.__new__(Segments)
        new.words, new.gaps, new.inserted = list(self.words), list(self.gaps), dict(self.inserted)
        return new

    def text(self) -> str:
        parts = [self.gaps[0]]
        for i, word in enumerate(self.words):
            if i in self.inserted:
                parts.append(self.inserted[i] + " ")  # insert_text_before_word_index: "new word"
            parts.append(word)
            parts.append(self.gaps[i + 1])
        return "".join(parts)

    def delete(self, k: int) -> None:
        """Delete word ``k`` with ``generate_new_attacked_text``'s spacing rule: if text follows it,
        it takes one space: the one after it when it is the first word left, else the one before."""
        self.words[k] = ""
        pieces = 2 * len(self.words) + 1  # even i: gap i // 2; odd i: word i // 2
        after = next((i for i in range(2 * k + 2, pieces) if self._piece(i)), None)
        if after is None:
            return
        if not any(self.words[:k]):
            if self._piece(after).startswith(" "):
                self.gaps[after // 2] = self.gaps[after // 2][1:]  # a word never starts with a space
            return
        before = next(i for i in range(2 * k, -1, -1) if self._piece(i))
        if self._piece(before).endswith(" "):
            self.gaps[before // 2] = self.gaps[before // 2][:-1]

    def _piece(self, i: int) -> str:
        return self.gaps[i // 2] if i % 2 == 0 else self.words[i // 2]


class Finished:
    """The texts of the copies made so far, by word count: a candidate can only equal a copy of its
    own length. ``original`` marks TextAttack's unchanged starting text, which differs from every
    candidate even when their texts are equal (``AttackedText.__eq__`` compares attribute counts)."""

    def __init__(self) -> None:
        self.texts: dict[int, set[tuple[str, bool]]] = {}
        self.word_hashes: set[int] = set()  # the swap walk's order-free keys of its finished copies

    def has(self, words: int) -> bool:
        return bool(self.texts.get(words))

    def holds(self, words: int, text: str, original: bool = False) -> bool:
        return (text, original) in self.texts.get(words, ())

    def add(self, words: int, text: str, original: bool) -> bool:
        group = self.texts.setdefault(words, set())
        if (text, original) in group:
            return False
        group.add((text, original))
        return True


#: ``walk(rng, finished) -> (words in the copy, its text, whether it is the unchanged original)``
Walk = Callable[[random.Random, Finished], tuple[int, str, bool]]


def pick(rng: random.Random, size: int, live: Callable[[int], bool]) -> int | None:
    """An index of ``range(size)`` drawn uniformly among those for which ``live`` holds (None if
    none). ``live`` is called at most once per index and may draw that index's random parts: uniform
    draws, rejecting dead ones, then, after ``MAX_DRAWS``, the untried in random order."""
    tried: set[int] = set()
    for _ in range(MAX_DRAWS):
        if len(tried) == size:
            return None
        i = rng.randrange(size)
        if i in tried:
            continue
        if live(i):
            return i
        tried.add(i)
    rest = [i for i in range(size) if i not in tried]
    rng.shuffle(rest)
    return next((i for i in rest if live(i)), None)


def outer_loop(walk: Walk, k: int, rng: random.Random) -> list[str]:
    """TextAttack ``Augmenter.augment``: at least ``k`` and at most ``3k`` walks, until ``k``
    distinct texts; returned sorted, as it returns them."""
    finished = Finished()
    made = attempts = 0
    while (attempts < k or made < k) and attempts < 3 * k:
        attempts += 1
        if finished.add(*walk(rng, finished)):
            made += 1
    return sorted(text for group in finished.texts.values() for text, _ in group)


def deletion_walk(base: Segments, steps: int) -> Walk:
    def walk(rng: random.Random, finished: Finished) -> tuple[int, str, bool]:
        seg = base.copy()
        alive = list(range(len(seg.words)))
        for _ in range(steps):
            if len(alive) <= 1:  # WordDeletion needs two words
                break

            def live(slot: int) -> bool:
                if not finished.has(len(alive) - 1):
                    return True
                trial = seg.copy()
                trial.delete(alive[slot])
                return not finished.holds(len(alive) - 1, trial.text())

            chosen = pick(rng, len(alive), live)
            if chosen is None:
                break
            seg.delete(alive[chosen])
            alive[chosen] = alive[-1]
            alive.pop()
        return len(alive), seg.text(), len(alive) == len(base.words)
    return walk


def _key(i: int, word: str) -> int:
    return hash((i, word))


def swap_walk(base: Segments, steps: int) -> Walk:
    """Swaps keep every word's place and length of text, so a copy is its words: a candidate is
    checked against the finished copies by a sum of (position, word) hashes, updated in O(1)."""
    n = len(base.words)
    mask = (1 << 64) - 1

    def walk(rng: random.Random, finished: Finished) -> tuple[int, str, bool]:
        seg = base.copy()
        words = seg.words
        modified: set[int] = set()
        key = sum(_key(i, w) for i, w in enumerate(words)) & mask
        done = taken = 0
        while done < steps and n >= 2:
            partner: dict[int, int] = {}

            def after_swap(i: int, j: int, key: int = key) -> int:
                return (key - _key(i, words[i]) - _key(j, words[j]) + _key(i, words[j]) + _key(j, words[i])) & mask

            def live(i: int, partner: dict[int, int] = partner) -> bool:
                if i in modified:  # RepeatModification
                    return False
                j = rng.randrange(n - 1)
                j = partner[i] = j + (j >= i)  # uniform among the other words
                if after_swap(i, j) not in finished.word_hashes:
                    return True
                words[i], words[j] = words[j], words[i]
                excluded = finished.holds(n, seg.text())
                words[i], words[j] = words[j], words[i]
                return not excluded

            i = pick(rng, n, live)
            if i is None:
                break
            j = partner[i]
            key = after_swap(i, j)
            if words[i] != words[j]:
                modified.update((i, j))
            words[i], words[j] = words[j], words[i]
            taken += 1
            done = max(len(modified), done + 1)
        if taken:
            finished.word_hashes.add(key)
        return n, seg.text(), taken == 0
    return walk


def insertion_walk(base: Segments, steps: int, synonyms: Callable[[str], tuple[str, ...]]) -> Walk:
    n = len(base.words)
    base_with_synonyms = [w for w in base.words if synonyms(w)]

    def walk(rng: random.Random, finished: Finished) -> tuple[int, str, bool]:
        seg = base.copy()
        with_synonyms = list(base_with_synonyms)  # current words that have synonyms (with repeats)
        free = list(range(n))  # words not modified yet: each has one candidate
        current = n
        done = 0
        while done < steps and free:
            q = (1 - len(with_synonyms) / current) ** 7  # one word's 7 tries all without synonyms
            if QUIRK and rng.random() < 1 - (1 - q) ** len(free):
                # TextAttack's quirk: the step's only candidate is the unchanged text
                if finished.holds(current, seg.text(), not seg.inserted):
                    break
                done = max(2 * len(seg.inserted), done + 1)
                continue
            new: dict[int, str] = {}

            def live(slot: int, new: dict[int, str] = new, current: int = current) -> bool:
                if not with_synonyms:
                    return False
                word = with_synonyms[rng.randrange(len(with_synonyms))]
                options = synonyms(word)
                new[slot] = options[rng.randrange(len(options))]
                if not finished.has(current + 1):
                    return True
                seg.inserted[free[slot]] = new[slot]
                excluded = finished.holds(current + 1, seg.text())
                del seg.inserted[free[slot]]
                return not excluded

            slot = pick(rng, len(free), live)
            if slot is None:
                break
            seg.inserted[free[slot]] = new[slot]
            if synonyms(new[slot]):
                with_synonyms.append(new[slot])
            free[slot] = free[-1]
            free.pop()
            current += 1
            done = max(2 * len(seg.inserted), done + 1)
        return current, seg.text(), not seg.inserted
    return walk


class FastEdaEngine:
    """``augment(text, seed)``: TextAttack's EasyDataAugmenter (alexbench's sorted variant), sampled lazily."""

    def __init__(self, pct_words_to_swap: float, n: int, stopwords, *, synonyms: SynonymTable = SYNONYMS,
                 insertion_synonyms: InsertionSynonyms = INSERTION_SYNONYMS) -> None:
        self.pct_words_to_swap, self.n = pct_words_to_swap, n
        self.each = max(n // 4, 1)
        self.replacement = FastAlexEngine(["wordnet"], pct_words_to_swap, self.each, stopwords, synonyms=synonyms)
        self.insertion_synonyms = insertion_synonyms

    def parts(self, text: str, rng: random.Random) -> dict[str, list[str]]:
        """Each walk's copies, sorted, as each of TextAttack's four augmenters returns them."""
        base = Segments(text)
        steps = max(int(self.pct_words_to_swap * len(base.words)), 1)
        plan = self.replacement.plan(text)
        out = {"replace": sorted(c.text for c in copies(plan, self.each, rng, self.replacement.kinds))}
        for name, walk in (("delete", deletion_walk(base, steps)), ("swap", swap_walk(base, steps)),
                           ("insert", insertion_walk(base, steps, self.insertion_synonyms))):
            out[name] = outer_loop(walk, self.each, rng)
        return out

    def augment(self, text: str, seed: int) -> list[str]:
        rng = random.Random(seed)
        texts = sorted({t for part in self.parts(text, rng).values() for t in part})
        rng.shuffle(texts)
        return texts[: self.n]
