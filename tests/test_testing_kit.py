"""The conformance kit (alexbench.testing): built-in and inline components pass it; deliberately
broken components fail exactly the contract tests that describe what they break."""

from __future__ import annotations

import types
from dataclasses import dataclass
from pathlib import Path

import pytest

from alexbench import hookimpl
from alexbench.data import load_dataset
from alexbench.errors import PluginError
from alexbench.interfaces import Augmenter, Classifier, Explainer, Explanation, Prediction
from alexbench.tasks import load_task
from alexbench.testing import (
    TASK_KINDS,
    AugmenterContract,
    ClassifierContract,
    ExplainerContract,
    make_host,
    write_tiny_task,
)

pytest_plugins = ["pytester"]


# -- the kit applied to built-in components ---------------------------------------------------

class TestMajorityContract(ClassifierContract):
    component = "majority"


class TestTfidfLogRegContract(ClassifierContract):
    component = "tfidf_logreg"
    params = {"C": 2, "class_weight": "balanced", "max_ngram": 1}


class TestResampleContract(AugmenterContract):
    component = "resample"
    params = {"oversample_to": 0.5}


# -- the kit applied to small inline components -----------------------------------------------

@dataclass(frozen=True)
class CueParams:
    cue: str = "covid"


class CueClassifier(Classifier):
    """Predicts the last label for posts containing the cue, else the first."""

    name = "kit_cue"
    version = "1.0"
    Params = CueParams

    def fit(self, train, dev, ctx):
        return {}

    def predict(self, posts, ctx):
        labels = list(ctx.task.labels)
        chosen = [labels[-1] if self.params.cue in p.text else labels[0] for p in posts]
        return Prediction(chosen, [[0.9 if lab == c else 0.1 / (len(labels) - 1) for lab in labels] for c in chosen])


class UpperCaser(Augmenter):
    """Adds an upper-cased copy of every post."""

    name = "kit_upper"
    version = "1.0"

    def augment(self, train, ctx):
        return list(train) + [p.replace(id=f"{p.id}~up", text=p.text.upper(),
                                        meta={"source_id": p.id, "augmenter": self.name}) for p in train]


class AgreeingExplainer(Explainer):
    """Confirms every prediction."""

    name = "kit_agree"
    version = "1.0"

    def explain(self, posts, prediction, ctx):
        return [Explanation(p.id, lab, lab, "ok", verdict=True) for p, lab in zip(posts, prediction.labels)]


class TestInlineClassifier(ClassifierContract):
    component = "kit_cue"
    plugins = (CueClassifier,)
    params = {"cue": "positive"}


class TestInlineAugmenter(AugmenterContract):
    component = "kit_upper"
    plugins = (UpperCaser,)
    tasks = ("binary",)


class TestInlineExplainer(ExplainerContract):
    component = "kit_agree"
    plugins = (AgreeingExplainer, CueClassifier)
    classifier = "kit_cue"


# -- fixtures and helpers ---------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(TASK_KINDS))
def test_tiny_tasks_are_real_tasks_with_every_label_in_every_split(kind: str, tmp_path: Path) -> None:
    task = load_task(write_tiny_task(tmp_path, kind))
    assert list(task.labels) == TASK_KINDS[kind]["labels"] and task.positive == TASK_KINDS[kind]["positive"]
    data = load_dataset(task)
    for split in (data.train, data.dev, data.test):
        assert {p.label for p in split} == set(task.labels)
    assert not {p.text for p in data.train} & ({p.text for p in data.dev} | {p.text for p in data.test})
    with pytest.raises(ValueError, match="unknown tiny task kind 'ternary'"):
        write_tiny_task(tmp_path, "ternary")


