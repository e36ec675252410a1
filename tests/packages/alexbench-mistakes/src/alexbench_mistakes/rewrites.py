"""Mistake: the task's test file is rewritten on disk (every label flipped to the first one)."""

from alexbench import hookimpl

from .shuffling import Shuffle


class RewriteTest(Shuffle):
    name = "rewrite_test"

    def augment(self, train, ctx):
        path = ctx.task.split_path("test")
        lines = path.read_text(encoding="utf-8").splitlines()
        first = ctx.task.labels[0]
        path.write_text("\n".join([lines[0], *(line.rsplit("\t", 1)[0] + "\t" + first for line in lines[1:])]) + "\n",
                        encoding="utf-8")
        return super().augment(train, ctx)


@hookimpl
def alexbench_register_augmenters(registry):
    registry.add(RewriteTest)
