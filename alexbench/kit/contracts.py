"""The conformance kit's contracts: the tests every augmenter, classifier and explainer must pass
(collected through a plugin author's subclasses; see :mod:`alexbench.testing`). Their label
checks hold on multi-label tasks too (:mod:`alexbench.kit.multilabel`)."""

from __future__ import annotations

import dataclasses
import json
import math
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from alexbench.kit import multilabel as ml
from alexbench.kit.tasks import TASK_KINDS

if TYPE_CHECKING:
    from alexbench.config.tasks import TaskSpec
    from alexbench.data.splits import Dataset
    from alexbench.interfaces import Component, Context, Post, Prediction
    from alexbench.plugin.host import PluginHost
    from alexbench.run.runner import RunOutcome
    from alexbench.run.runspec import RecordedComponent, RunSpec

from alexbench.kit.inline import make_host, named_plugins

# -- the contracts ----------------------------------------------------------------------------
# Every assertion message says what is wrong and what to change: a plugin author reads them.

KIT_TASK_NAMES = frozenset(info["name"] for info in TASK_KINDS.values())


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _post_key(post: Post) -> tuple[Any, ...]:
    return (post.id, post.text, post.label, _jsonable(dict(post.extra)), _jsonable(dict(post.meta)))


def _recorded_fields(params: type) -> set[str]:
    """The Params fields that describe() records (all but ``affects_output=False`` ones)."""
    return {f.name for f in dataclasses.fields(params) if f.metadata.get("affects_output") is not False}


def _few(items: Sequence[Any], n: int = 5) -> str:
    return ", ".join(repr(i) for i in items[:n]) + (f" (and {len(items) - n} more)" if len(items) > n else "")


