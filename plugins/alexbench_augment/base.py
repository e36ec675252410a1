"""The base of the built-in augmenters: grow some classes with a text generator, then balance."""

from __future__ import annotations

import abc
import dataclasses
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from alexbench.interfaces import Augmenter, Context, Post

from .generation import BalancePlan, check_grow, derived_seed, generate_rows, grow_labels, rebalance, summary_line


@dataclass(frozen=True)
class GrowParams:
    """Shared by every built-in augmenter.

    grow: which classes to augment: ``minority`` (classes smaller than the mean class size),
    ``all``, ``none`` or comma-separated labels. n: new texts per source post. normalise: ALEX's
    ``&amp;`` and ``@mention`` handling. balance, ratio, target_count, oversample_to,
    prefer_originals: see :class:`~alexbench_augment.generation.BalancePlan`.
    """

    grow: str = "minority"
    n: int = 1
    normalise: bool = True
    balance: str = "none"
    ratio: float = 1.0
    target_count: int = 0
    oversample_to: float = 0.0
    prefer_originals: bool = True

    def __post_init__(self) -> None:
        check_grow(self.grow)
        if self.n < 1:
            raise ValueError(f"n must be >= 1, got {self.n}")
        self.plan().check()

    def plan(self) -> BalancePlan:
        return BalancePlan(self.balance, self.ratio, self.target_count, self.oversample_to, self.prefer_originals)


def _unique_ids(rows: list[Post], taken: set[str]) -> list[Post]:
    out = []
    for row in rows:
        new_id, k = row.id, 1
        while new_id in taken:
            k += 1
            new_id = f"{row.id}~{k}"
        taken.add(new_id)
        out.append(row if new_id == row.id else row.replace(id=new_id))
    return out


class GrowingAugmenter(Augmenter):
    """Generates ``n`` new texts per post of the grown classes, de-duplicates, then balances.

    Subclasses implement :meth:`build_generator`, which may import the heavy library.
    ``last_report`` holds the counts of the latest call (also written to the run log).
    """

    operation: ClassVar[str] = ""
    last_report: dict[str, Any] | None = None

    @abc.abstractmethod
    def build_generator(self) -> Callable[[str, int], list[str]]:
        """Return ``generate(text, n) -> list of new texts`` (seeding is done by the caller)."""

    def _generator(self) -> Callable[[str, int], list[str]]:
        cached = getattr(self, "_gen", None)
        if cached is None:
            cached = self._gen = self.build_generator()
        return cached

    def augment(self, train: Sequence[Post], ctx: Context) -> list[Post]:
        p = self.params
        labels = list(ctx.task.labels)
        counts = Counter(str(post.label) for post in train)
        grown = grow_labels(p.grow, counts, labels)
        # Resampling copies from an earlier step are never augmented again.
        sources = [post for post in train if post.label in grown and not post.meta.get("copy")]
        params = dataclasses.asdict(p)
        rows, stats = generate_rows(sources, self._generator() if sources else (lambda t, n: []), n=p.n,
                                    name=self.name, operation=self.operation or self.name, params=params, ctx=ctx,
                                    normalise_text=p.normalise)
        seen = {(post.text, post.label) for post in train}
        fresh: list[Post] = []
        for row in rows:
            key = (row.text, row.label)
            if key in seen:
                stats.rejected["duplicate_of_existing_row"] += 1
                stats.generated -= 1
                continue
            seen.add(key)
            fresh.append(row)
        fresh = _unique_ids(fresh, {post.id for post in train})
        out = self.balance(list(train) + fresh, labels, ctx)
        assert self.last_report is not None
        self.last_report = {"grown_classes": grown, "counts_before": dict(sorted(counts.items())),
                            **stats.to_dict(), **self.last_report}
        ctx.log(summary_line(self.name, self.last_report))
        if stats.errors:
            ctx.log(f"WARNING augmenter {self.name}: augmentation raised on {sum(stats.errors.values())} of "
                    f"{stats.sources} source posts (kept, not augmented): {dict(stats.errors)}")
        return out

    def balance(self, rows: list[Post], labels: list[str], ctx: Context) -> list[Post]:
        pools: dict[str, list[Post]] = {label: [] for label in labels}
        for row in rows:
            pools[str(row.label)].append(row)
        rng = random.Random(derived_seed(ctx.seed, self.name, "balance"))
        pools, report = rebalance(pools, self.params.plan(), rng, self.name)
        keep = {row.id for pool in pools.values() for row in pool}
        existing = {r.id for r in rows}
        copies = [row for pool in pools.values() for row in pool if row.meta.get("copy") and row.id not in existing]
        copies = _unique_ids(copies, existing)
        out = [row for row in rows if row.id in keep] + copies
        self.last_report = {**report, "counts_after": dict(sorted(Counter(str(r.label) for r in out).items()))}
        return out