def test_fixtures(alexbench_task, alexbench_multiclass_task, alexbench_task_file, alexbench_results,
                  alexbench_store, register_inline_plugin) -> None:
    assert alexbench_task.path == alexbench_task_file and alexbench_task.labels == ("0", "1")
    assert alexbench_multiclass_task.labels == ("none", "self", "other")
    assert alexbench_results.is_dir() and not any(alexbench_results.iterdir())
    assert alexbench_store.root == alexbench_results
    host = register_inline_plugin(CueClassifier, UpperCaser, ("agree-plugin", types.SimpleNamespace(
        alexbench_register_explainers=hookimpl(lambda registry: registry.add(AgreeingExplainer)))))
    assert host.classifiers.entry("kit_cue").plugin == "inline-kit_cue"
    assert host.augmenters.entry("kit_upper").plugin == "inline-kit_upper"
    assert host.explainers.entry("kit_agree").plugin == "agree-plugin"
    assert "majority" in host.classifiers  # installed plugins are loaded too
    assert "majority" not in make_host(CueClassifier, load_entrypoints=False).classifiers


def test_register_inline_plugin_rejects_what_the_host_rejects(register_inline_plugin) -> None:
    with pytest.raises(TypeError, match="is not an alexbench Augmenter, Classifier or Explainer"):
        register_inline_plugin(dict)
    bad = types.SimpleNamespace(alexbench_register_classifiers=hookimpl(lambda registry, extra: None))
    with pytest.raises(PluginError, match="plugin 'bad' is invalid"):
        register_inline_plugin(("bad", bad))


def test_a_contract_without_a_component_says_what_to_set() -> None:
    class TestNothing(ClassifierContract):
        pass

    with pytest.raises(TypeError, match="TestNothing must set 'component' to the registered classifier name"):
        TestNothing().host()


# -- broken components fail the contract -------------------------------------------------------

BROKEN = '''
import random

from dataclasses import dataclass

from alexbench.interfaces import Augmenter, Classifier, Explainer, Explanation, Prediction
from alexbench.testing import AugmenterContract, ClassifierContract, ExplainerContract


def rows(labels, chosen):
    return [[0.9 if lab == c else 0.1 / (len(labels) - 1) for lab in labels] for c in chosen]


class Cue(Classifier):
    name = "b_cue"
    version = "1"

    def fit(self, train, dev, ctx):
        return {}

    def labels(self, posts, ctx):
        labels = list(ctx.task.labels)
        return [labels[-1] if "covid" in p.text else labels[0] for p in posts]

    def predict(self, posts, ctx):
        chosen = self.labels(posts, ctx)
        return Prediction(chosen, rows(ctx.task.labels, chosen))


class SortsItsInput(Cue):
    name = "b_sorts"

    def predict(self, posts, ctx):
        return super().predict(sorted(posts, key=lambda p: p.text), ctx)


class Unnormalised(Cue):
    name = "b_unnormalised"

    def predict(self, posts, ctx):
        chosen = self.labels(posts, ctx)
        return Prediction(chosen, [[2.0 if lab == c else 1.0 for lab in ctx.task.labels] for c in chosen])


class CrashesOnEmpty(Cue):
    name = "b_empty"

    def predict(self, posts, ctx):
        longest = max(len(p.text) for p in posts)
        return super().predict(posts, ctx) if longest else None


class Unseeded(Cue):
    name = "b_unseeded"

    def fit(self, train, dev, ctx):
        self.jitter = random.Random().random() * 0.05  # not derived from ctx.seed
        return {}

    def predict(self, posts, ctx):
        chosen = self.labels(posts, ctx)
        n = len(ctx.task.labels)
        return Prediction(chosen, [[r + self.jitter if i == 0 else r - self.jitter / (n - 1) for i, r in enumerate(row)]
                                   for row in rows(ctx.task.labels, chosen)])


@dataclass(frozen=True)
class TwoParams:
    alpha: float = 1.0
    beta: int = 3


class HidesAParam(Cue):
    name = "b_hides"
    Params = TwoParams

    def describe(self):
        described = super().describe()
        del described["params"]["beta"]
        return described


class BinaryOnly(Cue):
    name = "b_binary"

    def predict(self, posts, ctx):
        chosen = self.labels(posts, ctx)
        return Prediction(chosen, [[0.5, 0.5] for _ in chosen])


class FlipsLabels(Augmenter):
    name = "b_flips"
    version = "1"

    def augment(self, train, ctx):
        labels = list(ctx.task.labels)
        other = {lab: labels[(i + 1) % len(labels)] for i, lab in enumerate(labels)}
        return list(train) + [p.replace(id=p.id + "~f", text=p.text + " !", label=other[p.label],
                                        meta={"source_id": p.id}) for p in train]


class NoSourceId(Augmenter):
    name = "b_nosource"
    version = "1"

    def augment(self, train, ctx):
        return list(train) + [p.replace(id=p.id + "~n", text=p.text + " !") for p in train]


class UnseededAugmenter(Augmenter):
    name = "b_unseeded_aug"
    version = "1"

    def augment(self, train, ctx):
        rng = random.Random()
        return list(train) + [p.replace(id=p.id + "~u", text=p.text + " " + str(rng.random()),
                                        meta={"source_id": p.id}) for p in train]


class FlipsWithoutVerdict(Explainer):
    name = "b_noverdict"
    version = "1"

    def explain(self, posts, prediction, ctx):
        labels = list(ctx.task.labels)
        return [Explanation(p.id, lab, labels[-1] if lab != labels[-1] else labels[0], "ok", verdict=None)
                for p, lab in zip(posts, prediction.labels)]


class Reorders(Explainer):
    name = "b_reorders"
    version = "1"

    def explain(self, posts, prediction, ctx):
        out = [Explanation(p.id, lab, lab, "ok", verdict=True) for p, lab in zip(posts, prediction.labels)]
        return out[::-1]


class TestSortsItsInput(ClassifierContract):
    component, plugins = "b_sorts", (SortsItsInput,)

class TestUnnormalised(ClassifierContract):
    component, plugins = "b_unnormalised", (Unnormalised,)

class TestCrashesOnEmpty(ClassifierContract):
    component, plugins = "b_empty", (CrashesOnEmpty,)

class TestUnseeded(ClassifierContract):
    component, plugins = "b_unseeded", (Unseeded,)

class TestHidesAParam(ClassifierContract):
    component, plugins, params = "b_hides", (HidesAParam,), {"alpha": 2.0}

class TestBinaryOnly(ClassifierContract):
    component, plugins = "b_binary", (BinaryOnly,)

class TestFlipsLabels(AugmenterContract):
    component, plugins = "b_flips", (FlipsLabels,)

class TestNoSourceId(AugmenterContract):
    component, plugins = "b_nosource", (NoSourceId,)

class TestUnseededAugmenter(AugmenterContract):
    component, plugins = "b_unseeded_aug", (UnseededAugmenter,)

class TestFlipsWithoutVerdict(ExplainerContract):
    component, plugins = "b_noverdict", (FlipsWithoutVerdict,)

class TestReorders(ExplainerContract):
    component, plugins = "b_reorders", (Reorders,)
'''

