"""What the runner checks of the plugins' work on every run (not only in the conformance kit):
that a variant's components can run on the task, that predictions and explanations have the
right shape, and that no stage wrote to the task's own files (each hashed when read and after
every stage)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from alexbench.config.tasks import TaskSpec
from alexbench.config.variants import VariantSpec
from alexbench.data.splits import Dataset
from alexbench.errors import PluginError, RunError, UnsupportedTaskError
from alexbench.fsio import sha256_file
from alexbench.interfaces import Classifier, Component, Explainer, Explanation, Post, Prediction


def unsupported(task: TaskSpec, components: Sequence[Component | None]) -> list[str]:
    """The components (``kind 'name'``) that cannot run on ``task``: on a multi-label task, those
    not declaring ``multi_label = True``."""
    if not task.multi_label:
        return []
    return [f"{c.kind} {c.name!r}" for c in components if c is not None and not getattr(c, "multi_label", False)]


def check_supported(task: TaskSpec, variant: VariantSpec, components: Sequence[Component | None]) -> None:
    """Refuse, before any work, a variant with a component that does not handle ``task``."""
    refused = unsupported(task, components)
    if refused:
        raise UnsupportedTaskError(
            f"variant {variant.name!r} cannot run on task {task.name!r}: {', '.join(refused)} "
            f"{'does' if len(refused) == 1 else 'do'} not support multi-label tasks (a post with a set of labels); "
            "a component that does declares multi_label = True (`alexbench plugins` shows which do; every built-in "
            "augmenter, classifier and explainer does)")


def check_prediction(clf: Classifier, posts: Sequence[Post], pred: Prediction, task: TaskSpec) -> None:
    labels = task.labels
    space = task.label_space
    if not isinstance(pred, Prediction):
        raise PluginError(f"classifier {clf.name!r} returned {type(pred).__name__}, not Prediction")
    if len(pred.labels) != len(posts):
        raise PluginError(f"classifier {clf.name!r} returned {len(pred.labels)} predictions for {len(posts)} posts")
    for label, row in zip(pred.labels, pred.probs):
        if (problem := space.problem(label)) is not None:
            raise PluginError(f"classifier {clf.name!r} predicted {label!r}, {problem}")
        if len(row) != len(labels):
            raise PluginError(f"classifier {clf.name!r} gave {len(row)} probabilities, expected {len(labels)}")


def check_explanations(exp: Explainer, posts: Sequence[Post], pred: Prediction,
                        out: Sequence[Explanation], task: TaskSpec) -> None:
    if len(out) != len(posts):
        raise PluginError(f"explainer {exp.name!r} returned {len(out)} explanations for {len(posts)} posts")
    for post, old, e in zip(posts, pred.labels, out):
        if e.post_id != post.id or e.old_label != old:
            raise PluginError(f"explainer {exp.name!r}: explanation for {e.post_id!r} is out of line with post {post.id!r}")
        if (problem := task.label_space.problem(e.new_label)) is not None:
            raise PluginError(f"explainer {exp.name!r} gave label {e.new_label!r}, {problem}")
        if e.new_label != e.old_label and not (e.status == "ok" and e.verdict is False):
            raise PluginError(f"explainer {exp.name!r} changed the label of {post.id!r} without a parsed False verdict")


def watched_files(task: TaskSpec, data: Dataset, task_file_sha256: str) -> dict[Path, str]:
    """The task file and each split's data file, with their sha256 when they were read."""
    files = {Path(task.path): task_file_sha256}
    for name, split in data.splits.items():
        if task.splits[name].file is not None:
            files[task.split_path(name)] = split.sha256
    return files


def changed_files(files: dict[Path, str]) -> list[tuple[Path, str, str | None]]:
    """(path, sha256 when read, sha256 now or None when gone) of each file that changed on disk."""
    changed = []
    for path, before in files.items():
        try:
            now: str | None = sha256_file(path)
        except OSError:
            now = None
        if now != before:
            changed.append((path, before, now))
    return changed


def check_files(files: dict[Path, str], stage: str, culprit: str) -> None:
    changed = changed_files(files)
    if not changed:
        return
    path, before, now = changed[0]
    state = "is gone" if now is None else f"has sha256 {now[:12]}… (was {before[:12]}… when read)"
    others = f" (and {len(changed) - 1} more)" if len(changed) > 1 else ""
    message = (f"the task's file {path}{others} changed on disk {stage}: it {state}. {culprit} Restore the file "
               "(from version control or its original release): runs scored on a changed file do not compare "
               "with the runs before it")
    raise (PluginError if culprit else RunError)(message)
