"""Mistake: generated copies get another label than their source post."""

from alexbench import hookimpl

from .shuffling import Shuffle


class ShuffleWrongLabel(Shuffle):
    name = "shuffle_wrong_label"

    def label_of(self, post, ctx):
        labels = list(ctx.task.labels)
        return labels[(labels.index(post.label) + 1) % len(labels)]


@hookimpl
def alexbench_register_augmenters(registry):
    registry.add(ShuffleWrongLabel)
