"""Task transforms: the training split subsampled to a point of a sweep axis (issue 27).

A study's ``[study.sweep]`` may vary the task itself, not only a component:

* ``minority_share`` — the training split is subsampled so that its minority class (the
  smallest class of train; on a multi-class task only that class is resized, the others keep
  every post) is this share of train. Below the natural share, minority posts are dropped; above
  it, posts of every other class are dropped in proportion. Multi-label tasks have no minority
  class and are refused.
* ``train_size`` — a stratified subsample of this many training posts (every class keeps its
  share, rounded by largest remainder, and at least one post while it has one): learning curves.

``"natural"`` and ``"all"`` are the unchanged task. Dev and test are never touched. Within a
class the posts kept are a seeded sample stratified by the task's grouping column when its
metric has one (``metric.params.group_by``, e.g. the claim of SMM4H 2022 Task 2), so every group
keeps its share; then shuffled by the run's seed, and kept in their file order. The same (task,
point, seed) gives the same posts in any process; a point is computed in milliseconds and kept
for the runs of a grid (:class:`~alexbench.run.runner.Runner`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from alexbench.config.sweeps import AXES, TaskTransform
from alexbench.data.splits import Dataset
from alexbench.errors import ParamError
from alexbench.interfaces import Post


def problem(transform: TaskTransform, counts: Counter[str], multi_label: bool) -> str:
    """Why ``transform`` cannot be applied to a training split of these label counts ("" if it can)."""
    total = sum(counts.values())
    if transform.axis == "minority_share":
        if multi_label:
            return "minority_share needs a single-label task (a multi-label task has no minority class)"
        if len(counts) < 2:
            return "minority_share needs at least two classes in train"
        share = float(transform.value)
        if not 0 < share < 1:
            return f"minority_share must be between 0 and 1, got {transform.value!r}"
        kept = minority_counts(counts, share)
        if kept[minority(counts)] < 1:
            return (f"minority_share {share:g} leaves no minority post (train has {dict(counts)}): use a larger share")
        return ""
    if transform.axis == "train_size":
        size = transform.value
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            return f"train_size must be a whole number of posts from 1, got {size!r}"
        if size > total:
            return f"train_size {size} is more than the {total} training posts"
        if size < len(counts):
            return f"train_size {size} is fewer than the {len(counts)} classes of train"
        return ""
    return f"unknown transform axis {transform.axis!r} (known: {', '.join(AXES)})"


def minority(counts: Counter[str]) -> str:
    """The smallest class (ties: the first label in sorted order)."""
    return min(sorted(counts), key=lambda label: counts[label])


def minority_counts(counts: Counter[str], share: float) -> dict[str, int]:
    """How many posts of each class a ``minority_share`` of ``share`` keeps."""
    small = minority(counts)
    others = {label: n for label, n in counts.items() if label != small}
    rest = sum(others.values())
    natural = counts[small] / (counts[small] + rest)
    if share <= natural:  # fewer minority posts
        return {**others, small: min(counts[small], round(share * rest / (1 - share)))}
    # more than natural: keep every minority post, drop the others in proportion
    target_rest = counts[small] * (1 - share) / share
    return {small: counts[small], **largest_remainder(others, round(target_rest))}


def largest_remainder(counts: dict[str, int], total: int, *, at_least_one: bool = False) -> dict[str, int]:
    """``total`` split over ``counts`` in proportion (Hamilton's method), never above a count."""
    whole = sum(counts.values())
    if whole == 0:
        return {k: 0 for k in counts}
    exact = {k: total * n / whole for k, n in counts.items()}
    out = {k: min(counts[k], math.floor(v)) for k, v in exact.items()}
    if at_least_one:
        out = {k: max(v, 1 if counts[k] else 0) for k, v in out.items()}
    left = total - sum(out.values())
    for k in sorted(exact, key=lambda k: (-(exact[k] - math.floor(exact[k])), k)):
        if left <= 0:
            break
        if out[k] < counts[k]:
            out[k] += 1
            left -= 1
    return out


def target_counts(transform: TaskTransform, counts: Counter[str]) -> dict[str, int]:
    """Posts of each class the transform keeps."""
    if transform.axis == "minority_share":
        return minority_counts(counts, float(transform.value))
    return largest_remainder(dict(counts), int(transform.value), at_least_one=True)


def _rng(seed: int, transform: TaskTransform, label: str) -> random.Random:
    key = f"{seed}\0{transform.axis}\0{transform.value!r}\0{label}".encode()
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))


