"""What a metric takes from a task file's ``[metric] params``, and the check of a task's params
against it when the task is read (``validate``, ``run``, ``grid``, ``score``), not after training.

A :class:`~alexbench.interfaces.Metric` declares its parameters as ``params={name:
MetricParam(kind, required)}`` and what the task must define as ``requires`` (``"positive"``:
``labels.positive``). A metric that declares nothing (``params=None``, the default, as a
third-party metric written before this existed) gets its params unchecked, exactly as given.
Every error is a :class:`TaskFileError` naming the task file and the field
(``metric.params.labels[1]``) and what was expected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from alexbench.errors import TaskFileError, did_you_mean

# The declaration is the Metric contract's; re-exported for code that imports it from here.
from alexbench.interfaces import KINDS, REQUIREMENTS, MetricParam  # noqa: F401


class ParamTask(Protocol):
    """What the check needs of a task (a :class:`~alexbench.config.tasks.TaskSpec` is one)."""

    path: Path
    labels: tuple[str, ...]
    positive: str | None
    official_metric: str
    metric_params: dict[str, Any]

    @property
    def extra_keys(self) -> tuple[str, ...]: ...


def _problem(kind: str, value: Any, task: ParamTask) -> tuple[str, str] | None:
    """(sub-field, what is wrong) when ``value`` is not of ``kind`` for ``task``; None when it is."""
    expected = KINDS[kind]
    if kind == "labels":
        if not isinstance(value, list) or not value:
            return "", f"expected {expected} (e.g. {list(task.labels[:2])}), got {value!r}"
        seen: set[str] = set()
        for i, label in enumerate(value):
            if not isinstance(label, str) or label not in task.labels:
                return f"[{i}]", f"{label!r} is not one of the labels {list(task.labels)}"
            if label in seen:
                return f"[{i}]", f"{label!r} is listed twice"
            seen.add(label)
        return None
    if kind == "label":
        ok = isinstance(value, str) and value in task.labels
        return None if ok else ("", f"expected {expected} {list(task.labels)}, got {value!r}")
    if kind == "extra":
        if isinstance(value, str) and value in task.extra_keys:
            return None
        have = (f"the task's are {list(task.extra_keys)}" if task.extra_keys
                else "the task has none: add the column to [columns] extra")
        hint = did_you_mean(value, task.extra_keys) if isinstance(value, str) else ""
        return "", f"expected {expected}, got {value!r}; {have}.{hint}"
    types: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,)}
    ok = isinstance(value, types[kind]) and (kind == "bool" or not isinstance(value, bool))
    return None if ok else ("", f"expected {expected}, got {value!r}")


def check_metric_params(task: ParamTask, name: str, declared: Mapping[str, MetricParam] | None,
                        requires: Sequence[str] = ()) -> None:
    """Raise :class:`TaskFileError` when the task's ``[metric] params`` do not fit what metric
    ``name`` (its official metric) declares, or the task lacks what the metric requires."""
    for need in requires:
        field = REQUIREMENTS.get(need, need)
        if need == "positive" and task.positive is None:
            raise TaskFileError(task.path, field, f"is required: the official metric {name!r} scores the positive "
                                              f"class; name one of {list(task.labels)}")
    if declared is None:  # a metric that does not declare its params takes them as given
        return
    params = task.metric_params
    for key, value in params.items():
        if key not in declared:
            takes = ", ".join(sorted(declared)) if declared else "no parameters"
            raise TaskFileError(task.path, f"metric.params.{key}", f"unknown parameter of {name!r}."
                                f"{did_you_mean(key, declared)} It takes: {takes}")
        problem = _problem(declared[key].kind, value, task)
        if problem is not None:
            raise TaskFileError(task.path, f"metric.params.{key}{problem[0]}", problem[1])
    for key, param in declared.items():
        if param.required and key not in params:
            extra = ""
            if param.kind == "extra":
                extra = (f" (the task's extra columns: {list(task.extra_keys)})" if task.extra_keys
                         else " (the task has no extra columns: add one to [columns] extra)")
            raise TaskFileError(task.path, f"metric.params.{key}", f"is required by {name!r}: "
                                f"{param.description or KINDS[param.kind]}{extra}")
