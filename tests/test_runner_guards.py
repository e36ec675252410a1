"""The runner's own checks hold under ``python -O`` (no assert), and an interrupt is not a failed run."""

from __future__ import annotations

import ast
import inspect
import types

import pytest

from alexbench import hookimpl
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.errors import PluginError, RunError
from alexbench.interfaces import Augmenter, Classifier, Explainer, Explanation, Prediction
from alexbench.plugin.host import PluginHost
from alexbench.run import executors
from alexbench.run import runner as runner_module
from alexbench.run.executors import variant_from_dict
from alexbench.run.runner import Runner


class Interrupted(Classifier):
    name = "interrupted"
    version = "1.0"

    def fit(self, train, dev, ctx):
        raise KeyboardInterrupt

    def predict(self, posts, ctx):  # pragma: no cover - never reached
        raise AssertionError


PLUGIN = types.SimpleNamespace(alexbench_register_classifiers=hookimpl(lambda registry: registry.add(Interrupted)))


def test_an_interrupt_propagates_and_records_no_failure(tiny_task, store) -> None:
    runner = Runner(PluginHost(plugins=[("interrupt-plugin", PLUGIN)]), store, show_progress=False)
    with pytest.raises(KeyboardInterrupt):
        runner.run(tiny_task, VariantSpec("stop", ComponentSpec("interrupted")), 0)
    assert store.failures() == [] and not list(store.runs())
    assert not list((store.root / "runs").rglob("*.tmp"))


def test_a_component_of_the_wrong_kind_is_a_plugin_error(tiny_task, store, monkeypatch) -> None:
    host = PluginHost()
    explainer = host.build("explainer", "llm", {})
    monkeypatch.setattr(host, "build", lambda kind, name, params: explainer)
    with pytest.raises(PluginError, match=r"classifier 'llm' of variant 'odd' is a LLMExplainer, not a subclass of "
                                          r"Classifier"):
        Runner(host, store, show_progress=False).build(VariantSpec("odd", ComponentSpec("majority")))


def test_a_job_without_a_classifier_is_a_run_error() -> None:
    with pytest.raises(RunError, match="job for variant 'x' has no classifier"):
        variant_from_dict({"name": "x", "classifier": None})


def test_the_checks_are_not_asserts() -> None:
    """``python -O`` strips asserts: none guards the runner or the executors."""
    for module in (runner_module, executors):
        tree = ast.parse(inspect.getsource(module))
        assert not [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Assert)], module.__name__


# -- probability rows and the messages of the host's checks (issue 30, items 4 and 6) -----------

class SigmoidPerLabel(Classifier):
    """A cue-word scorer with one sigmoid per label: rows that do not sum to 1 (a multi-label
    habit) on a single-label task."""

    name = "sigmoid_per_label"
    version = "1.0"

    def fit(self, train, dev, ctx):
        return {}

    def predict(self, posts, ctx):
        import math

        labels = list(ctx.task.labels)
        rows = [[1 / (1 + math.exp(-(len(p.text) % (i + 3) - 1))) for i in range(len(labels))] for p in posts]
        return Prediction([labels[max(range(len(labels)), key=row.__getitem__)] for row in rows], rows)


class NearlyNormalised(Classifier):
    """Rows rounded to three decimals (0.333 each on three labels): within the stated tolerance."""

    name = "rounded_rows"
    version = "1.0"

    def fit(self, train, dev, ctx):
        return {}

    def predict(self, posts, ctx):
        n = len(ctx.task.labels)
        return Prediction([ctx.task.labels[0]] * len(posts), [[round(1 / n, 3)] * n for _ in posts])


class OneNumberPerPost(Classifier):
    """P(positive) alone, one number per post, on a binary task."""

    name = "one_number"
    version = "1.0"

    def fit(self, train, dev, ctx):
        return {}

    def predict(self, posts, ctx):
        return Prediction(["1" if "covid" in p.text else "0" for p in posts],
                          [[0.9] if "covid" in p.text else [0.1] for p in posts])


