"""A run's spec, typed: how a run is made, as its ``run_spec.json`` records it.

The runner builds a :class:`RunSpec`, the store writes :meth:`RunSpec.to_dict` and every reader
gets one back from :meth:`RunSpec.from_dict` (``StoredRun.spec()``), so no module reads a stored
spec by string keys. ``to_dict`` is exactly what the runner has always written (same keys, same
values), so a run's id, computed from it by :mod:`alexbench.run.runid`, is unchanged: runid stays
the one place that says which fields are provenance-only (:data:`~alexbench.run.runid.PROVENANCE_ONLY`)
and which decide the classifier's predictions.

Free-form JSON (component parameters and fingerprints, the metric's parameters, file hashes by
split) is kept as read; ``to_dict`` returns copies, so a caller can never edit a spec in place.
Runs stored by older versions load too: schema 2 had no ``posts`` fingerprints, schema 1 no
label set (``labels`` is then None, and rescoring says to rerun).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alexbench.errors import FailureError
from alexbench.jsonfields import JsonFields
from alexbench.run import runid


class RunSpecError(FailureError):
    """A stored run spec is malformed: names the file (when known) and the field."""


def _reader(data: Any, path: str, source: Path | str | None) -> JsonFields:
    return JsonFields(data, path, source, RunSpecError, whole="run spec")


@dataclass(frozen=True)
class RecordedComponent:
    """One component as its ``describe()`` (plus its task fingerprint, when it has one) recorded it."""

    kind: str
    name: str
    version: str
    params: dict[str, Any] = field(default_factory=dict)
    #: Content outside the parameters that decides the output (a prompt template's hash); None
    #: when the component has none (the key is then absent from the stored spec).
    fingerprint: dict[str, Any] | None = None
    #: Keys a plugin's own ``describe()`` added, kept as written (they are part of the run id).
    extra: dict[str, Any] = field(default_factory=dict)

    _KEYS = ("kind", "name", "version", "params", "fingerprint")

    @classmethod
    def from_described(cls, described: Mapping[str, Any], fingerprint: Mapping[str, Any] | None = None) -> RecordedComponent:
        """From a live component's ``describe()`` and ``fingerprint(task)`` (empty = none)."""
        return cls.from_dict({**described, **({"fingerprint": dict(fingerprint)} if fingerprint else {})}, "describe()")

    @classmethod
    def from_dict(cls, data: Any, where: str = "component", source: Path | str | None = None) -> RecordedComponent:
        r = _reader(data, where, source)
        return cls(r.get("kind", str), r.get("name", str), r.get("version", str),
                   r.get("params", dict), r.get("fingerprint", dict, optional=True),
                   {k: copy.deepcopy(v) for k, v in r.data.items() if k not in cls._KEYS})

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name, "version": self.version,
                               "params": copy.deepcopy(self.params), **copy.deepcopy(self.extra)}
        if self.fingerprint is not None:
            out["fingerprint"] = copy.deepcopy(self.fingerprint)
        return out


@dataclass(frozen=True)
class RecordedTask:
    """The task as a run records it: what scoring needs, and (provenance) its version and file hash."""

    name: str
    version: str
    file_sha256: str
    official_metric: str
    #: None only in runs stored before schema 2 (and then ``positive`` and ``metric_params`` too).
    labels: tuple[str, ...] | None
    positive: str | None = None
    metric_params: dict[str, Any] | None = None
    #: A multi-label task (labels are canonical label-set strings). Stored only when true, so a
    #: single-label run's spec (and id) is what it always was.
    multi_label: bool = False

    @classmethod
    def from_dict(cls, r: JsonFields) -> RecordedTask:
        r.only("name", "version", "file_sha256", "labels", "positive", "official_metric", "metric_params",
               "multi_label")
        labels = r.strings("labels") if "labels" in r.data else None
        scored = labels is not None  # schema 2 on: labels, positive and metric_params together
        return cls(r.get("name", str), r.get("version", str), r.get("file_sha256", str),
                   r.get("official_metric", str), labels,
                   r.get("positive", str, none=True, optional=not scored),
                   r.get("metric_params", dict, optional=not scored),
                   bool(r.get("multi_label", bool, optional=True)))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "version": self.version, "file_sha256": self.file_sha256}
        if self.labels is not None:
            out.update(labels=list(self.labels), positive=self.positive)
        out["official_metric"] = self.official_metric
        if self.labels is not None:
            out["metric_params"] = copy.deepcopy(self.metric_params or {})
        if self.multi_label:
            out["multi_label"] = True
        return out


