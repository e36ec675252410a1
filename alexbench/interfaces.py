"""The contracts between the host and its plugins: posts in, predictions and explanations out.

A plugin component is a class with a ``name``, a ``version`` and a ``Params`` dataclass that
declares every parameter with its default. The host builds components from data (variant
files) through :meth:`Component.from_params`, records :meth:`Component.describe` in the run's
provenance, and never calls a component with anything but the types below.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

# A post's label set as one canonical string: defined with the task's labels, part of the contract.
from alexbench.config.labels import LABEL_SET_SEPARATOR, join_labels, split_labels  # noqa: F401
from alexbench.config.params import build_params
from alexbench.renderer import Renderer  # noqa: F401  (the renderer contract, alexbench/renderer.py)

if TYPE_CHECKING:
    from alexbench.config.tasks import TaskSpec

T = TypeVar("T")


@dataclass(frozen=True)
class Post:
    """One labelled (or unlabelled) post of a split.

    ``extra`` holds the task's extra input columns (e.g. Task 2's ``therapy``); ``meta`` holds
    provenance for rows an augmenter generated (``source_id``, ``augmenter``, ``params``).

    On a multi-label task (``ctx.task.multi_label``) ``label`` is the post's label set as a
    canonical string (:func:`join_labels`; ``""`` for a post with none of the labels) and
    :meth:`TaskSpec.label_set <alexbench.config.tasks.TaskSpec.label_set>` gives its labels.
    """

    id: str
    text: str
    label: str | None
    extra: Mapping[str, str] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)
    line: int | None = None

    def replace(self, **changes: Any) -> Post:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class NoParams:
    """Params of a component that takes none."""


@dataclass
class Context:
    """What the host hands to every component call: the task, the seed, where to cache, how to
    report progress. Components must derive all randomness from ``seed``."""

    task: TaskSpec
    seed: int
    device: str = "cpu"
    cache_dir: Path | None = None
    progress: Callable[..., Iterator[Any]] | None = None
    log: Callable[[str], None] = lambda message: None
    #: The task's official metric of ``labels`` (one per post, in order) on ``posts`` (dev posts):
    #: set by the host for a classifier's ``fit`` and an explainer's ``calibrate``, so a component
    #: can tune on dev by what the task is scored by; None elsewhere.
    objective: Callable[[Sequence[Post], Sequence[str]], float] | None = None

    def track(self, items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
        """Iterate ``items`` with a progress bar when the host provides one."""
        if self.progress is None:
            yield from items
        else:
            yield from self.progress(items, description=description, total=total)


class Component(abc.ABC):
    """Base of augmenters, classifiers and explainers.

    ``Params`` is a dataclass declaring every parameter with a default of its declared type
    (checked when the component is registered, see :mod:`alexbench.config.params`).
    """

    kind: ClassVar[str]
    name: ClassVar[str]
    version: ClassVar[str]
    Params: ClassVar[type] = NoParams
    #: Whether the component handles multi-label tasks (``ctx.task.multi_label``: label sets as
    #: canonical strings, probabilities per label). The host refuses to run a component that does
    #: not on such a task, before any work; single-label tasks are every component's.
    multi_label: ClassVar[bool] = False
    #: Whether the component reads the gold labels of the posts it is given (a simulated judge of
    #: known quality, an upper bound): its runs are marked "simulated" on every leaderboard and
    #: take no part in rankings. Recorded in the run spec (``uses_gold_labels: true``) only when set.
    uses_gold_labels: ClassVar[bool] = False

    def __init__(self, params: Any | None = None) -> None:
        self.params = params if params is not None else self.Params()

    @classmethod
    def param_defaults(cls) -> dict[str, Any]:
        return dataclasses.asdict(cls.Params())

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None = None) -> Component:
        """Build from a mapping (a variant file's table), rejecting unknown keys and bad values
        (checked by :func:`alexbench.config.params.build_params`)."""
        return cls(build_params(f"{cls.kind} {cls.name!r}", cls.Params, dict(params or {})))

    def fingerprint(self, task: TaskSpec) -> dict[str, Any]:
        """Content outside the parameters that decides this component's output on ``task`` (e.g.
        the hash of a prompt template file). It goes into the run spec, so a change to it makes a
        new run rather than silently reusing an old one. Default: nothing."""
        return {}

    def describe(self) -> dict[str, Any]:
        """Name, version and every parameter that can change the output: recorded with every result
        and part of the run's identity. A Params field declared with ``metadata={"affects_output":
        False}`` (how many processes to use, say) is left out, so it never changes a run id or a
        cache key."""
        return {"kind": self.kind, "name": self.name, "version": self.version,
                "params": _jsonable(output_params(self.params)),
                **({"uses_gold_labels": True} if self.uses_gold_labels else {})}


def output_params(params: Any) -> dict[str, Any]:
    """The parameters that can change a component's output (all but ``affects_output=False`` fields)."""
    values = dataclasses.asdict(params)
    for f in dataclasses.fields(params):
        if f.metadata.get("affects_output") is False:
            values.pop(f.name)
    return values


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