class _Contract(ml.MultiLabelContract):
    """Shared machinery. Subclass one of the three public contracts, not this."""

    kind: ClassVar[str] = ""
    #: The registered name of the component under test (required).
    component: ClassVar[str] = ""
    #: Parameters to build it with (a variant file's ``params`` table).
    params: ClassVar[Mapping[str, Any]] = {}
    #: In-process plugins to register besides the installed ones (classes, plugin objects, pairs).
    plugins: ClassVar[Sequence[Any]] = ()
    #: Tasks to run on: tiny task kinds ("binary", "multiclass") and/or task files (paths,
    #: absolute or relative to the test module). A component declaring ``multi_label = True``
    #: also runs on the "multilabel" kind.
    tasks: ClassVar[Sequence[str | Path]] = ("binary", "multiclass")
    #: The seed of the contract runs; ``seed + 1`` is used as "another seed".
    seed: ClassVar[int] = 0
    #: The classifier used when the component under test is an augmenter or explainer (on a
    #: multi-label task: ``majority`` unless this one declares ``multi_label = True``).
    classifier: ClassVar[str] = "majority"
    classifier_params: ClassVar[Mapping[str, Any]] = {}

    # -- helpers (available to subclasses' own tests) ----------------------------------------
    def host(self) -> PluginHost:
        """The real plugin host with the installed plugins and this contract's ``plugins``; the
        test fails at once, saying why, when the component is not there (a plugin left out)."""
        if not self.component:
            raise TypeError(f"{type(self).__name__} must set 'component' to the registered {self.kind} name")
        host = make_host(*self.plugins)
        if self.component in host.registry(self.kind):
            return host
        from alexbench.errors import did_you_mean

        mine = {name for name, _ in named_plugins(self.plugins)}
        broken = [f"plugin {b.name!r}: {b.error}" for b in host.broken if b.name in mine]
        missing = (f"{type(self).__name__}: no {self.kind} named {self.component!r} is registered."
                   f"{did_you_mean(self.component, host.registry(self.kind).names())}")
        if broken:
            pytest.fail(f"{missing} This contract's plugins were left out: {'; '.join(broken)}", pytrace=False)
        pytest.fail(f"{missing} Install your plugin where these tests run (pip install -e .), or name its class "
                    f"in the contract's plugins.{host.left_out_note(self.component)}", pytrace=False)

    def build(self, host: PluginHost | None = None, params: Mapping[str, Any] | None = None) -> Component:
        host = host or self.host()
        return host.build(self.kind, self.component, dict(self.params if params is None else params))

    def expected_params(self, host: PluginHost | None = None) -> dict[str, Any]:
        """The parameters describe() and the run spec must record: the Params defaults updated
        with ``params``, less the fields declared ``metadata={"affects_output": False}``."""
        cls = (host or self.host()).component_class(self.kind, self.component)
        recorded = _recorded_fields(cls.Params)
        return _jsonable({k: v for k, v in {**cls.param_defaults(), **dict(self.params)}.items() if k in recorded})

    @staticmethod
    def context(task: TaskSpec, seed: int) -> Context:
        from alexbench.interfaces import Context
        from alexbench.run.seeding import seed_everything

        seed_everything(seed)  # as the runner does before every run
        return Context(task=task, seed=seed)

    @staticmethod
    def dataset(task: TaskSpec) -> Dataset:
        from alexbench.data.splits import load_dataset

        return load_dataset(task)

    def classifier_for(self, task: TaskSpec, host: PluginHost | None = None) -> tuple[str, dict[str, Any]]:
        """The classifier (and params) an augmenter or explainer runs with on ``task``."""
        if task.multi_label and not ml.declares_multi_label(host or self.host(), "classifier", self.classifier):
            return "majority", {}
        return self.classifier, dict(self.classifier_params)

    def variant(self, task: TaskSpec, host: PluginHost | None = None) -> Any:
        from alexbench.config.variants import ComponentSpec, VariantSpec

        mine = ComponentSpec(self.component, dict(self.params))
        clf = mine if self.kind == "classifier" else ComponentSpec(*self.classifier_for(task, host))
        return VariantSpec(f"contract-{self.kind}-{self.component}", clf,
                           augmenters=(mine,) if self.kind == "augmenter" else (),
                           explainer=mine if self.kind == "explainer" else None)

    def run(self, task: TaskSpec, results: Path, host: PluginHost | None = None) -> RunOutcome:
        """One real run through :class:`~alexbench.run.runner.Runner` (which enforces the host's
        checks) with this component in its place; a run the host refuses fails the test with the
        host's reason."""
        from alexbench.errors import RunError
        from alexbench.run.runner import Runner
        from alexbench.run.store import ResultsStore

        runner = Runner(host or self.host(), ResultsStore(results), show_progress=False, device="cpu")
        refused = None
        try:
            outcome = runner.run(task, self.variant(task, host), self.seed)
        except RunError as exc:
            refused = str(exc)
        if refused is not None:  # outside the except block: the reason alone, without a chain of tracebacks
            pytest.fail(f"the real runner refused {self.kind} {self.component!r}: {refused}", pytrace=False)
        assert outcome.ok and outcome.run is not None, outcome.error
        return outcome

    def spec_entry(self, spec: RunSpec) -> RecordedComponent | None:
        variant = spec.variant
        return {"augmenter": lambda: variant.augmenters[0], "classifier": lambda: variant.classifier,
                "explainer": lambda: variant.explainer}[self.kind]()

    # -- contract tests shared by all kinds ---------------------------------------------------
    def test_describe_names_the_component_and_declares_params(self) -> None:
        host = self.host()
        cls = host.component_class(self.kind, self.component)
        declared = {f.name for f in dataclasses.fields(cls.Params)}
        fields = _recorded_fields(cls.Params)
        undeclared = sorted(set(self.params) - declared)
        assert not undeclared, (f"params {undeclared} of {type(self).__name__} are not fields of "
                                f"{cls.Params.__name__}: declare them there (with a default) or drop them from the test")
        described = self.build(host).describe()
        assert described["kind"] == self.kind and described["name"] == self.component, \
            f"describe() says {described['kind']} {described['name']!r}: keep the base class's describe()"
        assert isinstance(described["version"], str) and described["version"], \
            "version must be a non-empty string: set version = '1.0' on the class (bump it when behaviour changes)"
        assert set(described["params"]) == fields, \
            (f"describe()['params'] must list exactly the declared Params fields {sorted(fields)} (all but those "
             f"declared affects_output=False), got {sorted(described['params'])}: do not override describe(), "
             "or keep every such field in it")
        assert _jsonable(described["params"]) == self.expected_params(host), \
            "describe()['params'] must equal the Params defaults updated with the given params"

    def test_params_round_trip_into_the_run_spec(self, alexbench_contract_task: TaskSpec, tmp_path: Path) -> None:
        host = self.host()
        outcome = self.run(alexbench_contract_task, tmp_path / "results", host)
        stored = self.spec_entry(outcome.run.spec())
        assert stored is not None and stored.name == self.component
        assert stored.params == self.expected_params(host), \
            ("run_spec.json must record the full parameter set: describe() must return every Params field "
             "with the value the component was built with")


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
        from alexbench.interfaces import Prediction

        pred = clf.predict(list(posts), ctx)
        assert isinstance(pred, Prediction), \
            f"predict returned {type(pred).__name__}: return alexbench.interfaces.Prediction(labels, probs)"
        return pred

    def test_one_prediction_and_probability_row_per_post(self, alexbench_contract_task: TaskSpec) -> None:
        task = alexbench_contract_task
        clf, data, ctx = self.fitted(task)
        for split in (data.dev, data.test):
            pred = self.predict(clf, split, ctx)
            assert len(pred.labels) == len(split) and len(pred.probs) == len(split), \
                (f"predict returned {len(pred.labels)} labels and {len(pred.probs)} probability rows for "
                 f"{len(split)} posts: give one of each per post, in input order")
            for post, label, row in zip(split, pred.labels, pred.probs):
                ml.check_prediction_row(task, post.id, label, row)

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
                (f"{post.id}: prediction depends on its position in the input: return labels and rows in the "
                 "order of the posts given (if you sort or batch them, put the results back in order)")

    def test_empty_input_gives_an_empty_prediction(self, alexbench_contract_task: TaskSpec) -> None:
        clf, _, ctx = self.fitted(alexbench_contract_task)
        try:
            pred = self.predict(clf, [], ctx)
        except AssertionError:
            raise
        except Exception as exc:
            pytest.fail(f"predict([]) raised {type(exc).__name__}: {exc}; return Prediction([], []) for no posts",
                        pytrace=False)
        assert pred.labels == [] and pred.probs == [], \
            f"predict([]) returned {pred!r}: return Prediction([], []) for no posts"

    def test_deterministic_under_a_seed(self, alexbench_contract_task: TaskSpec) -> None:
        task = alexbench_contract_task
        outputs = []
        for _ in range(2):
            clf, data, ctx = self.fitted(task, self.seed)
            pred = self.predict(clf, data.test, ctx)
            outputs.append((pred.labels, pred.probs))
        assert outputs[0] == outputs[1], \
            ("two fits with the same seed gave different predictions: derive all randomness from ctx.seed "
             "(random.Random(ctx.seed), numpy.random.default_rng(ctx.seed), random_state=ctx.seed)")
        clf, data, ctx = self.fitted(task, self.seed + 1)  # another seed may differ, but must work
        assert len(self.predict(clf, data.test, ctx).labels) == len(data.test)