@dataclass(frozen=True)
class RecordedVariant:
    """The variant as a run records it: its name, (provenance) description and components."""

    name: str
    description: str
    augmenters: tuple[RecordedComponent, ...]
    classifier: RecordedComponent
    explainer: RecordedComponent | None = None

    @classmethod
    def from_dict(cls, r: JsonFields) -> RecordedVariant:
        r.only("name", "description", "augmenters", "classifier", "explainer")
        augmenters = r.get("augmenters", list)
        explainer = r.get("explainer", dict, none=True)
        return cls(
            r.get("name", str), r.get("description", str),
            tuple(RecordedComponent.from_dict(a, f"{r.path}.augmenters[{i}]", r.source) for i, a in enumerate(augmenters)),
            RecordedComponent.from_dict(r.get("classifier", dict), f"{r.path}.classifier", r.source),
            None if explainer is None else RecordedComponent.from_dict(explainer, f"{r.path}.explainer", r.source))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description,
                "augmenters": [a.to_dict() for a in self.augmenters], "classifier": self.classifier.to_dict(),
                "explainer": self.explainer.to_dict() if self.explainer else None}

    @property
    def uses_gold_labels(self) -> bool:
        """A component reads the gold labels (a simulated judge): the run is marked simulated."""
        parts = [*self.augmenters, self.classifier, *([self.explainer] if self.explainer else [])]
        return any(c.extra.get("uses_gold_labels") is True for c in parts)

    def components(self) -> dict[str, Any]:
        """The components as recorded (JSON): what a leaderboard row shows."""
        full = self.to_dict()
        return {k: full[k] for k in ("augmenters", "classifier", "explainer")}


@dataclass(frozen=True)
class RunSpec:
    """How a run is made: ``run_spec.json``. See :mod:`alexbench.run.runid` for its id."""

    #: :data:`alexbench.run.store.SCHEMA_VERSION` when the run was stored (None: not recorded).
    schema: int | None
    task: RecordedTask
    #: Each split's data file sha256 (provenance: a re-saved file with other line endings is the same run).
    data: dict[str, str]
    #: Each split's posts fingerprint (ids, texts, labels, extra inputs); None before schema 3.
    posts: dict[str, str] | None
    variant: RecordedVariant
    seed: int
    #: The sweep point the training split was subsampled to (``{"minority_share": 0.1}``,
    #: :mod:`alexbench.data.transforms`); None for the task's own data, and then absent from the
    #: stored spec, so every run made without one keeps its id.
    transform: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: Any, source: Path | str | None = None) -> RunSpec:
        """A stored spec (``source``, the file it came from, is named in errors)."""
        r = _reader(data, "", source)
        r.only("schema", "task", "data", "posts", "variant", "seed", "transform")
        return cls(r.get("schema", int, optional=True), RecordedTask.from_dict(r.section("task")), r.get("data", dict),
                   r.get("posts", dict, optional=True), RecordedVariant.from_dict(r.section("variant")),
                   r.get("seed", int), r.get("transform", dict, optional=True))

    def to_dict(self) -> dict[str, Any]:
        """Exactly the stored ``run_spec.json`` (keys absent in an old schema stay absent)."""
        out: dict[str, Any] = {} if self.schema is None else {"schema": self.schema}
        out.update(task=self.task.to_dict(), data=dict(self.data))
        if self.posts is not None:
            out["posts"] = dict(self.posts)
        out.update(variant=self.variant.to_dict(), seed=self.seed)
        if self.transform is not None:
            out["transform"] = dict(self.transform)
        return out

    @property
    def run_id(self) -> str:
        return runid.run_id(self.to_dict())

    def identity(self) -> dict[str, Any]:
        return runid.identity(self.to_dict())

    def definition(self) -> dict[str, Any]:
        return runid.definition(self.to_dict())

    def classifier_side(self) -> dict[str, Any]:
        return runid.classifier_side(self.to_dict())
