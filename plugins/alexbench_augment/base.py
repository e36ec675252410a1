"""The base of the built-in augmenters: grow some classes with a text generator, then balance."""

from __future__ import annotations

import abc
import math
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from alexbench.interfaces import Augmenter, Context, Post, output_params

from .generation import (
    GROW_CHOICES,
    BalancePlan,
    derived_seed,
    grow_labels,
    rebalance,
    reseedable_globals,
    summary_line,
)
from .supply import Job, Made, Supply, SupplyStats
from .workers import Maker

#: Parameters that decide how the work is done, never what comes out: left out of the run spec and cache keys.
EXECUTION_ONLY = {"affects_output": False}
#: The parameter types shared by the built-in augmenters (the host checks a variant's values against them).
Grow = Annotated[str, Field(pattern=r"\S", description=GROW_CHOICES)]
Copies = Annotated[int, Field(ge=1)]
Balance = Literal["none", "ratio", "count"]
Ratio = Annotated[float, Field(ge=1, description="a number >= 1 (largest class : smallest class)")]
Fraction = Annotated[float, Field(ge=0, le=1)]
#: In an augmenter's report on a multi-label task: what its "classes" (grown, counted, cut) are.
GROUPS_ARE = "groups: each post counts for the rarest label it carries (none: the task's empty value)"