class AugmenterContract(_Contract):
    """What every augmenter must do. Set ``component`` (and ``params``) in a ``Test*`` subclass."""

    kind: ClassVar[str] = "augmenter"
    #: Whether the augmenter makes rows. The kit's tiny tasks are built to need them (an
    #: imbalanced train split, posts of one to five sentences, 3 to 60 words), so an augmenter
    #: that makes none there is broken; set False for one that only drops rows.
    generates: ClassVar[bool] = True

    def augmented(self, task: TaskSpec, seed: int | None = None) -> tuple[list[Post], Dataset]:
        from alexbench.fsio import sha256_file
        from alexbench.interfaces import Post
        from alexbench.run.guards import changed_files, watched_files

        data = self.dataset(task)
        files = watched_files(task, data, sha256_file(task.path))
        train = list(data.train)
        out = self.build().augment(train, self.context(task, self.seed if seed is None else seed))
        changed = [str(path) for path, _, _ in changed_files(files)]
        assert not changed, f"augment wrote to the task's files {changed}: an augmenter must never write to them"
        assert isinstance(out, list), f"augment returned {type(out).__name__}: return a list of Post"
        assert all(isinstance(p, Post) for p in out), "augment must return Post objects (post.replace(...) makes one)"
        assert [p.id for p in train] == [p.id for p in data.train], \
            "augment must not modify the list it is given: build a new one (out = list(train))"
        return out, data

    def test_labels_preserved_and_generated_rows_name_their_source(self, alexbench_contract_task: TaskSpec) -> None:
        task = alexbench_contract_task
        out, data = self.augmented(task)
        source = {p.id: p for p in data.train}
        ids = [p.id for p in out]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        assert not repeated, (f"row ids must be unique, these repeat: {_few(repeated)}: give each generated row a "
                              "new id, e.g. f'{post.id}~{self.name}{k}'")
        for post in out:
            ml.check_row_label(task, post.id, post.label)
            if post.id in source:
                assert post.label == source[post.id].label, \
                    (f"{post.id}: an original row's label was changed from {source[post.id].label!r} to "
                     f"{post.label!r}: keep each train post's label (make a new row with a new id instead)")
                continue
            origin = post.meta.get("source_id")
            assert origin in source, \
                (f"generated row {post.id}: meta['source_id'] must name a train post, got {origin!r}: set it to "
                 "the id of the post the row was made from")
            assert post.label == source[origin].label, \
                (f"generated row {post.id}: label {post.label!r} differs from its source's {source[origin].label!r}: "
                 "a generated row carries its source's label (post.replace(id=..., text=...) keeps it)")

    def test_sees_and_returns_train_only(self, alexbench_contract_task: TaskSpec, tmp_path: Path) -> None:
        task = alexbench_contract_task
        out, data = self.augmented(task)
        held_out = list(data.dev) + list(data.test)
        held_out_ids = {p.id for p in held_out}
        leaked = [p.id for p in out if p.id in held_out_ids or p.meta.get("source_id") in held_out_ids]
        assert not leaked, (f"rows from dev/test in the augmented train split: {_few(leaked)}: augment sees the "
                            "train split only; never read the task's dev or test files")
        # By text too: a dev/test post under a new id is still a leak (the host drops it, and says so).
        train_ids, train_texts = {p.id for p in data.train}, {p.text for p in data.train}
        held_out_text = {p.text: p.id for p in held_out}
        copied = [f"{p.id} = {held_out_text[p.text]}" for p in out
                  if p.id not in train_ids and p.text in held_out_text and p.text not in train_texts]
        assert not copied, (f"generated rows whose text is a dev/test post's: {_few(copied)}: augment sees the "
                            "train split only; make rows from the posts it is given, never from the task's dev or "
                            "test files")
        # The real runner passes train only and fails the run if dev or test change.
        prov = self.run(task, tmp_path / "results").run.provenance()
        step = prov["augmentation"]["steps"][0]
        assert step["rows_in"] == len(data.train) and step["augmenter"]["name"] == self.component

    def test_generates_rows_where_the_task_needs_them(self, alexbench_contract_task: TaskSpec) -> None:
        from alexbench.data.augment import keep_rows
        from alexbench.data.splits import count_labels

        task = alexbench_contract_task
        if not self.generates:
            pytest.skip(f"{type(self).__name__}.generates is False: the augmenter only drops rows")
        if task.name not in KIT_TASK_NAMES:
            pytest.skip("only the kit's tiny tasks are built to need generated rows")
        out, data = self.augmented(task)
        train_ids = {p.id for p in data.train}
        made = [p for p in out if p.id not in train_ids]
        counts = count_labels(data.train, task)
        assert made, (f"augment made no rows on the kit's {task.name} task, which is built to need them (train "
                      f"classes {counts}, posts of one to five sentences and 3 to 60 words): check that it handles "
                      "multi-sentence posts and grows the minority class; if it only drops rows, set "
                      f"generates = False on {type(self).__name__}")
        kept, dropped, _ = keep_rows(train_ids, out, {p.text for p in (*data.dev, *data.test)})
        assert any(p.id not in train_ids for p in kept), \
            (f"augment made {len(made)} rows but the host drops them all ({dict(dropped)}): a generated row that "
             "repeats a kept text is a duplicate unless it is a resampling copy (meta['copy'] = True)")

    def test_deterministic_under_a_seed(self, alexbench_contract_task: TaskSpec) -> None:
        task = alexbench_contract_task
        first, _ = self.augmented(task, self.seed)
        second, _ = self.augmented(task, self.seed)
        assert [_post_key(p) for p in first] == [_post_key(p) for p in second], \
            ("two calls with the same seed gave different output: derive all randomness from ctx.seed and the "
             "post (random.Random(f'{ctx.seed}:{post.id}')), never from the clock or an unseeded generator")
        self.augmented(task, self.seed + 1)  # another seed may differ, but must work