BOTH = ("[binary]", "[multiclass]")


def both(test: str) -> set[str]:
    return {test + kind for kind in BOTH}


EXPECTED_FAILURES = {
    "TestSortsItsInput": both("test_predictions_follow_input_order"),
    "TestUnnormalised": both("test_one_prediction_and_probability_row_per_post"),
    "TestCrashesOnEmpty": both("test_empty_input_gives_an_empty_prediction"),
    "TestUnseeded": both("test_deterministic_under_a_seed"),
    "TestHidesAParam": {"test_describe_names_the_component_and_declares_params",
                        *both("test_params_round_trip_into_the_run_spec")},
    # The runner itself refuses a probability row of the wrong length, so the run fails too.
    "TestBinaryOnly": {"test_one_prediction_and_probability_row_per_post[multiclass]",
                       "test_params_round_trip_into_the_run_spec[multiclass]"},
    "TestFlipsLabels": both("test_labels_preserved_and_generated_rows_name_their_source"),
    # The runner refuses generated rows without meta['source_id']: every real run fails.
    "TestNoSourceId": both("test_labels_preserved_and_generated_rows_name_their_source")
    | both("test_sees_and_returns_train_only") | both("test_params_round_trip_into_the_run_spec"),
    "TestUnseededAugmenter": both("test_deterministic_under_a_seed"),
    "TestFlipsWithoutVerdict": both("test_never_changes_a_label_without_a_false_verdict")
    | both("test_params_round_trip_into_the_run_spec"),
    "TestReorders": both("test_one_explanation_per_post_in_order") | both("test_params_round_trip_into_the_run_spec")
    | both("test_never_changes_a_label_without_a_false_verdict"),
}


