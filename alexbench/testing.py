"""The plugin conformance kit: fixtures and contract tests for alexbench plugin authors.

Loaded automatically by pytest (``pytest11`` entry point ``alexbench``) wherever alexbench is
installed. Subclass a contract in your own test module and name your component::

    from alexbench.testing import ClassifierContract

    class TestKeywordRules(ClassifierContract):
        component = "keyword_rules"          # the registered name
        params = {"top_k": 5}                # optional: parameters to build it with

Every ``test_*`` method of the contract then runs against your component, on a tiny real task
written to a temporary folder (a binary and a three-class one; narrow with ``tasks =
("binary",)``), through the real plugin host and, where the contract says so, the real runner.
A component that is not installed can be registered in-process with ``plugins =
(MyClassifier,)`` (classes or plugin objects with ``@alexbench.hookimpl`` hooks).

Fixtures for your own tests: ``alexbench_task_file`` / ``alexbench_task`` (binary tiny task),
``alexbench_multiclass_task_file`` / ``alexbench_multiclass_task``, ``alexbench_results`` (an
empty results folder), ``alexbench_store`` (a ResultsStore there) and
``register_inline_plugin`` (a factory returning a PluginHost with in-process plugins added).

This module is imported by every pytest session where alexbench is installed, so it imports
nothing heavy at module level and defines no tests of its own (the contract classes are not
named ``Test*``, so they are collected only through your subclasses).
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import random
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from .hookspecs import hookimpl

if TYPE_CHECKING:
    from .data import Dataset
    from .interfaces import Component, Context, Explanation, Post, Prediction
    from .pluginmanager import PluginHost
    from .runner import RunOutcome
    from .store import ResultsStore
    from .tasks import TaskSpec

__all__ = [
    "TASK_KINDS", "AugmenterContract", "ClassifierContract", "ExplainerContract",
    "inline_plugin", "make_host", "write_tiny_task",
]

# -- the tiny tasks ---------------------------------------------------------------------------

_TASK_TOML = """\
[task]
name = "{name}"
title = "alexbench conformance kit: {title}"
data_dir = "data"

[columns]
id = "tweet_id"
text = "text"
label = "label"

[splits.train]
file = "train.tsv"
[splits.dev]
file = "dev.tsv"
[splits.test]
file = "test.tsv"