class Augmenter(Component):
    """Turns the train split into a new train split (adds, drops or repeats rows).

    Contract: only the train split is ever passed; every returned row keeps a label from the
    task's label set; a generated row has a new unique id and sets ``meta["source_id"]`` (the
    id of the post it came from), ``meta["augmenter"]`` and, for a verbatim resampling copy,
    ``meta["copy"] = True``; the same input and seed give the same output.
    """

    kind: ClassVar[str] = "augmenter"

    #: What the last :meth:`augment` call did, for people: a JSON-able dict that ``alexbench
    #: augment`` shows (every key; the ones it knows, such as ``errors``, ``rejected``,
    #: ``oversampled`` and ``undersampled``, in words) and prints whole with ``--json``. Optional.
    last_report: dict[str, Any] | None = None

    @abc.abstractmethod
    def augment(self, train: Sequence[Post], ctx: Context) -> list[Post]:
        ...

    def plan(self, train: Sequence[Post], ctx: Context) -> ExplainerPlan | None:
        """What :meth:`augment` would send to a model that charges or takes long per copy (an LLM
        writing copies), without sending anything (``alexbench grid --dry-run``); an upper bound
        is fine (say so in ``note``). Default: None (nothing to send)."""
        return None


@dataclass(frozen=True)
class Prediction:
    """Labels and class probabilities, one per input post and in input order.

    ``probs[i][j]`` is the probability of ``ctx.task.labels[j]`` for post ``i``. On a multi-label
    task ``labels[i]`` is post ``i``'s predicted label set as a canonical string
    (:func:`join_labels`) and ``probs[i][j]`` the independent probability that label ``j`` applies
    (a row need not sum to 1).

    ``usage`` is for a classifier that calls a model per post (the ``llm`` classifier): what these
    predictions cost — ``questions``, ``cached``, ``prompt_tokens``, ``cost_usd`` (None when
    unknown), ``latency_p50_s``, ``latency_p95_s``. The runner stores it in ``metrics.json``
    (``classifier_usage``, per split); it is not part of the predictions.
    """

    labels: list[str]
    probs: list[list[float]]
    usage: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if len(self.labels) != len(self.probs):
            raise ValueError(f"{len(self.labels)} labels but {len(self.probs)} probability rows")


class Classifier(Component):
    """Fits on train (may use dev for model selection) and predicts in batches."""

    kind: ClassVar[str] = "classifier"

    @abc.abstractmethod
    def fit(self, train: Sequence[Post], dev: Sequence[Post], ctx: Context) -> dict[str, Any]:
        """Train; return a JSON-able report (e.g. dev metric per epoch) stored with the run."""

    @abc.abstractmethod
    def predict(self, posts: Sequence[Post], ctx: Context) -> Prediction:
        ...

    def plan(self, posts: Sequence[Post], ctx: Context, dev: Sequence[Post] = (),
             train: Sequence[Post] = ()) -> ExplainerPlan | None:
        """What :meth:`fit` (on ``dev``; ``train`` as :meth:`fit` would get it before any
        augmentation, e.g. for few-shot examples) and :meth:`predict` (on ``posts``) would send to a
        model that charges or takes long per post (an LLM asked directly), without sending anything
        (``alexbench grid --dry-run``). Default: None (nothing to send)."""
        return None


Status = Literal["not_sent", "ok", "unparsable", "failed"]


@dataclass(frozen=True)
class Explanation:
    """An explainer's answer about one post's predicted label.

    ``verdict`` is True when the prediction holds, False when it does not, None when no verdict
    could be parsed. The host rejects a changed label unless ``status == "ok"`` and
    ``verdict is False``.
    """

    post_id: str
    old_label: str
    new_label: str
    status: Status
    verdict: bool | None = None
    reason: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExplainerPlan:
    """What an explainer would send for one run, computed without sending anything
    (``alexbench grid STUDY --dry-run``). Token counts and cost are None when unknown;
    ``completion_tokens_max`` and ``cost_usd_max`` are upper bounds."""

    model: str
    posts: int  # posts it would judge (test, and dev when it calibrates there)
    cached: int  # of those, posts whose answer its cache already holds
    to_send: int  # posts that would go to the model
    calls: int  # requests at most
    prompt_tokens: int | None = None
    completion_tokens_max: int | None = None
    cost_usd_max: float | None = None
    note: str = ""