def test_broken_components_fail_exactly_the_contracts_they_break(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_broken=BROKEN)
    reprec = pytester.inline_run("-p", "no:cacheprovider")
    passed, skipped, failed = reprec.listoutcomes()
    assert not skipped
    got: dict[str, set[str]] = {}
    for report in failed:
        _, cls, test = report.nodeid.split("::")
        got.setdefault(cls, set()).add(test)
    assert got == EXPECTED_FAILURES
    # Every broken component still passes the contracts it does not break.
    passing_classes = {report.nodeid.split("::")[1] for report in passed}
    assert passing_classes == set(EXPECTED_FAILURES)
    assert len(passed) + len(failed) == 6 * 11 + 3 * 9 + 2 * 7  # classifier, augmenter, explainer contract sizes
    # The failure messages name the broken rule.
    messages = {report.nodeid.split("::", 1)[1]: report.longreprtext for report in failed}
    assert "probabilities must be numbers in [0, 1], got [1.0, 2.0]" in \
        messages["TestUnnormalised::test_one_prediction_and_probability_row_per_post[binary]"]
    assert "label '0' differs from its source's '1'" in \
        messages["TestFlipsLabels::test_labels_preserved_and_generated_rows_name_their_source[binary]"]
    assert "label changed '0' -> '1' with status 'ok', verdict None (needs status 'ok' and verdict False)" in \
        messages["TestFlipsWithoutVerdict::test_never_changes_a_label_without_a_false_verdict[binary]"]
    assert "depends on its position in the input" in \
        messages["TestSortsItsInput::test_predictions_follow_input_order[multiclass]"]
    assert "without meta['source_id']" in messages["TestNoSourceId::test_params_round_trip_into_the_run_spec[binary]"]


def test_contract_runs_use_their_seed(tmp_path: Path) -> None:
    """The contract's helpers build what the runner builds: a real run stored under the seed."""
    class TestSeeded(ClassifierContract):
        component = "majority"
        seed = 7

    contract = TestSeeded()
    task = load_task(write_tiny_task(tmp_path, "binary"))
    run = contract.run(task, tmp_path / "results").run
    assert run.spec()["seed"] == 7 and run.spec()["variant"]["classifier"]["name"] == "majority"


# -- documentation stays in step ---------------------------------------------------------------

def test_docs_name_every_fixture_and_contract_option() -> None:
    import alexbench.testing as kit
    from alexbench.testing import _Contract

    from .conftest import REPO

    docs = (REPO / "docs" / "plugins.md").read_text()
    fixtures = [name for name, obj in vars(kit).items()
                if hasattr(obj, "_fixture_function_marker") or type(obj).__name__ == "FixtureFunctionDefinition"]
    assert "register_inline_plugin" in fixtures and "alexbench_task" in fixtures
    for name in fixtures:
        if name != "alexbench_contract_task":  # internal: parametrised by the contract's `tasks`
            assert f"`{name}`" in docs, f"fixture {name} is not documented in docs/plugins.md"
    options = [name for name, value in vars(_Contract).items()
               if not name.startswith("_") and not callable(value) and not isinstance(value, staticmethod)]
    assert set(options) == {"kind", "component", "params", "plugins", "tasks", "seed", "classifier",
                            "classifier_params"}
    for name in set(options) - {"kind"}:
        assert f"`{name}`" in docs, f"contract option {name} is not documented in docs/plugins.md"


def test_the_hook_meta_test_fails_for_an_undocumented_untested_hook(monkeypatch) -> None:
    """tests/test_pluginmanager.py's meta-test really catches a new hook without doc or test."""
    from alexbench import hookspecs

    from .test_pluginmanager import test_every_hook_is_documented_and_tested

    test_every_hook_is_documented_and_tested()  # passes as the hooks are today

    def alexbench_brand_new_hook(registry) -> None:
        """A hook nobody documented or tested."""

    monkeypatch.setattr(hookspecs, "alexbench_brand_new_hook", hookspecs.hookspec(alexbench_brand_new_hook),
                        raising=False)
    with pytest.raises(AssertionError, match="alexbench_brand_new_hook is not documented in docs/hooks.md"):
        test_every_hook_is_documented_and_tested()