[labels]
values = {labels}
{positive}
[metric]
official = "{metric}"
"""

# Binary: does the author report their own COVID-19 infection (1) or not (0)? Imbalanced 1:2.
_BINARY = {
    "1": ["tested positive for covid today", "my pcr came back positive", "doctor says I have covid",
          "admitted to hospital with covid", "positive lateral flow this morning", "covid test positive ugh",
          "I got covid, isolating now", "diagnosed with covid yesterday", "I have covid and a fever",
          "my covid test is positive again", "stuck in bed with covid", "caught covid at the wedding"],
    "0": ["cases are rising in the city", "my mum tested positive", "negative test, phew",
          "wear a mask on the bus", "vaccine appointment booked", "lockdown again next week",
          "news report on hospital capacity", "hope I never get covid", "school closed for the week",
          "the government announced new rules", "stats look bad this month", "bought more hand gel",
          "long queue at the testing centre", "my flatmate has a cold", "working from home again",
          "covid numbers dropped in march", "the clinic opens at nine", "masks are sold out",
          "my test was negative", "reading about the new variant", "booster shots start monday",
          "travel rules changed again", "the office reopens soon", "hand washing song on the radio"],
}
# Three classes: who has the infection — the author (self), someone they know (other), nobody (none).
_MULTICLASS = {
    "self": ["tested positive for covid today", "my pcr came back positive", "I got covid, isolating now",
             "diagnosed with covid yesterday", "stuck in bed with covid", "caught covid at the wedding",
             "I have covid and a fever", "my covid test is positive again"],
    "other": ["my mum tested positive", "my brother has covid", "my flatmate caught covid",
              "dad is in hospital with covid", "my friend tested positive today", "my sister got covid at school",
              "grandma has covid again", "my boss has covid now"],
    "none": ["cases are rising in the city", "wear a mask on the bus", "vaccine appointment booked",
             "lockdown again next week", "news report on hospital capacity", "school closed for the week",
             "the government announced new rules", "bought more hand gel", "long queue at the testing centre",
             "covid numbers dropped in march", "masks are sold out", "booster shots start monday"],
}
TASK_KINDS: dict[str, dict[str, Any]] = {
    "binary": {"name": "kit_binary", "title": "binary self-report", "labels": ["0", "1"], "positive": "1",
               "metric": "f1_positive", "rows": _BINARY},
    "multiclass": {"name": "kit_multiclass", "title": "three-class who-has-it", "labels": ["none", "self", "other"],
                   "positive": None, "metric": "macro_f1", "rows": _MULTICLASS},
}
"""The tiny tasks the kit writes: ``binary`` (labels 0/1, positive 1) and ``multiclass``
(labels none/self/other, no positive label)."""


def _write_tsv(path: Path, rows: Sequence[tuple[str, str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("tweet_id\ttext\tlabel\n" + "".join(f"{i}\t{t}\t{lab}\n" for i, t, lab in rows), encoding="utf-8")


def write_tiny_task(root: Path | str, kind: str = "binary") -> Path:
    """Write a tiny real task (task.toml + train/dev/test TSVs) under ``root`` and return the
    task file. ``kind`` is ``binary`` or ``multiclass`` (see :data:`TASK_KINDS`). Every label
    occurs in every split; dev and test texts differ from train texts."""
    if kind not in TASK_KINDS:
        raise ValueError(f"unknown tiny task kind {kind!r}; choose one of {sorted(TASK_KINDS)}")
    info = TASK_KINDS[kind]
    folder = Path(root) / info["name"]
    folder.mkdir(parents=True, exist_ok=True)
    task_file = folder / "task.toml"
    positive = f'positive = "{info["positive"]}"\n' if info["positive"] else ""
    task_file.write_text(_TASK_TOML.format(name=info["name"], title=info["title"], labels=json.dumps(info["labels"]),
                                           positive=positive, metric=info["metric"]), encoding="utf-8")
    train, dev, test = [], [], []
    for label, texts in info["rows"].items():
        for i, text in enumerate(texts):
            post_id = f"{label}-{i}"
            if i % 4 == 0:
                dev.append((f"d-{post_id}", f"{text} again", label))
                test.append((f"t-{post_id}", f"{text} today", label))
            else:
                train.append((f"r-{post_id}", text, label))
    _write_tsv(folder / "data" / "train.tsv", train)
    _write_tsv(folder / "data" / "dev.tsv", dev)
    _write_tsv(folder / "data" / "test.tsv", test)
    return task_file


# -- in-process plugins -----------------------------------------------------------------------

_HOOK_OF_KIND = {"augmenter": "alexbench_register_augmenters", "classifier": "alexbench_register_classifiers",
                 "explainer": "alexbench_register_explainers"}


def inline_plugin(*classes: type) -> types.SimpleNamespace:
    """A plugin object registering the given component classes (augmenters, classifiers,
    explainers in any mix) — what a package's module would do with ``@hookimpl`` hooks."""
    by_hook: dict[str, list[type]] = {}
    for cls in classes:
        kind = getattr(cls, "kind", None)
        if kind not in _HOOK_OF_KIND:
            raise TypeError(f"{cls!r} is not an alexbench Augmenter, Classifier or Explainer subclass")
        by_hook.setdefault(_HOOK_OF_KIND[kind], []).append(cls)

    def registrar(members: list[type]) -> Callable[[Any], None]:
        def register(registry: Any) -> None:
            for member in members:
                registry.add(member)
        return hookimpl(register)

    return types.SimpleNamespace(**{hook: registrar(members) for hook, members in by_hook.items()})


def _named_plugins(plugins: Sequence[Any]) -> list[tuple[str, object]]:
    named: list[tuple[str, object]] = []
    for i, plugin in enumerate(plugins):
        if isinstance(plugin, tuple):
            named.append(plugin)
        elif inspect.isclass(plugin):
            named.append((f"inline-{getattr(plugin, 'name', plugin.__name__)}", inline_plugin(plugin)))
        else:
            named.append((getattr(plugin, "__name__", None) or f"inline-{i}", plugin))
    return named


