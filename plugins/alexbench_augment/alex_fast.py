"""The fast engine for ALEX's TextAttack composite: TextAttack's sampling, with linear work per copy.

TextAttack's ``Augmenter`` makes one copy of a post by a walk of ``num_words_to_swap`` steps. At
each step it builds *every* candidate text (for every modifiable word: one random character
substitution, one random QWERTY typo, every WordNet synonym; every contraction), drops candidates
equal to a copy it already finished, de-duplicates the rest, and picks one uniformly. That is
(words × candidates) whole texts per step and (words × candidates × swaps) per copy: roughly cubic
in post length. What the method needs is one candidate list per word, built once.

This engine samples the same distribution lazily:

- A post's *plan* (words, the stop-word constraint, WordNet synonyms per word, cached across
  posts) is built once. Every modifiable word ``i`` owns ``slots(i)`` potential candidates:
  one character substitution and one QWERTY typo (words of two or more characters) and one per
  synonym; every adjacent pair whose expansion has a contraction owns one more.
- At each step a slot is drawn uniformly from all slots of the post and kept if it is *live*;
  otherwise another is drawn. The random parts of a word's candidates (which character, which
  letter or neighbour) are drawn once per step, when a slot of that word is first looked at,
  exactly as TextAttack draws them for every word at every step. A slot is dead when its word
  was already modified (``RepeatModification``), when its random substitution equals the word,
  when its text equals an earlier-listed candidate of the same word (TextAttack's de-duplication
  keeps the first, in the order substitution, QWERTY, WordNet), when a contraction's words are no
  longer in the modifiable prefix (TextAttack's ``WordSwapContract`` only contracts within the
  run of modifiable words that starts the text), or when the text equals a finished copy.
  Rejection sampling from a fixed set with a fixed live subset is uniform over the live subset,
  which is what ``random.choice`` over TextAttack's filtered list is. After ``MAX_DRAWS`` dead
  draws the live candidates are listed exactly (same distribution; it only happens when almost
  nothing is left, e.g. on short posts late in a post's copies).
- Copies follow TextAttack's outer loop: at least ``n`` attempts and at most ``3n``, until ``n``
  distinct texts; a walk that finds no candidate keeps what it has (possibly the original text,
  which the caller drops as unchanged).

Work per copy: the plan is linear in the post; each step is O(log words) for the draw; the text is
spliced once per copy. Randomness comes from one ``random.Random`` per post (no global state), so
copies depend only on the post and its seed: the k-th copy is the same whether 1 or all n are
asked for, in any process. Statistical equivalence with TextAttack (swaps per copy, positions,
transformation types, unchanged and duplicate copies) is tested in
``tests/test_augment_fast_engine.py``; the tables and the tokenizer come from
:mod:`alexbench_augment.ta_tables` (checked against TextAttack's own).
"""

from __future__ import annotations

import bisect
import random
import string
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from .ta_tables import CONTRACTIONS, is_one_word, qwerty_neighbours, words_from_text

#: The transformations of ALEX's composite, in TextAttack's order (which decides de-duplication).
KINDS = ("char_substitution", "qwerty", "wordnet", "contract")
LETTERS = string.ascii_letters  # WordSwap.letters_to_insert
MAX_DRAWS = 16


