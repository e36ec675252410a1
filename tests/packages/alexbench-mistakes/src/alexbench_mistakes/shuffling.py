"""A sentence-shuffling augmenter done right, that the mistaken ones below start from."""

from __future__ import annotations

import random
import re

from alexbench.interfaces import Augmenter

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class Shuffle(Augmenter):
    """One copy of each multi-sentence post, its sentences in another order."""

    name = "shuffle"
    version = "0.0.1"

    def label_of(self, post, ctx):
        return post.label

    def augment(self, train, ctx):
        out = list(train)
        for post in train:
            parts = [p for p in _SENTENCE_END.split(post.text.strip()) if p]
            if len(set(parts)) < 2:
                continue
            rng, order = random.Random(f"{ctx.seed}:{post.id}"), list(parts)
            while order == parts:
                rng.shuffle(order)
            out.append(post.replace(id=f"{post.id}~s", text=" ".join(order), label=self.label_of(post, ctx),
                                    meta={"source_id": post.id, "augmenter": self.name}))
        return out