def make_host(*plugins: Any, load_entrypoints: bool = True) -> PluginHost:
    """A real :class:`~alexbench.pluginmanager.PluginHost` (installed plugins included unless
    ``load_entrypoints=False``) plus in-process plugins: component classes, plugin objects or
    ``(name, plugin)`` pairs. An invalid plugin raises :class:`~alexbench.errors.PluginError`."""
    from .pluginmanager import PluginHost

    return PluginHost(load_entrypoints=load_entrypoints, trace=False, plugins=_named_plugins(plugins))


# -- fixtures ---------------------------------------------------------------------------------

@pytest.fixture
def alexbench_task_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The binary tiny task's ``task.toml`` (pass it to ``alexbench run -t``)."""
    return write_tiny_task(tmp_path_factory.mktemp("alexbench-task"), "binary")


@pytest.fixture
def alexbench_multiclass_task_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The three-class tiny task's ``task.toml``."""
    return write_tiny_task(tmp_path_factory.mktemp("alexbench-task"), "multiclass")


@pytest.fixture
def alexbench_task(alexbench_task_file: Path) -> TaskSpec:
    from .tasks import load_task

    return load_task(alexbench_task_file)


@pytest.fixture
def alexbench_multiclass_task(alexbench_multiclass_task_file: Path) -> TaskSpec:
    from .tasks import load_task

    return load_task(alexbench_multiclass_task_file)


@pytest.fixture
def alexbench_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty results folder (``alexbench --results DIR``)."""
    return tmp_path_factory.mktemp("alexbench-results")


@pytest.fixture
def alexbench_store(alexbench_results: Path) -> ResultsStore:
    from .store import ResultsStore

    return ResultsStore(alexbench_results)


@pytest.fixture
def register_inline_plugin() -> Callable[..., PluginHost]:
    """``register_inline_plugin(MyClassifier, some_plugin_module, ("name", obj))`` returns a
    PluginHost with the installed plugins and these in-process ones registered."""
    return make_host


@pytest.fixture
def alexbench_contract_task(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> TaskSpec:
    """The task a contract test runs on; parametrised by the contract's ``tasks``."""
    from .tasks import load_task

    kind = getattr(request, "param", "binary")
    return load_task(write_tiny_task(tmp_path_factory.mktemp("alexbench-contract"), kind))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each contract test once per task kind listed in the contract's ``tasks``."""
    cls = metafunc.cls
    if cls is None or not issubclass(cls, _Contract) or "alexbench_contract_task" not in metafunc.fixturenames:
        return
    kinds = list(cls.tasks)
    unknown = [k for k in kinds if k not in TASK_KINDS]
    if not kinds or unknown:
        raise ValueError(f"{cls.__name__}.tasks must name some of {sorted(TASK_KINDS)}, got {list(cls.tasks)}")
    metafunc.parametrize("alexbench_contract_task", kinds, indirect=True, ids=kinds)


# -- the contracts ----------------------------------------------------------------------------

def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _post_key(post: Post) -> tuple[Any, ...]:
    return (post.id, post.text, post.label, _jsonable(dict(post.extra)), _jsonable(dict(post.meta)))


