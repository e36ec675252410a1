"""Sentence shuffling: new posts made of the same sentences in another order."""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence
from itertools import islice, permutations

from alexbench.interfaces import Augmenter, Context, Post

from . import __version__
from .params import ShuffleParams

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def sentences(text: str) -> list[str]:
    return [part for part in _SENTENCE_END.split(text.strip()) if part]


class SentenceShuffle(Augmenter):
    """Copies of multi-sentence posts with their sentences shuffled (seeded per post)."""

    name = "sentence_shuffle"
    version = __version__
    Params = ShuffleParams

    def augment(self, train: Sequence[Post], ctx: Context) -> list[Post]:
        p: ShuffleParams = self.params
        counts = Counter(post.label for post in train)
        largest = max(counts.values(), default=0)
        grow = set(counts) if p.grow == "all" else {label for label, n in counts.items() if n < largest}
        out = list(train)
        made = too_short = 0
        for post in ctx.track(train, f"{self.name}: shuffling", total=len(train)):
            if post.label not in grow:
                continue
            parts = sentences(post.text)
            if len(set(parts)) < p.min_sentences:
                too_short += 1
                continue
            rng = random.Random(f"{ctx.seed}:{post.id}")
            # Up to `copies` distinct orders other than the original, drawn from a few candidates.
            candidates = [list(order) for order in islice(permutations(parts), 1, 50) if list(order) != parts]
            rng.shuffle(candidates)
            seen, k = {post.text}, 0
            for order in candidates:
                text = " ".join(order)
                if k >= p.copies or text in seen:
                    continue
                seen.add(text)
                out.append(post.replace(id=f"{post.id}~shuffle{k}", text=text,
                                        meta={**post.meta, "source_id": post.id, "augmenter": self.name}))
                k += 1
            made += k
        self.last_report = {"grown_labels": sorted(grow), "made": made, "one_sentence_posts": too_short}
        ctx.log(f"augmenter {self.name}: {made} shuffled copies of {sorted(grow)} posts; "
                f"{too_short} posts had too few sentences")
        return out