class SynonymTable:
    """``OfflineWordSwapWordNet._get_replacement_words``, memoised for the life of the process:
    sorted one-word WordNet lemma names of the word, without the word itself."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[str, ...]] = {}
        self._wordnet = None

    def _load(self):
        if self._wordnet is None:
            from .nltkdata import activate

            activate()
            from nltk.corpus import wordnet

            self._wordnet = wordnet
        return self._wordnet

    def __call__(self, word: str) -> tuple[str, ...]:
        found = self._cache.get(word)
        if found is None:
            wordnet = self._load()
            names = {name for syn in wordnet.synsets(word, lang="eng") for name in syn.lemma_names(lang="eng")
                     if name != word and "_" not in name and is_one_word(name)}
            found = self._cache[word] = tuple(sorted(names))
        return found

    def __len__(self) -> int:
        return len(self._cache)


SYNONYMS = SynonymTable()


@dataclass(frozen=True)
class Edit:
    """One step of a walk: the word at ``position`` (an index into the original words) became
    ``replacement``; a contraction also deletes the word at ``position + 1``."""

    position: int
    kind: str
    replacement: str


@dataclass(frozen=True)
class Copy:
    """One augmented text and the walk that made it (``edits`` in step order; empty when the walk
    found nothing to change and the text is the original)."""

    text: str
    edits: tuple[Edit, ...]


@dataclass
class PostPlan:
    """Everything about one post that does not change from step to step."""

    text: str
    words: list[str]
    starts: list[int]
    ends: list[int]
    swaps: int  # TextAttack's num_words_to_swap
    first_stop: int  # index of the first stop word (len(words) if none): bounds the contraction prefix
    units: list[int]  # a position (>= 0) or a contraction pair (-1 - left position)
    cum: list[int]  # cumulative slot counts of the units (for drawing a slot uniformly)
    has_typos: list[bool]  # per position: owns a substitution and a QWERTY slot
    synonyms: list[tuple[str, ...]]  # per position ( () for stop words)
    pairs: dict[int, str] = field(default_factory=dict)  # left position -> contraction

    @property
    def total(self) -> int:
        return self.cum[-1] if self.cum else 0


def _spans(text: str, words: Sequence[str]) -> tuple[list[int], list[int]]:
    """Where TextAttack's ``generate_new_attacked_text`` finds each word: the first occurrence
    after the end of the previous one."""
    starts, ends, at = [], [], 0
    for word in words:
        start = text.index(word, at)
        starts.append(start)
        at = start + len(word)
        ends.append(at)
    return starts, ends


def make_plan(text: str, *, stopwords: frozenset[str], kinds: Sequence[str], pct_words_to_swap: float,
              synonyms: Callable[[str], tuple[str, ...]] = SYNONYMS) -> PostPlan:
    words = words_from_text(text)
    starts, ends = _spans(text, words)
    swaps = max(int(pct_words_to_swap * len(words)), 1)
    modifiable = [w not in stopwords for w in words]  # StopwordModification is case-sensitive
    first_stop = modifiable.index(False) if False in modifiable else len(words)
    typos = ("char_substitution" in kinds) + ("qwerty" in kinds)
    use_wordnet = "wordnet" in kinds
    units: list[int] = []
    cum: list[int] = []
    has_typos: list[bool] = []
    syns: list[tuple[str, ...]] = []
    total = 0
    for i, word in enumerate(words):
        ok = modifiable[i]
        has_typos.append(ok and len(word) > 1 and typos > 0)
        syns.append(synonyms(word) if ok and use_wordnet else ())
        slots = (typos if has_typos[i] else 0) + len(syns[i])
        if slots:
            total += slots
            units.append(i)
            cum.append(total)
    pairs: dict[int, str] = {}
    if "contract" in kinds:
        # WordSwapContract only looks at adjacent words inside the modifiable run that opens the text.
        for i in range(min(first_stop, len(words)) - 1):
            contraction = CONTRACTIONS.get(f"{words[i]} {words[i + 1]}")
            if contraction is not None:
                pairs[i] = contraction
                total += 1
                units.append(-1 - i)
                cum.append(total)
    return PostPlan(text, words, starts, ends, swaps, first_stop, units, cum, has_typos, syns, pairs)


def splice(plan: PostPlan, edits: Iterable[Edit]) -> str:
    """The text TextAttack's ``AttackedText`` builds for these edits: each word replaced in place,
    the punctuation and spacing around it kept; a deleted word (a contraction's second word)
    takes one space with it, the space before it (the one after it when it is the first word)."""
    new: dict[int, str] = {}
    for edit in edits:
        new[edit.position] = edit.replacement
        if edit.kind == "contract":
            new[edit.position + 1] = ""
    text, parts, at = plan.text, [], 0
    for i in sorted(new):
        parts.append(text[at:plan.starts[i]])
        at = plan.ends[i]
        if not new[i] and at < len(text):
            if i == 0:
                if text[at] == " ":
                    at += 1
            else:
                prefix = "".join(parts)
                if prefix.endswith(" "):
                    parts = [prefix[:-1]]
        parts.append(new[i])
    parts.append(text[at:])
    return "".join(parts)


class _Walk:
    """The state of one copy's walk."""

    __slots__ = ("plan", "rng", "kinds", "edits", "modified", "low_modified", "key")

    def __init__(self, plan: PostPlan, rng: random.Random, kinds: frozenset[str]) -> None:
        self.plan, self.rng, self.kinds = plan, rng, kinds
        self.edits: list[Edit] = []
        self.modified: set[int] = set()
        self.low_modified = len(plan.words)
        self.key = frozenset()

    def typos(self, i: int) -> tuple[str | None, str | None]:
        """This step's random character substitution and QWERTY typo of word ``i`` (None: no candidate)."""
        word, rng = self.plan.words[i], self.rng
        sub = typo = None
        if "char_substitution" in self.kinds:
            k = rng.randrange(len(word))
            sub = word[:k] + rng.choice(LETTERS) + word[k + 1:]
            if sub == word:
                sub = None  # WordSwap skips a replacement equal to the word
        if "qwerty" in self.kinds:
            k = rng.randrange(len(word))
            keys = qwerty_neighbours(word[k])
            if keys:
                typo = word[:k] + rng.choice(keys) + word[k + 1:]
                if typo == sub:
                    typo = None  # the same text as the substitution: de-duplicated, the first kept
        return sub, typo

    def candidate(self, unit: int, slot: int, states: dict[int, tuple[str | None, str | None]]) -> Edit | None:
        """The candidate behind one slot, or None when it is dead at this step."""
        plan = self.plan
        if unit < 0:  # a contraction of the pair (left, left + 1)
            left = -1 - unit
            if left + 1 >= min(plan.first_stop, self.low_modified):
                return None
            return Edit(left, "contract", plan.pairs[left])
        if unit in self.modified:
            return None
        state = states.get(unit)
        n_typos = 0
        if plan.has_typos[unit]:
            if state is None:
                state = states[unit] = self.typos(unit)
            n_typos = ("char_substitution" in self.kinds) + ("qwerty" in self.kinds)
            if slot < n_typos:
                kinds = [k for k in ("char_substitution", "qwerty") if k in self.kinds]
                text = state[0] if kinds[slot] == "char_substitution" else state[1]
                return None if text is None else Edit(unit, kinds[slot], text)
        synonym = plan.synonyms[unit][slot - n_typos]
        if state is not None and synonym in state:
            return None  # equal to this step's substitution or typo, which come first
        return Edit(unit, "wordnet", synonym)

    def live(self, edit: Edit | None, finished: dict[int, set[frozenset]]) -> bool:
        if edit is None:
            return False
        same_size = finished.get(len(self.key) + (2 if edit.kind == "contract" else 1))
        return not same_size or self.key_with(edit) not in same_size

    def key_with(self, edit: Edit) -> frozenset:
        extra = {(edit.position, edit.replacement)}
        if edit.kind == "contract":
            extra.add((edit.position + 1, ""))
        return self.key | extra

    def step(self, finished: dict[int, set[frozenset]]) -> Edit | None:
        plan, rng = self.plan, self.rng
        states: dict[int, tuple[str | None, str | None]] = {}
        units, cum, total = plan.units, plan.cum, plan.total
        for _ in range(MAX_DRAWS):
            r = rng.randrange(total)
            u = bisect.bisect_right(cum, r)
            slot = r - (cum[u - 1] if u else 0)
            edit = self.candidate(units[u], slot, states)
            if self.live(edit, finished):
                return edit
        # Nearly everything is dead: list the live candidates and pick one uniformly.
        live: list[Edit] = []
        for u, unit in enumerate(units):
            for slot in range(cum[u] - (cum[u - 1] if u else 0)):
                edit = self.candidate(unit, slot, states)
                if self.live(edit, finished):
                    live.append(edit)  # type: ignore[arg-type]
        return live[rng.randrange(len(live))] if live else None

    def apply(self, edit: Edit) -> None:
        self.edits.append(edit)
        self.modified.add(edit.position)
        self.low_modified = min(self.low_modified, edit.position)
        changed = {(edit.position, edit.replacement)}
        if edit.kind == "contract":
            self.modified.add(edit.position + 1)  # deleted: never modifiable again
            changed.add((edit.position + 1, ""))
        self.key = self.key | changed


def copies(plan: PostPlan, n: int, rng: random.Random, kinds: Sequence[str],
           walk: type[_Walk] = _Walk) -> Iterator[Copy]:
    """TextAttack ``Augmenter.augment``'s copies of one post, lazily, in the order they are made:
    at least ``n`` and at most ``3n`` walks, stopping once ``n`` distinct texts exist. A copy is
    yielded when it is new (the original text at most once)."""
    kinds_set = frozenset(kinds)
    finished: dict[int, set[frozenset]] = {}  # the finished copies' edit sets, by number of words changed
    made = attempts = 0
    while (attempts < n or made < n) and attempts < 3 * n:
        attempts += 1
        state = walk(plan, rng, kinds_set)
        if plan.total:
            for _ in range(plan.swaps):
                edit = state.step(finished)
                if edit is None:
                    break
                state.apply(edit)
        same_size = finished.setdefault(len(state.key), set())
        if state.key in same_size:
            continue
        same_size.add(state.key)
        made += 1
        yield Copy(splice(plan, state.edits), tuple(state.edits))


class FastAlexEngine:
    """``copies(text, seed)``: ALEX's composite transformation, sampled as TextAttack samples it."""

    def __init__(self, kinds: Sequence[str], pct_words_to_swap: float, n: int, stopwords: Iterable[str],
                 synonyms: Callable[[str], tuple[str, ...]] = SYNONYMS) -> None:
        unknown = [k for k in kinds if k not in KINDS]
        if unknown or not kinds:
            raise ValueError(f"transformations {unknown or 'empty'}: choose from {', '.join(KINDS)}")
        self.kinds = tuple(k for k in KINDS if k in kinds)
        self.pct_words_to_swap = pct_words_to_swap
        self.n = n
        self.stopwords = frozenset(stopwords)
        self.synonyms = synonyms

    def plan(self, text: str) -> PostPlan:
        return make_plan(text, stopwords=self.stopwords, kinds=self.kinds, pct_words_to_swap=self.pct_words_to_swap,
                         synonyms=self.synonyms)

    def copies(self, text: str, seed: int) -> Iterator[Copy]:
        return copies(self.plan(text), self.n, random.Random(seed), self.kinds)