class _Contract:
    """Shared machinery. Subclass one of the three public contracts, not this."""

    kind: ClassVar[str] = ""
    #: The registered name of the component under test (required).
    component: ClassVar[str] = ""
    #: Parameters to build it with (a variant file's ``params`` table).
    params: ClassVar[Mapping[str, Any]] = {}
    #: In-process plugins to register besides the installed ones (classes, plugin objects, pairs).
    plugins: ClassVar[Sequence[Any]] = ()
    #: Tiny task kinds to run on: "binary" and/or "multiclass".
    tasks: ClassVar[Sequence[str]] = ("binary", "multiclass")
    #: The seed of the contract runs; ``seed + 1`` is used as "another seed".
    seed: ClassVar[int] = 0
    #: The classifier used when the component under test is an augmenter or explainer.
    classifier: ClassVar[str] = "majority"
    classifier_params: ClassVar[Mapping[str, Any]] = {}

    # -- helpers (available to subclasses' own tests) ----------------------------------------
    def host(self) -> PluginHost:
        if not self.component:
            raise TypeError(f"{type(self).__name__} must set 'component' to the registered {self.kind} name")
        return make_host(*self.plugins)

    def build(self, host: PluginHost | None = None, params: Mapping[str, Any] | None = None) -> Component:
        host = host or self.host()
        return host.build(self.kind, self.component, dict(self.params if params is None else params))

    def expected_params(self, host: PluginHost | None = None) -> dict[str, Any]:
        cls = (host or self.host()).component_class(self.kind, self.component)
        return _jsonable({**cls.param_defaults(), **dict(self.params)})

    @staticmethod
    def context(task: TaskSpec, seed: int) -> Context:
        from .interfaces import Context
        from .provenance import seed_everything

        seed_everything(seed)  # as the runner does before every run
        return Context(task=task, seed=seed)

    @staticmethod
    def dataset(task: TaskSpec) -> Dataset:
        from .data import load_dataset

        return load_dataset(task)

    def variant(self) -> Any:
        from .spec import ComponentSpec, VariantSpec

        mine = ComponentSpec(self.component, dict(self.params))
        clf = mine if self.kind == "classifier" else ComponentSpec(self.classifier, dict(self.classifier_params))
        return VariantSpec(f"contract-{self.kind}-{self.component}", clf,
                           augmenters=(mine,) if self.kind == "augmenter" else (),
                           explainer=mine if self.kind == "explainer" else None)

    def run(self, task: TaskSpec, results: Path, host: PluginHost | None = None) -> RunOutcome:
        """One real run through :class:`~alexbench.runner.Runner` (which enforces the host's
        checks) with this component in its place."""
        from .runner import Runner
        from .store import ResultsStore

        outcome = Runner(host or self.host(), ResultsStore(results), show_progress=False, device="cpu").run(
            task, self.variant(), self.seed)
        assert outcome.ok and outcome.run is not None, outcome.error
        return outcome

    def spec_entry(self, spec: Mapping[str, Any]) -> Mapping[str, Any]:
        variant = spec["variant"]
        return {"augmenter": lambda: variant["augmenters"][0], "classifier": lambda: variant["classifier"],
                "explainer": lambda: variant["explainer"]}[self.kind]()

    # -- contract tests shared by all kinds ---------------------------------------------------
    def test_describe_names_the_component_and_declares_params(self) -> None:
        host = self.host()
        cls = host.component_class(self.kind, self.component)
        fields = {f.name for f in dataclasses.fields(cls.Params)}
        undeclared = sorted(set(self.params) - fields)
        assert not undeclared, f"params {undeclared} are not fields of {cls.__name__}.Params"
        described = self.build(host).describe()
        assert described["kind"] == self.kind and described["name"] == self.component
        assert isinstance(described["version"], str) and described["version"], "version must be a non-empty string"
        assert set(described["params"]) == fields, "describe()['params'] must list exactly the declared Params fields"
        assert _jsonable(described["params"]) == self.expected_params(host), \
            "describe()['params'] must equal the Params defaults updated with the given params"

    def test_params_round_trip_into_the_run_spec(self, alexbench_contract_task: TaskSpec, tmp_path: Path) -> None:
        host = self.host()
        outcome = self.run(alexbench_contract_task, tmp_path / "results", host)
        stored = self.spec_entry(outcome.run.spec())
        assert stored["name"] == self.component
        assert stored["params"] == self.expected_params(host), "run_spec.json must record the full parameter set"