def _sample(posts: Sequence[Post], n: int, rng: random.Random, group_by: str | None) -> list[Post]:
    """``n`` of ``posts``, stratified by their ``group_by`` column when there is one."""
    if n >= len(posts):
        return list(posts)
    if not group_by:
        return rng.sample(list(posts), n)
    groups: dict[str, list[Post]] = defaultdict(list)
    for post in posts:
        groups[str(post.extra.get(group_by, ""))].append(post)
    per_group = largest_remainder({g: len(v) for g, v in sorted(groups.items())}, n)
    return [p for g in sorted(groups) for p in rng.sample(groups[g], per_group[g])]


def apply(train: Sequence[Post], transform: TaskTransform, seed: int, *,
          group_by: str | None = None) -> tuple[list[Post], dict[str, Any]]:
    """The subsampled training posts (in their file order) and a report of the counts."""
    counts = Counter(str(p.label) for p in train)
    wanted = target_counts(transform, counts)
    by_label: dict[str, list[Post]] = defaultdict(list)
    for post in train:
        by_label[str(post.label)].append(post)
    keep: set[str] = set()
    for label in sorted(by_label):
        keep.update(p.id for p in _sample(by_label[label], wanted[label], _rng(seed, transform, label), group_by))
    kept = [p for p in train if p.id in keep]
    after = Counter(str(p.label) for p in kept)
    report = {"axis": transform.axis, "value": transform.value, "seed": seed,
              "train_before": dict(sorted(counts.items())), "train_after": dict(sorted(after.items())),
              **({"stratified_by": group_by} if group_by else {})}
    if transform.axis == "minority_share":
        small = minority(counts)
        report["minority"] = small
        report["minority_share_after"] = round(after[small] / len(kept), 6) if kept else 0.0
    return kept, report


def transformed(data: Dataset, transform: TaskTransform, seed: int) -> Dataset:
    """``data`` with its training split at ``transform``'s point for ``seed`` (dev and test are
    the same objects); :attr:`Dataset.transform` holds the report."""
    task = data.task
    counts = Counter(str(p.label) for p in data.train)
    why = problem(transform, counts, task.multi_label)
    if why:
        raise ParamError(f"task {task.name!r}: {why}")
    group_by = task.metric_params.get("group_by") if isinstance(task.metric_params.get("group_by"), str) else None
    start = time.perf_counter()
    posts, report = apply(data.train, transform, seed, group_by=group_by)
    report["seconds"] = round(time.perf_counter() - start, 6)
    train = data.splits["train"]
    splits = {**data.splits, "train": dataclasses.replace(train, posts=posts)}  # its own fingerprint
    return dataclasses.replace(data, splits=splits, transform=report)


def check_points(path: Any, axes: Sequence[Any], tasks: Sequence[tuple[Any, Dataset]]) -> None:
    """Every transform point of a study's ``axes`` applies to every task's training split, else a
    :class:`~alexbench.errors.TaskFileError` naming the study file and the axis value (checked
    before any run)."""
    from alexbench.errors import TaskFileError

    for axis in axes:
        if not axis.is_transform:
            continue
        for i, value in enumerate(axis.values):
            if value == axis.reference:
                continue
            for task, data in tasks:
                why = problem(TaskTransform(axis.name, value), Counter(str(p.label) for p in data.train),
                              task.multi_label)
                if why:
                    raise TaskFileError(path, f"study.sweep.{axis.name}[{i}]", f"task {task.name!r}: {why}")
