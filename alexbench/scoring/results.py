"""A run's results, typed: ``metrics.json`` (:class:`RunMetrics`), the rows of ``predictions.jsonl``
(:class:`PredictionRow`) and of ``explanations.jsonl`` (:class:`ExplanationRow`).

The runner and ``rescore`` build these and write :meth:`to_dict`; every reader gets them back from
``from_dict`` (``StoredRun.scores()``, ``prediction_rows()``, ``explanation_rows()``), so no module
reads a stored result by string keys (as :mod:`alexbench.run.runspec` does for ``run_spec.json``).
``from_dict`` is strict: a missing or unknown field, or a value of the wrong type, raises
:class:`ResultsError` naming the file (and line) and the field. ``to_dict`` gives back exactly the
JSON content that was read (same keys, same values), so the checksums of stored runs
(``checksums.json``, of the parsed content) keep verifying: a key an older version did not write
stays absent. Free-form JSON that plugins record (a classifier's usage, an explainer's details and
calibration, a post's extra inputs) is kept as read; ``to_dict`` returns copies.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from alexbench.errors import FailureError
from alexbench.interfaces import Explanation
from alexbench.jsonfields import NUMBER, JsonFields


class ResultsError(FailureError):
    """A stored result is malformed: names the file (and line) and the field."""


def _fields(data: Any, path: str, source: str) -> JsonFields:
    return JsonFields(data, path, source, ResultsError)


def _matrix(r: JsonFields, key: str) -> tuple[Any, ...]:
    """A confusion matrix as nested tuples of counts: square (single-label) or one 2×2 per label."""
    def nested(value: Any) -> Any:
        if isinstance(value, list):
            return tuple(nested(v) for v in value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise r.fail(key, f"expected nested lists of counts, got {value!r}")

    return nested(r.get(key, list))  # type: ignore[no-any-return]


def _lists(matrix: Any) -> Any:
    return [_lists(v) for v in matrix] if isinstance(matrix, tuple) else matrix


@dataclass(frozen=True)
class OfficialScore:
    name: str
    value: float


@dataclass(frozen=True)
class ClassScores:
    """One label's precision, recall, F1 and support; on a multi-label task also the posts
    predicted with it and its tp, fp, fn (None, and absent from the file, otherwise)."""

    precision: float
    recall: float
    f1: float
    support: int
    predicted: int | None = None
    tp: int | None = None
    fp: int | None = None
    fn: int | None = None

    _COUNTS = ("predicted", "tp", "fp", "fn")

    @classmethod
    def from_dict(cls, data: Any, source: str = "per-class scores", path: str = "") -> ClassScores:
        r = _fields(data, path, source).only("precision", "recall", "f1", "support", *cls._COUNTS)
        return cls(r.get("precision", NUMBER), r.get("recall", NUMBER), r.get("f1", NUMBER), r.get("support", int),
                   *(r.get(k, int, optional=True) for k in cls._COUNTS))

    def to_dict(self) -> dict[str, Any]:
        out = {"precision": self.precision, "recall": self.recall, "f1": self.f1, "support": self.support}
        out.update({k: getattr(self, k) for k in self._COUNTS if getattr(self, k) is not None})
        return out


@dataclass(frozen=True)
class Confusion:
    """``matrix[i][j]``: posts of gold ``labels[i]`` predicted as ``labels[j]``; on a multi-label task
    (``kind`` "multilabel") one ``[[tn, fp], [fn, tp]]`` per label."""

    labels: tuple[str, ...]
    matrix: tuple[Any, ...]
    kind: str | None = None

    @classmethod
    def from_dict(cls, data: Any, source: str = "confusion", path: str = "") -> Confusion:
        r = _fields(data, path, source).only("labels", "matrix", "kind")
        return cls(r.strings("labels"), _matrix(r, "matrix"), r.get("kind", str, optional=True))

    def to_dict(self) -> dict[str, Any]:
        return {"labels": list(self.labels), **({} if self.kind is None else {"kind": self.kind}),
                "matrix": _lists(self.matrix)}


@dataclass(frozen=True)
class SplitScores:
    """Every metric of one split (what :func:`alexbench.scoring.metrics.score` computes)."""

    n: int
    official: OfficialScore
    #: Every metric that applies, by name (the official one among them).
    scalars: dict[str, float]
    per_class: dict[str, ClassScores]
    confusion: Confusion

    @classmethod
    def from_dict(cls, data: Any, source: str = "scores", path: str = "") -> SplitScores:
        r = _fields(data, path, source).only("n", "official", "scalars", "per_class", "confusion")
        official = r.section("official").only("name", "value")
        scalars = r.section("scalars")
        per_class = r.section("per_class")
        return cls(r.get("n", int), OfficialScore(official.get("name", str), official.get("value", NUMBER)),
                   {k: scalars.get(k, NUMBER) for k in scalars.data},
                   {k: ClassScores.from_dict(per_class.get(k, dict), source, per_class.name(k)) for k in per_class.data},
                   Confusion.from_dict(r.get("confusion", dict), source, r.name("confusion")))

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "official": {"name": self.official.name, "value": self.official.value},
                "scalars": dict(self.scalars), "per_class": {k: v.to_dict() for k, v in self.per_class.items()},
                "confusion": self.confusion.to_dict()}


@dataclass(frozen=True)
class ClassifierUsage:
    """What a model-calling classifier's predictions of one split cost: the classifier's own
    ``Prediction.usage`` (kept as recorded) and the split's ``posts``."""

    posts: int
    #: The classifier's keys as it recorded them (``questions``, ``cached``, ``cost_usd``, …).
    recorded: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, source: str = "classifier usage", path: str = "") -> ClassifierUsage:
        r = _fields(data, path, source)
        for key in ("cost_usd", "latency_p50_s", "latency_p95_s"):
            r.get(key, NUMBER, optional=True, none=True)  # what the leaderboard reads: a number when present
        return cls(r.get("posts", int), {k: copy.deepcopy(v) for k, v in r.data.items() if k != "posts"})

    def to_dict(self) -> dict[str, Any]:
        return {**copy.deepcopy(self.recorded), "posts": self.posts}

    @property
    def cost_usd(self) -> float | None:
        return self.recorded.get("cost_usd")

    @property
    def latency_p50_s(self) -> float | None:
        return self.recorded.get("latency_p50_s")

    @property
    def latency_p95_s(self) -> float | None:
        return self.recorded.get("latency_p95_s")


