"""The conformance kit on multi-label tasks (``labels.multi_label = true``: a post has a set of
labels, carried as one canonical string, :func:`alexbench.interfaces.join_labels`).

A component that declares ``multi_label = True`` is also run, by every contract test, on the
kit's tiny ``multilabel`` task (:mod:`alexbench.kit.tasks`), where the label checks below ask for
canonical label sets of the task's labels (a classifier: one probability per label, each in
[0, 1], not summing to 1). A component that does not declare it says so in its metadata, and
:meth:`MultiLabelContract.test_multi_label_support_is_declared_and_enforced` checks that the
host refuses to run it on a multi-label task, naming the component and the task.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from alexbench.config.tasks import TaskSpec
    from alexbench.plugin.host import PluginHost

#: The tiny task kind every multi-label component is also run on.
MULTI_LABEL_KIND = "multilabel"
#: What to give on a multi-label task, for the assertion messages.
LABEL_SET_FIX = ("give a label set: alexbench.interfaces.join_labels(labels, ctx.task.labels) (the labels in "
                 "the task's order joined by '|', '' for none)")


def declares_multi_label(host: PluginHost, kind: str, name: str) -> bool:
    """Whether the registered component declares ``multi_label = True`` (read from ``add_lazy``
    when it says so there, else from the class)."""
    entry = host.registry(kind).entry(name)
    if entry.lazy and entry.multi_label is not None:
        return entry.multi_label
    return bool(getattr(host.component_class(kind, name), "multi_label", False))


def label_problem(task: TaskSpec, label: Any) -> str | None:
    """Why ``label`` is not a label of the task (single-label) or a canonical label set of its
    labels (multi-label); None when it is one."""
    return task.label_space.problem(label)


def check_prediction_row(task: TaskSpec, post_id: str, label: Any, row: Sequence[Any]) -> None:
    """A classifier's label and probability row for one post."""
    problem = label_problem(task, label)
    fix = LABEL_SET_FIX if task.multi_label else "predict one of ctx.task.labels"
    assert problem is None, f"{post_id}: predicted {label!r}, {problem}: {fix}"
    labels = list(task.labels)
    assert len(row) == len(labels), \
        (f"{post_id}: {len(row)} probabilities for {len(labels)} labels {labels}: give one per label of "
         "ctx.task.labels, in that order (also on tasks with more than two labels"
         + (", and on multi-label tasks: P(label) for each)" if task.multi_label else ")"))
    assert all(isinstance(p, (int, float)) and 0.0 <= p <= 1.0 and not math.isnan(p) for p in row), \
        f"{post_id}: probabilities must be numbers in [0, 1], got {row}: e.g. a softmax of the scores" \
        + (" (multi-label: a sigmoid per label)" if task.multi_label else "")
    if not task.multi_label:  # a label set's probabilities are one per label, each on its own
        from alexbench.run.guards import PROB_SUM_TOLERANCE  # the host's own tolerance

        assert abs(sum(row) - 1.0) <= PROB_SUM_TOLERANCE, \
            (f"{post_id}: probabilities sum to {sum(row)}, not 1: on a single-label task each row is a distribution "
             f"over ctx.task.labels (its sum within {PROB_SUM_TOLERANCE:g} of 1): normalise each row (a softmax, not "
             "a sigmoid per label)")


def check_row_label(task: TaskSpec, post_id: str, label: Any) -> None:
    """An augmented row's label."""
    problem = label_problem(task, label)
    assert problem is None, f"{post_id}: label {label!r} is {problem}" + (f": {LABEL_SET_FIX}" if task.multi_label
                                                                          else "")


def check_new_label(task: TaskSpec, post_id: str, label: Any) -> None:
    """An explanation's new label."""
    if not task.multi_label:
        assert label in task.labels, f"{post_id}: new label {label!r} not in {list(task.labels)}: use one of " \
                                     "ctx.task.labels"
        return
    problem = label_problem(task, label)
    assert problem is None, f"{post_id}: new label {label!r} is {problem}: {LABEL_SET_FIX}"


class MultiLabelContract:
    """The test every contract has once (not per task): a component runs on a multi-label task
    if and only if it declares ``multi_label = True``. Mixed into the contracts; uses their helpers."""

    def test_multi_label_support_is_declared_and_enforced(self, tmp_path: Path) -> None:
        from alexbench.config.tasks import load_task
        from alexbench.errors import UnsupportedTaskError
        from alexbench.kit.tasks import TASK_KINDS, write_tiny_task
        from alexbench.run.runner import Runner
        from alexbench.run.store import ResultsStore

        host = self.host()  # type: ignore[attr-defined]
        kind, name = self.kind, self.component  # type: ignore[attr-defined]
        # A multi-label task file among the contract's ``tasks`` (one that carries what the component
        # needs beside it, e.g. a prompt template) is used; otherwise the kit's own tiny one.
        base = Path(inspect.getfile(type(self))).parent
        given = [load_task(Path(t) if Path(t).is_absolute() else base / t)
                 for t in self.tasks if str(t) not in TASK_KINDS]  # type: ignore[attr-defined]
        task = next((t for t in given if t.multi_label), None) or \
            load_task(write_tiny_task(tmp_path / "task", MULTI_LABEL_KIND))
        if declares_multi_label(host, kind, name):
            run = self.run(task, tmp_path / "results", host).run  # type: ignore[attr-defined]
            stored = run.prediction_rows()
            bad = [(r.id, r.pred) for r in stored if label_problem(task, r.pred) is not None]
            assert not bad, f"{kind} {name!r} declares multi_label = True, but stored predictions {bad[:3]} are " \
                            f"not label sets: {LABEL_SET_FIX}"
            return
        store = ResultsStore(tmp_path / "results")
        runner = Runner(host, store, show_progress=False, device="cpu")
        try:
            runner.run(task, self.variant(task, host), 0)  # type: ignore[attr-defined]
            message = None
        except UnsupportedTaskError as exc:
            message = str(exc)
        if message is None:
            pytest.fail(f"the host ran {kind} {name!r}, which does not declare multi_label = True, on the "
                        f"multi-label task {task.name!r}: it must refuse it with UnsupportedTaskError", pytrace=False)
        assert f"{kind} {name!r}" in message and repr(task.name) in message, \
            f"the host's refusal must name the {kind} and the task, got: {message}"
        assert not list(store.runs()), "a refused run must leave nothing in the results store"