class Explainer(Component):
    """Checks the classifier's predictions and may flip them, with a reason."""

    kind: ClassVar[str] = "explainer"

    @abc.abstractmethod
    def explain(self, posts: Sequence[Post], prediction: Prediction, ctx: Context) -> list[Explanation]:
        """Return one Explanation per post, in input order (``not_sent`` for posts it skipped)."""

    def calibrate(self, posts: Sequence[Post], prediction: Prediction, ctx: Context,
                  objective: Callable[[Sequence[str]], float]) -> dict[str, Any] | None:
        """Tune on the dev split; the runner calls this before :meth:`explain` with the dev posts,
        the classifier's dev predictions and ``objective(labels)``: the task's official metric of
        final dev labels. Return a JSON-able record (stored as ``explainer_calibration`` in the
        run's ``metrics.json``; a ``threshold`` in it is also shown on the leaderboard) or None.
        Default: nothing to tune."""
        return None

    def reasons(self, posts: Sequence[Post], labels: Sequence[str], verdicts: Sequence[bool],
                ctx: Context, asked: Sequence[str] | None = None) -> list[str] | None:
        """A free-text reason for each post's stored verdict on its predicted label, for
        explanations stored without one (the LLM's ``score`` verdict writes reasons for flips
        only); used by ``alexbench explain --reasons``. ``labels`` are the predicted labels (the
        explanations' ``old_label``). On a multi-label task the verdicts are per label: ``asked``
        names the one label of the post's predicted set each verdict is about (a post comes once
        per label asked); it is passed on multi-label tasks only. Default: None (not supported)."""
        return None

    def plan(self, posts: Sequence[Post], prediction: Prediction, ctx: Context,
             dev: Sequence[Post] = (), dev_prediction: Prediction | None = None) -> ExplainerPlan | None:
        """What :meth:`explain` (and :meth:`calibrate`) would send for these predictions, without
        sending anything (``alexbench grid --dry-run``). Default: None (cannot tell)."""
        return None


COMPONENT_KINDS: dict[str, type[Component]] = {
    "augmenter": Augmenter,
    "classifier": Classifier,
    "explainer": Explainer,
}

#: The hook by which plugins register each kind of component (metrics and renderers too); the one such map.
REGISTRAR_HOOKS: dict[str, str] = {
    "augmenter": "alexbench_register_augmenters",
    "classifier": "alexbench_register_classifiers",
    "explainer": "alexbench_register_explainers",
    "metric": "alexbench_register_metrics",
    "renderer": "alexbench_register_renderers",
}


# ----- Metrics: a plugin registers Metric objects (alexbench_register_metrics) -----

#: The kinds of value a parameter may declare, and how the errors describe them.
KINDS = {
    "labels": "a non-empty array of distinct labels of the task",
    "label": "one label of the task",
    "extra": "the key of one of the task's extra columns ([columns] extra)",
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
}
#: What a metric may require of the task (``Metric.requires``), and the field that provides it.
REQUIREMENTS = {"positive": "labels.positive"}


@dataclass(frozen=True)
class MetricParam:
    """One parameter of a metric: ``kind`` is one of :data:`KINDS`; ``required`` makes a task
    that names the metric official without it an error."""

    kind: str
    required: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"MetricParam kind must be one of {sorted(KINDS)}, got {self.kind!r}")


@dataclass(frozen=True)
class ScoreInput:
    gold: Sequence[str]
    pred: Sequence[str]
    labels: Sequence[str]
    positive: str | None = None
    extra: Sequence[Mapping[str, str]] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    #: gold and pred are canonical label-set strings of a multi-label task
    multi_label: bool = False


@dataclass(frozen=True)
class Metric:
    """A named scalar metric; ``fn`` returns None where it does not apply (e.g. no positive class).
    ``multi_label``: whether ``fn`` understands a multi-label task's label sets (others are not
    computed on such a task, and cannot be its official metric).

    ``from_tables`` (optional): the same metric of a single-label split from its confusion
    ``Tables`` (:mod:`alexbench.scoring.tables`), equal to ``fn`` float for float. The paired bootstrap uses it (one
    ``bincount`` per resample instead of a pass over every post); without it, ``fn`` is called.

    ``params`` (optional): the ``[metric] params`` it takes, by name (:class:`MetricParam`: a kind
    such as ``"labels"`` or ``"extra"``, and whether it is required), checked when a task names it
    official (an unknown name, a missing required one, a label the task lacks are errors naming
    ``metric.params.KEY``); None, the default, takes any params unchecked. ``requires``: what the
    task must define for it to apply (``"positive"``: ``labels.positive``)."""

    name: str
    fn: Callable[[ScoreInput], float | None]
    description: str = ""
    higher_is_better: bool = True
    multi_label: bool = False
    from_tables: Callable[[Any], float | None] | None = None
    params: Mapping[str, MetricParam] | None = field(default=None, hash=False)
    requires: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = [need for need in self.requires if need not in REQUIREMENTS]
        if unknown:
            raise ValueError(f"metric {self.name!r}: requires {unknown}; known: {sorted(REQUIREMENTS)}")

    def __call__(self, data: ScoreInput) -> float | None:
        return self.fn(data)