class ClassifierContract(_Contract):
    """What every classifier must do. Set ``component`` (and ``params``) in a ``Test*`` subclass."""

    kind: ClassVar[str] = "classifier"

    def fitted(self, task: TaskSpec, seed: int | None = None) -> tuple[Any, Dataset, Context]:
        seed = self.seed if seed is None else seed
        data = self.dataset(task)
        clf = self.build()
        ctx = self.context(task, seed)
        clf.fit(data.train, data.dev, ctx)
        return clf, data, ctx

    def predict(self, clf: Any, posts: Sequence[Post], ctx: Context) -> Prediction:
        from .interfaces import Prediction

        pred = clf.predict(list(posts), ctx)
        assert isinstance(pred, Prediction), f"predict returned {type(pred).__name__}, not Prediction"
        return pred

    def test_one_prediction_and_probability_row_per_post(self, alexbench_contract_task: TaskSpec) -> None:
        task = alexbench_contract_task
        clf, data, ctx = self.fitted(task)
        for split in (data.dev, data.test):
            pred = self.predict(clf, split, ctx)
            assert len(pred.labels) == len(split) and len(pred.probs) == len(split)
            for post, label, row in zip(split, pred.labels, pred.probs):
                assert label in task.labels, f"{post.id}: predicted {label!r}, not one of {list(task.labels)}"
                assert len(row) == len(task.labels), \
                    f"{post.id}: {len(row)} probabilities for {len(task.labels)} labels {list(task.labels)}"
                assert all(isinstance(p, (int, float)) and 0.0 <= p <= 1.0 and not math.isnan(p) for p in row), \
                    f"{post.id}: probabilities must be numbers in [0, 1], got {row}"
                assert math.isclose(sum(row), 1.0, abs_tol=1e-4), f"{post.id}: probabilities sum to {sum(row)}, not 1"

    def test_predictions_follow_input_order(self, alexbench_contract_task: TaskSpec) -> None:
        clf, data, ctx = self.fitted(alexbench_contract_task)
        posts = list(data.test) + list(data.dev)
        shuffled = list(posts)
        random.Random(1234).shuffle(shuffled)
        assert [p.id for p in shuffled] != [p.id for p in posts]
        straight, mixed = self.predict(clf, posts, ctx), self.predict(clf, shuffled, ctx)
        by_id = {p.id: (label, row) for p, label, row in zip(posts, straight.labels, straight.probs)}
        for post, label, row in zip(shuffled, mixed.labels, mixed.probs):
            want_label, want_row = by_id[post.id]
            assert label == want_label and all(math.isclose(a, b, abs_tol=1e-6) for a, b in zip(row, want_row)), \
                f"{post.id}: prediction depends on its position in the input (labels and rows must follow input order)"

    def test_empty_input_gives_an_empty_prediction(self, alexbench_contract_task: TaskSpec) -> None:
        clf, _, ctx = self.fitted(alexbench_contract_task)
        pred = self.predict(clf, [], ctx)
        assert pred.labels == [] and pred.probs == []

    def test_deterministic_under_a_seed(self, alexbench_contract_task: TaskSpec) -> None:
        task = alexbench_contract_task
        outputs = []
        for _ in range(2):
            clf, data, ctx = self.fitted(task, self.seed)
            pred = self.predict(clf, data.test, ctx)
            outputs.append((pred.labels, pred.probs))
        assert outputs[0] == outputs[1], "two fits with the same seed gave different predictions"
        clf, data, ctx = self.fitted(task, self.seed + 1)  # another seed may differ, but must work
        assert len(self.predict(clf, data.test, ctx).labels) == len(data.test)


class AugmenterContract(_Contract):
    """What every augmenter must do. Set ``component`` (and ``params``) in a ``Test*`` subclass."""

    kind: ClassVar[str] = "augmenter"

    def augmented(self, task: TaskSpec, seed: int | None = None) -> tuple[list[Post], Dataset]:
        from .interfaces import Post

        data = self.dataset(task)
        train = list(data.train)
        out = self.build().augment(train, self.context(task, self.seed if seed is None else seed))
        assert isinstance(out, list), f"augment returned {type(out).__name__}, not a list"
        assert all(isinstance(p, Post) for p in out), "augment must return Post objects"
        assert [p.id for p in train] == [p.id for p in data.train], "augment must not modify its input list"
        return out, data

    def test_labels_preserved_and_generated_rows_name_their_source(self, alexbench_contract_task: TaskSpec) -> None:
        task = alexbench_contract_task
        out, data = self.augmented(task)
        source = {p.id: p for p in data.train}
        ids = [p.id for p in out]
        assert len(ids) == len(set(ids)), "row ids must be unique"
        for post in out:
            assert post.label in task.labels, f"{post.id}: label {post.label!r} is not one of {list(task.labels)}"
            if post.id in source:
                assert post.label == source[post.id].label, f"{post.id}: an original row's label was changed"
                continue
            origin = post.meta.get("source_id")
            assert origin in source, f"generated row {post.id}: meta['source_id'] must name a train post, got {origin!r}"
            assert post.label == source[origin].label, \
                f"generated row {post.id}: label {post.label!r} differs from its source's {source[origin].label!r}"

    def test_sees_and_returns_train_only(self, alexbench_contract_task: TaskSpec, tmp_path: Path) -> None:
        task = alexbench_contract_task
        out, data = self.augmented(task)
        held_out_ids = {p.id for p in data.dev} | {p.id for p in data.test}
        leaked = [p.id for p in out if p.id in held_out_ids or p.meta.get("source_id") in held_out_ids]
        assert not leaked, f"rows from dev/test in the augmented train split: {leaked}"
        # The real runner passes train only and fails the run if dev or test change.
        prov = self.run(task, tmp_path / "results").run.provenance()
        step = prov["augmentation"]["steps"][0]
        assert step["rows_in"] == len(data.train) and step["augmenter"]["name"] == self.component

    def test_deterministic_under_a_seed(self, alexbench_contract_task: TaskSpec) -> None:
        task = alexbench_contract_task
        first, _ = self.augmented(task, self.seed)
        second, _ = self.augmented(task, self.seed)
        assert [_post_key(p) for p in first] == [_post_key(p) for p in second], \
            "two calls with the same seed gave different output"
        self.augmented(task, self.seed + 1)  # another seed may differ, but must work


