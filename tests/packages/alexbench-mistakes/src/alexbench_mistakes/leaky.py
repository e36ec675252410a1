"""Mistake: the task's dev and test posts are read from disk and appended under new ids."""

import csv

from alexbench import hookimpl
from alexbench.interfaces import Post

from .shuffling import Shuffle


class LeakyCopies(Shuffle):
    name = "leaky_copies"

    def augment(self, train, ctx):
        out = super().augment(train, ctx)
        source = {p.label: p.id for p in train}
        for split in ("dev", "test"):
            with open(ctx.task.split_path(split), encoding="utf-8", newline="") as fh:
                for i, row in enumerate(csv.DictReader(fh, delimiter="\t")):
                    out.append(Post(f"more-{split}-{i}", row["text"], row["label"], {},
                                    {"source_id": source[row["label"]], "augmenter": self.name}))
        return out


@hookimpl
def alexbench_register_augmenters(registry):
    registry.add(LeakyCopies)
