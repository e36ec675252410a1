"""Generated rows on demand: which copies survive is decided before they are made.

A recipe such as ALEX's Task 1 (minority ×10, then undersample to 1:1) used to make every copy
and throw most of them away. Here the copies of one class are taken in a seeded random order of
(post, copy) pairs; the k-th time a post comes up in that order it gives its k-th copy. Cutting
a class keeps the first rows of that order, so the rows that survive are known before any text
is generated, and only those (plus the few that turn out invalid) are made. Generating every
copy and then keeping the first valid ones of the same order gives the same rows
(``survivors_first = false``; tested).

A post's copies come from the augmenter's :meth:`make_copies` under the post's own seed, so the
k-th copy of a post is the same however many copies are asked for, in whichever process, and
in whatever order the posts are visited.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from alexbench.interfaces import Post

from .generation import Normalised, derived_seed, normalise, restore


@dataclass(frozen=True)
class Job:
    """Make the first ``stop`` copies of one post (``key`` is the caller's handle for it)."""

    key: int
    text: str
    seed: int
    stop: int


@dataclass(frozen=True)
class Made:
    """The copies of one post, in the order the augmenter makes them. ``complete``: the post has no
    more copies than these. ``error``: (exception type, message) when making them raised."""

    key: int
    texts: tuple[str, ...]
    complete: bool
    error: tuple[str, str] | None = None


@dataclass
class SupplyStats:
    """What happened to the copies of the grown classes: reported in the run log and by ``alexbench augment``."""

    sources: int = 0
    pairs: int = 0  # (post, copy) pairs that could be asked for: sources × n
    examined: int = 0  # pairs looked at, in order, until the class had the rows it keeps
    copies_made: int = 0  # texts the augmenter produced (a batch library makes all n of a post at once)
    generated: int = 0  # valid new rows
    missing: int = 0  # pairs whose post had no copy that far (fewer than n distinct texts)
    errors: Counter[str] = field(default_factory=Counter)
    error_examples: list[dict[str, str]] = field(default_factory=list)
    rejected: Counter[str] = field(default_factory=Counter)

    def add(self, other: SupplyStats) -> None:
        for name in ("sources", "pairs", "examined", "copies_made", "generated", "missing"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.update(other.errors)
        self.error_examples.extend(other.error_examples[: max(0, 5 - len(self.error_examples))])
        self.rejected.update(other.rejected)

    def to_dict(self) -> dict[str, Any]:
        return {"sources": self.sources, "generated": self.generated, "pairs": self.pairs,
                "pairs_examined": self.examined, "pairs_skipped": self.pairs - self.examined,
                "copies_made": self.copies_made, "copies_missing": self.missing,
                "errors": sum(self.errors.values()), "errors_by_type": dict(sorted(self.errors.items())),
                "error_examples": self.error_examples, "rejected": dict(sorted(self.rejected.items()))}


#: ``make(jobs) -> results``: runs a batch of jobs (serially or in a process pool) and yields each post's result.
MakeMany = Callable[[list[Job]], Iterator[Made]]


class Supply:
    """The generated rows of one class, made on demand in a seeded order of (post, copy) pairs."""

    def __init__(self, label: str, posts: Sequence[Post], existing_texts: set[str], *, n: int, seed: int, name: str,
                 operation: str, params: dict[str, Any], normalise_text: bool) -> None:
        self.label, self.posts, self.n = label, list(posts), n
        self.name, self.operation, self.params = name, operation, params
        self.seen = set(existing_texts)  # texts of this label already in the split, then the rows accepted
        self.norms: list[Normalised] = [normalise(p.text) if normalise_text else Normalised(p.text, (), False)
                                        for p in self.posts]
        self.normalise_text = normalise_text
        self.seeds = [derived_seed(seed, name, p.id, p.text) for p in self.posts]
        keyed = sorted((derived_seed(seed, name, "order", p.id, p.text, k), i)
                       for i, p in enumerate(self.posts) for k in range(n))
        taken = [0] * len(self.posts)
        self.order: list[tuple[int, int]] = []  # (post index, copy index): the k-th visit of a post asks for copy k
        for _, i in keyed:
            self.order.append((i, taken[i]))
            taken[i] += 1
        self.pointer = 0
        self.copies: list[list[str]] = [[] for _ in self.posts]
        self.complete = [False] * len(self.posts)
        self.accepted: list[set[str]] = [set() for _ in self.posts]
        self.rows: list[tuple[int, int, Post]] = []  # (post index, copy index, row) in order
        self.stats = SupplyStats(sources=len(self.posts), pairs=len(self.order))

    @property
    def valid(self) -> int:
        return len(self.rows)

    @property
    def exhausted(self) -> bool:
        return self.pointer >= len(self.order)

    @property
    def unexamined(self) -> int:
        return len(self.order) - self.pointer

    def fill(self, want: int | None, make: MakeMany) -> None:
        """Examine pairs in order until ``want`` valid rows exist (``None``: all pairs)."""
        while not self.exhausted and (want is None or self.valid < want):
            ahead = self.unexamined if want is None else want - self.valid
            window = self.order[self.pointer:self.pointer + ahead]
            stops: dict[int, int] = {}
            for i, k in window:
                if k >= len(self.copies[i]) and not self.complete[i]:
                    stops[i] = max(stops.get(i, 0), k + 1)
            if stops:
                jobs = [Job(i, self.norms[i].text, self.seeds[i], stop) for i, stop in sorted(stops.items())]
                for made in make(jobs):
                    self._take(made)
            for i, k in window:
                self.pointer += 1
                self._examine(i, k)
                if want is not None and self.valid >= want:
                    break

    def _take(self, made: Made) -> None:
        i = made.key
        if made.error is not None:
            kind, message = made.error
            self.stats.errors[kind] += 1
            if len(self.stats.error_examples) < 5:
                self.stats.error_examples.append({"id": self.posts[i].id, "error": f"{kind}: {message}"[:300]})
            self.copies[i], self.complete[i] = [], True
            return
        self.stats.copies_made += max(0, len(made.texts) - len(self.copies[i]))
        self.copies[i] = list(made.texts)
        self.complete[i] = made.complete

    def _examine(self, i: int, k: int) -> None:
        self.stats.examined += 1
        if k >= len(self.copies[i]):
            self.stats.missing += 1
            return
        post, text = self.posts[i], self.copies[i][k]
        if not isinstance(text, str) or not text.strip():
            self.stats.rejected["empty"] += 1
            return
        restored = restore(text, self.norms[i]) if self.normalise_text else text
        if restored is None:
            self.stats.rejected["mention_placeholder_damaged"] += 1
        elif restored == post.text:
            self.stats.rejected["unchanged"] += 1
        elif restored in self.accepted[i]:
            self.stats.rejected["repeat_of_same_source"] += 1
        elif restored in self.seen:
            self.stats.rejected["duplicate_of_existing_row"] += 1
        else:
            self.accepted[i].add(restored)
            self.seen.add(restored)
            self.stats.generated += 1
            self.rows.append((i, k, post.replace(id=f"{post.id}#{self.name}-{k + 1}", text=restored, line=None, meta={
                "source_id": post.id, "augmenter": self.name, "operation": self.operation, "params": self.params})))

    def new_rows(self) -> list[Post]:
        """The valid rows made so far, in the class's seeded order (the order a cut keeps them in)."""
        return [row for _, _, row in self.rows]