class ExplainerContract(_Contract):
    """What every explainer must do. Set ``component`` (and ``params``) in a ``Test*`` subclass.
    The predictions it explains come from ``classifier`` (default ``majority``)."""

    kind: ClassVar[str] = "explainer"

    def explained(self, task: TaskSpec, order: Callable[[list[Post]], list[Post]] | None = None
                  ) -> tuple[list[Post], Prediction, list[Explanation]]:
        from .interfaces import Explanation, Prediction

        host = self.host()
        data = self.dataset(task)
        ctx = self.context(task, self.seed)
        clf = host.build("classifier", self.classifier, dict(self.classifier_params))
        clf.fit(data.train, data.dev, ctx)
        posts = order(list(data.test)) if order else list(data.test)
        pred = clf.predict(posts, ctx)
        out = self.build(host).explain(posts, Prediction(list(pred.labels), [list(r) for r in pred.probs]), ctx)
        assert isinstance(out, list) and all(isinstance(e, Explanation) for e in out), \
            "explain must return a list of Explanation"
        return posts, pred, out

    def test_one_explanation_per_post_in_order(self, alexbench_contract_task: TaskSpec) -> None:
        task = alexbench_contract_task

        def shuffled(posts: list[Post]) -> list[Post]:
            random.Random(99).shuffle(posts)
            return posts

        for order in (None, shuffled):
            posts, pred, out = self.explained(task, order)
            assert len(out) == len(posts), f"{len(out)} explanations for {len(posts)} posts"
            assert [e.post_id for e in out] == [p.id for p in posts], "explanations must follow input order"
            assert [e.old_label for e in out] == list(pred.labels), "old_label must be the classifier's label"
            for e in out:
                assert e.status in ("not_sent", "ok", "unparsable", "failed"), f"{e.post_id}: status {e.status!r}"
                assert e.new_label in task.labels, f"{e.post_id}: new label {e.new_label!r} not in {list(task.labels)}"

    def test_never_changes_a_label_without_a_false_verdict(self, alexbench_contract_task: TaskSpec,
                                                         tmp_path: Path) -> None:
        task = alexbench_contract_task
        _, _, out = self.explained(task)
        for e in out:
            if e.new_label != e.old_label:
                assert e.status == "ok" and e.verdict is False, \
                    f"{e.post_id}: label changed {e.old_label!r} -> {e.new_label!r} with status {e.status!r}, " \
                    f"verdict {e.verdict!r} (needs status 'ok' and verdict False)"
        # The real runner enforces the same rule and stores what it accepted.
        run = self.run(task, tmp_path / "results").run
        stored = run.explanations()
        assert len(stored) == len(self.dataset(task).test)
        final = {row["id"]: row["pred"] for row in run.predictions() if row["split"] == "test"}
        assert all(final[e["post_id"]] == e["new_label"] for e in stored)


def iter_contracts() -> Iterator[type[_Contract]]:
    """The public contract classes (for documentation and tooling)."""
    yield from (AugmenterContract, ClassifierContract, ExplainerContract)