@dataclass(frozen=True)
class ExplainerStats:
    """An explainer's statistics of one run (:func:`alexbench.scoring.explainer_stats.explainer_stats`):
    the leaderboard's explainer columns. None is null in the file, except where a field says it is
    absent then."""

    posts: int
    sent: int
    flips: int
    flips_fixed: int
    flips_broke: int
    flip_precision: float | None
    unparsable_rate: float | None
    failed_rate: float | None
    mean_latency_s: float | None
    cost_per_1000_posts_usd: float | None
    latency_p50_s: float | None = None
    latency_p95_s: float | None = None
    cost_paid_usd: float | None = None
    #: Posts whose explanation failed; None (absent) when none did.
    failed: int | None = None
    #: The threshold the explainer's dev calibration chose; None (absent) when there is none.
    threshold: float | None = None
    #: A multi-label judge's (post, label) questions and removals; None (all four absent) for a
    #: single-label explainer (``removal_precision`` is then null when nothing was removed).
    label_questions: int | None = None
    label_removals: int | None = None
    label_removals_right: int | None = None
    removal_precision: float | None = None
    #: Of :data:`LATER`, the keys the run's file does not have (stored before they were recorded).
    absent: frozenset[str] = frozenset()

    #: Statistics recorded since the latency percentiles (null when unknown; absent in older runs).
    LATER = ("latency_p50_s", "latency_p95_s", "cost_paid_usd")
    _REQUIRED = ("posts", "sent", "flips", "flips_fixed", "flips_broke")
    _NULLABLE = ("flip_precision", "unparsable_rate", "failed_rate", "mean_latency_s", "cost_per_1000_posts_usd")
    _LABELS = ("label_questions", "label_removals", "label_removals_right")

    @classmethod
    def from_dict(cls, data: Any, source: str = "explainer statistics", path: str = "") -> ExplainerStats:
        r = _fields(data, path, source).only(*cls._REQUIRED, *cls._NULLABLE, *cls.LATER, "failed", "threshold",
                                             *cls._LABELS, "removal_precision")
        labelled = "label_questions" in r.data
        return cls(**{k: r.get(k, int) for k in cls._REQUIRED},
                   **{k: r.get(k, NUMBER, none=True) for k in cls._NULLABLE},
                   **{k: r.get(k, NUMBER, none=True, optional=True) for k in cls.LATER},
                   failed=r.get("failed", int, optional=True), threshold=r.get("threshold", NUMBER, optional=True),
                   **{k: r.get(k, int, optional=not labelled) for k in cls._LABELS},
                   removal_precision=r.get("removal_precision", NUMBER, none=True, optional=not labelled),
                   absent=frozenset(k for k in cls.LATER if k not in r.data))

    def to_dict(self) -> dict[str, Any]:
        """In the order :func:`~alexbench.scoring.explainer_stats.explainer_stats` writes them."""
        keys = [*self._REQUIRED, "flip_precision", "unparsable_rate", "failed_rate",
                *(["failed"] if self.failed is not None else []), "mean_latency_s", "latency_p50_s", "latency_p95_s",
                "cost_per_1000_posts_usd", "cost_paid_usd",
                *([*self._LABELS, "removal_precision"] if self.label_questions is not None else []),
                *(["threshold"] if self.threshold is not None else [])]
        return {k: getattr(self, k) for k in keys if k not in self.absent}