@dataclass(frozen=True)
class GrowParams:
    """Shared by every built-in augmenter.

    grow: which classes to augment: ``minority`` (classes smaller than the mean class size),
    ``all``, ``none`` or comma-separated labels. n: new texts per source post. normalise: ALEX's
    ``&amp;`` and ``@mention`` handling. balance, ratio, target_count, oversample_to,
    prefer_originals: see :class:`~alexbench_augment.generation.BalancePlan`.
    workers: processes that make the copies (0 = all cores when the work is large enough to pay
    for a pool, 1 = this process); survivors_first: make only the copies that balancing keeps
    (false: make every copy, then cut; the same rows either way). Neither changes the output.
    """

    grow: Grow = "minority"
    n: Copies = 1
    normalise: bool = True
    balance: Balance = "none"
    ratio: Ratio = 1.0
    target_count: Annotated[int, Field(ge=0)] = 0
    oversample_to: Annotated[float, Field(ge=0)] = 0.0
    prefer_originals: bool = True
    workers: Annotated[int, Field(ge=0, description="an integer >= 0 (0 = all cores)")] = field(default=0, metadata=EXECUTION_ONLY)
    survivors_first: bool = field(default=True, metadata=EXECUTION_ONLY)

    def __post_init__(self) -> None:
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
    """Makes up to ``n`` new texts per post of the grown classes, de-duplicates, then balances.

    Subclasses implement :meth:`build_generator` (``generate(text, n) -> texts``, which may import
    the heavy library and draw from the global generators, seeded per post by the caller) or
    override :meth:`make_copies` to make a post's copies lazily. ``last_report`` holds the counts
    of the latest call (also written to the run log).
    """

    operation: ClassVar[str] = ""
    #: On a multi-label task the classes are the groups of ``LabelSpace.balance_groups`` (a post
    #: counts for the rarest label it carries); every copy keeps its source's whole label set.
    multi_label: ClassVar[bool] = True
    last_report: dict[str, Any] | None = None

    @abc.abstractmethod
    def build_generator(self) -> Callable[[str, int], list[str]]:
        """Return ``generate(text, n) -> list of new texts`` (seeding is done by the caller)."""

    def _generator(self) -> Callable[[str, int], list[str]]:
        cached = getattr(self, "_gen", None)
        if cached is None:
            cached = self._gen = self.build_generator()
        return cached

    def make_copies(self, jobs: Sequence[Job]) -> list[Made]:
        """The copies of each job's post. This default calls the generator once per post for all ``n``
        texts, with Python's and NumPy's global generators seeded from the post's seed (and put back
        afterwards). A post whose generation raises gets its error reported and no copies."""
        generate = self._generator()
        out: list[Made] = []
        with reseedable_globals() as reseed:
            for job in jobs:
                try:
                    reseed(job.seed)
                    texts = tuple(generate(job.text, self.params.n))
                except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
                    out.append(Made(job.key, (), True, (type(exc).__name__, str(exc))))
                    continue
                out.append(Made(job.key, texts, True))
        return out

    def augment(self, train: Sequence[Post], ctx: Context) -> list[Post]:
        p = self.params
        groups = ctx.task.label_space.balance_groups(post.label for post in train)
        counts = Counter(groups[str(post.label)] for post in train)
        grown = grow_labels(p.grow, counts, ctx.task.label_space.groups)
        params = output_params(p)
        supplies: dict[str, Supply] = {}
        for group in grown:
            members = [post for post in train if groups[str(post.label)] == group]
            # Resampling copies from an earlier step are never augmented again.
            sources = [post for post in members if not post.meta.get("copy")]
            if sources:
                supplies[group] = Supply(group, sources, {post.text for post in members}, n=p.n, seed=ctx.seed,
                                         name=self.name, operation=self.operation or self.name, params=params,
                                         normalise_text=p.normalise)
        maker = Maker(self, p.workers, ctx)
        self._fill(supplies, counts, maker)
        stats = SupplyStats()
        fresh: list[Post] = []  # in each class's order: a cut keeps the first ones
        for supply in supplies.values():
            stats.add(supply.stats)
            fresh.extend(supply.new_rows())
        fresh = _unique_ids(fresh, {post.id for post in train})
        out = self.balance(list(train) + fresh, ctx, groups, given={post.id for post in train})
        assert self.last_report is not None
        self.last_report = {"grown_classes": grown, "counts_before": dict(sorted(counts.items())),
                            **stats.to_dict(), **self.last_report}
        if ctx.task.multi_label:
            self.last_report["classes_are"] = GROUPS_ARE
        ctx.log(summary_line(self.name, self.last_report))
        if stats.errors:
            ctx.log(f"WARNING augmenter {self.name}: augmentation raised on {sum(stats.errors.values())} of "
                    f"{stats.sources} source posts (kept, not augmented): {dict(stats.errors)}")
        return out

    def _fill(self, supplies: dict[str, Supply], counts: Counter[str], make: Maker) -> None:
        """Make the copies balancing will keep: all of them when nothing is cut (or when the plan
        oversamples, which copies the generated rows too), otherwise, per grown class, the first
        valid rows of its order up to the class's cap. The cap depends on the classes' sizes after
        growing, known only as bounds until a class runs out of copies: fill to the cap the upper
        bounds give, and again while running out lowers it."""
        plan: BalancePlan = self.params.plan()
        if (not self.params.survivors_first or plan.balance == "none" or plan.oversample_to > 0
                or not plan.prefer_originals):
            for supply in supplies.values():
                supply.fill(None, make)
            return
        while True:
            upper = {label: n for label, n in counts.items() if n}
            for label, supply in supplies.items():
                upper[label] = counts[label] + supply.valid + supply.unexamined
            cap = plan.target_count if plan.balance == "count" else math.ceil(plan.ratio * min(upper.values()))
            moved = False
            for label, supply in supplies.items():
                want = cap - counts[label]
                if want > supply.valid and not supply.exhausted:
                    supply.fill(want, make)
                    moved = True
            if not moved:
                return

    def balance(self, rows: list[Post], ctx: Context, groups: Mapping[str, str] | None = None,
                given: set[str] | None = None) -> list[Post]:
        """Over- and under-sample ``rows`` by class (``rebalance``). The classes are the groups of
        ``groups`` (``Post.label`` → group, :meth:`LabelSpace.balance_groups
        <alexbench.config.labels.LabelSpace.balance_groups>`; by default of ``rows`` themselves):
        the labels on a single-label task, the rarest label a post carries on a multi-label one."""
        space = ctx.task.label_space
        if groups is None:
            groups = space.balance_groups(row.label for row in rows)
        pools: dict[str, list[Post]] = {group: [] for group in space.groups}
        for row in rows:
            pools.setdefault(groups[str(row.label)], []).append(row)
        rng = random.Random(derived_seed(ctx.seed, self.name, "balance"))
        pools, report = rebalance(pools, self.params.plan(), rng, self.name, given)
        keep = {row.id for pool in pools.values() for row in pool}
        existing = {r.id for r in rows}
        copies = [row for pool in pools.values() for row in pool if row.meta.get("copy") and row.id not in existing]
        copies = _unique_ids(copies, existing)
        out = [row for row in rows if row.id in keep] + copies
        after = Counter(groups[str(r.label)] for r in out)
        self.last_report = {**report, "counts_after": dict(sorted(after.items()))}
        return out