class JudgesPositivesUnderItsOwnIds(Explainer):
    """Acts on positive predictions only and names the verdict after the post (the trial's bug)."""

    name = "judged_ids"
    version = "1.0"

    def explain(self, posts, prediction, ctx):
        return [Explanation(f"{p.id}-judged" if label == ctx.task.positive else p.id, label, label,
                            "ok" if label == ctx.task.positive else "not_sent", True if label == ctx.task.positive
                            else None) for p, label in zip(posts, prediction.labels)]


class CueClassifier(Classifier):
    name = "covid_cue"
    version = "1.0"

    def fit(self, train, dev, ctx):
        return {}

    def predict(self, posts, ctx):
        labels = ["1" if "covid" in p.text else "0" for p in posts]
        return Prediction(labels, [[0.1, 0.9] if label == "1" else [0.9, 0.1] for label in labels])


def guarded_runner(store, *classes) -> Runner:
    from alexbench.kit.inline import inline_plugin

    return Runner(PluginHost(plugins=[("guarded", inline_plugin(*classes))]), store, show_progress=False)


def test_single_label_rows_that_do_not_sum_to_one_fail_the_run_naming_the_post(tmp_path, store) -> None:
    from alexbench.config.tasks import load_task
    from alexbench.kit.tasks import write_tiny_task
    from alexbench.run.guards import PROB_SUM_TOLERANCE

    task = load_task(write_tiny_task(tmp_path / "tasks", "multiclass"))
    runner = guarded_runner(store, SigmoidPerLabel, NearlyNormalised)
    with pytest.raises(RunError) as caught:
        runner.run(task, VariantSpec("sigmoid", ComponentSpec("sigmoid_per_label")), 0)
    message = str(caught.value)
    first_dev = runner.dataset(task).dev[0].id
    assert f"classifier 'sigmoid_per_label', post {first_dev!r}: gave probabilities that sum to " in message
    assert "not 1: on a single-label task a row is a distribution over ctx.task.labels (its sum within 0.001 of 1)" \
        in message and "normalise each row" in message and PROB_SUM_TOLERANCE == 1e-3
    # A failed run: recorded with its error, nothing stored, and the next run goes on.
    assert not list(store.runs()) and "sum to" in store.failures()[0]["error"]
    # Rows off by rounding (0.999 on three labels) are within the stated tolerance.
    assert runner.run(task, VariantSpec("rounded", ComponentSpec("rounded_rows")), 0).run is not None


def test_multi_label_rows_need_not_sum_to_one(tmp_path, store) -> None:
    from alexbench.config.tasks import load_task
    from alexbench.kit.tasks import write_tiny_task

    class SigmoidSets(SigmoidPerLabel):
        name = "sigmoid_sets"
        multi_label = True

        def predict(self, posts, ctx):
            from alexbench.interfaces import join_labels

            rows = super().predict(posts, ctx).probs
            labels = list(ctx.task.labels)
            return Prediction([join_labels([lab for lab, p in zip(labels, row) if p >= 0.5], labels) for row in rows],
                              rows)

    task = load_task(write_tiny_task(tmp_path / "tasks", "multilabel"))
    run = guarded_runner(store, SigmoidSets).run(task, VariantSpec("sets", ComponentSpec("sigmoid_sets")), 0).run
    assert any(abs(sum(r["probs"]) - 1) > 0.1 for r in run.predictions())


def test_a_row_of_the_wrong_length_names_the_post_and_what_to_give(tiny_task, store) -> None:
    runner = guarded_runner(store, OneNumberPerPost)
    with pytest.raises(RunError) as caught:
        runner.run(tiny_task, VariantSpec("one", ComponentSpec("one_number")), 0)
    first_dev = runner.dataset(tiny_task).dev[0].id
    assert (f"classifier 'one_number', post {first_dev!r}: gave 1 probabilities, expected 2: one per label of "
            "ctx.task.labels ['0', '1'], in that order") in str(caught.value)


