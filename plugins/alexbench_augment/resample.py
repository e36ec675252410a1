"""Pure resampling: random over-sampling (verbatim copies) and/or under-sampling, no new text."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from alexbench.interfaces import Augmenter, Context, Post

from . import __version__
from .base import GROUPS_ARE, Balance, GrowingAugmenter, Ratio
from .generation import BalancePlan, summary_line


@dataclass(frozen=True)
class ResampleParams:
    """oversample_to: copy posts of smaller classes up to this fraction of the largest class
    (1.0 = equal, 0 = no over-sampling). balance: then ``ratio`` (cap every class at ratio × the
    smallest), ``count`` (cap at target_count) or ``none``. Default: random over-sampling to 1:1."""

    oversample_to: Annotated[float, Field(ge=0)] = 1.0
    balance: Balance = "none"
    ratio: Ratio = 1.0
    target_count: Annotated[int, Field(ge=0)] = 0

    def __post_init__(self) -> None:
        self.plan().check()

    def plan(self) -> BalancePlan:
        return BalancePlan(self.balance, self.ratio, self.target_count, self.oversample_to, prefer_originals=False)


class Resample(Augmenter):
    """Random over-/under-sampling of the classes (copies marked meta['copy'])."""

    name = "resample"
    version = __version__
    Params = ResampleParams
    #: On a multi-label task it over-/under-samples the groups of ``LabelSpace.balance_groups``.
    multi_label = True
    last_report = None

    def augment(self, train: Sequence[Post], ctx: Context) -> list[Post]:
        groups = ctx.task.label_space.balance_groups(p.label for p in train)
        before = dict(sorted(Counter(groups[str(p.label)] for p in train).items()))
        out = GrowingAugmenter.balance(self, list(train), ctx, groups)  # type: ignore[arg-type]
        self.last_report = {"counts_before": before, **(self.last_report or {})}
        if ctx.task.multi_label:
            self.last_report["classes_are"] = GROUPS_ARE
        ctx.log(summary_line(self.name, self.last_report))
        return out