@dataclass(frozen=True)
class RunMetrics:
    """A run's ``metrics.json``: dev and test scores; with an explainer, the test scores before it,
    its statistics and (when it calibrated on dev) its calibration record; for a model-calling
    classifier, what its predictions cost per split."""

    run_id: str
    dev: SplitScores
    test: SplitScores
    test_before_explainer: SplitScores | None = None
    explainer: ExplainerStats | None = None
    #: The explainer's ``calibrate()`` record (free-form JSON); None when it returned none.
    explainer_calibration: Any = None
    #: By split; None (absent) when the classifier recorded no usage.
    classifier_usage: dict[str, ClassifierUsage] | None = None

    @classmethod
    def from_dict(cls, data: Any, source: str = "metrics.json") -> RunMetrics:
        r = _fields(data, "", source).only("run_id", "dev", "test", "test_before_explainer", "explainer",
                                           "explainer_calibration", "classifier_usage")
        before = r.get("test_before_explainer", dict, optional=True)
        stats = r.get("explainer", dict, optional=True)
        usage = r.get("classifier_usage", dict, optional=True)
        return cls(
            r.get("run_id", str), *(SplitScores.from_dict(r.get(s, dict), source, s) for s in ("dev", "test")),
            None if before is None else SplitScores.from_dict(before, source, "test_before_explainer"),
            None if stats is None else ExplainerStats.from_dict(stats, source, "explainer"),
            copy.deepcopy(r.data.get("explainer_calibration")),
            None if usage is None else {k: ClassifierUsage.from_dict(v, source, f"classifier_usage.{k}")
                                        for k, v in usage.items()})

    def to_dict(self) -> dict[str, Any]:
        """Exactly the stored ``metrics.json`` (keys a run did not record stay absent)."""
        out: dict[str, Any] = {"run_id": self.run_id, "dev": self.dev.to_dict(), "test": self.test.to_dict()}
        if self.classifier_usage is not None:
            out["classifier_usage"] = {k: v.to_dict() for k, v in self.classifier_usage.items()}
        if self.explainer_calibration is not None:
            out["explainer_calibration"] = copy.deepcopy(self.explainer_calibration)
        if self.test_before_explainer is not None:
            out["test_before_explainer"] = self.test_before_explainer.to_dict()
        if self.explainer is not None:
            out["explainer"] = self.explainer.to_dict()
        return out


@dataclass(frozen=True)
class PredictionRow:
    """One post's prediction (``predictions.jsonl``): its gold label, the final label (``pred``,
    after the explainer), the classifier's label and class probabilities (rounded to 6 decimals),
    and the post's extra inputs (None, and absent from the file, when it has none)."""

    split: str
    id: str
    gold: str
    pred: str
    classifier_pred: str
    probs: tuple[float, ...]
    extra: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: Any, source: str = "prediction") -> PredictionRow:
        r = _fields(data, "", source).only("split", "id", "gold", "pred", "classifier_pred", "probs", "extra")
        return cls(*(r.get(k, str) for k in ("split", "id", "gold", "pred", "classifier_pred")), r.numbers("probs"),
                   r.get("extra", dict, optional=True))

    def to_dict(self) -> dict[str, Any]:
        return {"split": self.split, "id": self.id, "gold": self.gold, "pred": self.pred,
                "classifier_pred": self.classifier_pred, "probs": list(self.probs),
                **({} if self.extra is None else {"extra": copy.deepcopy(self.extra)})}

    @property
    def inputs(self) -> dict[str, Any]:
        """The post's extra inputs (empty when it has none): what a metric that groups reads."""
        return dict(self.extra or {})


@dataclass(frozen=True)
class ExplanationRow:
    """One post's explanation (``explanations.jsonl``): an :class:`~alexbench.interfaces.Explanation`
    as the run stored it."""

    post_id: str
    old_label: str
    new_label: str
    status: str
    verdict: bool | None
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, source: str = "explanation") -> ExplanationRow:
        r = _fields(data, "", source).only("post_id", "old_label", "new_label", "status", "verdict", "reason",
                                           "details")
        return cls(*(r.get(k, str) for k in ("post_id", "old_label", "new_label", "status")),
                   r.get("verdict", bool, none=True), r.get("reason", str), r.get("details", dict))

    @classmethod
    def from_explanation(cls, e: Explanation, source: str = "explanation") -> ExplanationRow:
        """The row the runner stores for an explainer's answer."""
        return cls.from_dict(dataclasses.asdict(e), source)

    def to_dict(self) -> dict[str, Any]:
        return {"post_id": self.post_id, "old_label": self.old_label, "new_label": self.new_label,
                "status": self.status, "verdict": self.verdict, "reason": self.reason,
                "details": copy.deepcopy(self.details)}