def test_an_explanation_out_of_line_names_both_posts_and_the_fix(tiny_task, store) -> None:
    runner = guarded_runner(store, CueClassifier, JudgesPositivesUnderItsOwnIds)
    with pytest.raises(RunError) as caught:
        runner.run(tiny_task, VariantSpec("judged", ComponentSpec("covid_cue"), (), ComponentSpec("judged_ids")), 0)
    test = runner.dataset(tiny_task).test
    i, post = next((i, p) for i, p in enumerate(test) if "covid" in p.text)
    assert (f"explainer 'judged_ids': explanation {i} is for post '{post.id}-judged', but post {i} is {post.id!r}: "
            "return one Explanation per post in the order given, with post_id=post.id") in str(caught.value)
    assert "judged_ids" in store.failures()[0]["error"] and not list(store.runs())


class ReturnsDicts(Augmenter):
    name = "returns_dicts"
    version = "1.0"

    def augment(self, train, ctx):
        return [*train, {"id": "new", "text": "a row as a dict", "label": "1"}]


class RelabelsToMaybe(Augmenter):
    name = "maybe_label"
    version = "1.0"

    def augment(self, train, ctx):
        post = train[0]
        return [*train, post.replace(id=f"{post.id}~maybe", label="maybe", meta={"source_id": post.id})]


class TouchesDev(Augmenter):
    """Reaches the dev split it was never given (through the garbage collector) and edits a post."""

    name = "touches_dev"
    version = "1.0"

    def augment(self, train, ctx):
        import gc

        from alexbench.data.splits import Dataset

        for obj in gc.get_objects():
            if type(obj) is Dataset and obj.dev:
                object.__setattr__(obj.dev[1], "text", obj.dev[1].text + " (edited)")
        return list(train)


def test_an_augmenter_message_names_the_row_and_the_fix(tiny_task, store) -> None:
    runner = guarded_runner(store, ReturnsDicts, RelabelsToMaybe)
    with pytest.raises(RunError) as caught:
        runner.run(tiny_task, VariantSpec("dicts", ComponentSpec("majority"), (ComponentSpec("returns_dicts"),)), 0)
    train = runner.dataset(tiny_task).train
    assert (f"augmenter 'returns_dicts' returned dict as row {len(train)}, not Post: return a list of "
            "alexbench.interfaces.Post (post.replace(id=..., text=...) makes a new row from a post)") in str(caught.value)
    with pytest.raises(RunError) as caught:
        runner.run(tiny_task, VariantSpec("maybe", ComponentSpec("majority"), (ComponentSpec("maybe_label"),)), 0)
    assert (f"augmenter 'maybe_label' produced label 'maybe' for row '{train[0].id}~maybe': not one of ['0', '1']: a "
            "row keeps the label of the post it is or was made from (post.replace(...) keeps it)") in str(caught.value)
    assert not list(store.runs())


def test_a_held_out_split_changed_during_augmentation_names_the_post_and_the_fix(tiny_task, store) -> None:
    runner = guarded_runner(store, TouchesDev)
    with pytest.raises(RunError) as caught:
        runner.run(tiny_task, VariantSpec("touch", ComponentSpec("majority"), (ComponentSpec("touches_dev"),)), 0)
    dev = runner.dataset(tiny_task).dev
    assert (f"the dev split changed during augmentation (post {dev[1].id!r} (row 2) changed its text): an augmenter "
            "is given the train split only and must not change any other") in str(caught.value)
    assert not list(store.runs()) and "dev split changed" in store.failures()[0]["error"]


def test_changed_post_says_which_post_changed_and_how() -> None:
    from alexbench.interfaces import Post
    from alexbench.run.guards import changed_post, post_rows

    posts = [Post("a", "one", "0"), Post("b", "two", "1", extra={"therapy": "x"})]
    before = post_rows(posts)
    assert changed_post(before, posts) is None
    assert changed_post(before, [posts[0], posts[1].replace(label="0", extra={})]) == \
        "post 'b' (row 2) changed its label, extra"
    assert changed_post(before, [posts[1], posts[0]]) == "row 1 was post 'a' and is now 'b'"
    assert changed_post(before, posts[:1]) == "2 posts before, 1 after: post 'b' and after it removed"
    assert changed_post(before, [*posts, Post("c", "three", "0")]) == \
        "2 posts before, 3 after: post 'c' and after it added"
