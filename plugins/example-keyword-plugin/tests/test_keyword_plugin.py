"""The example plugin against the alexbench conformance kit, plus its own behaviour."""

from __future__ import annotations

from alexbench.interfaces import Context, Post, Prediction
from alexbench.testing import ClassifierContract, ExplainerContract


class TestKeywordRules(ClassifierContract):
    component = "keyword_rules"
    params = {"keywords": "covid,positive", "learn_top_k": 5}


class TestKeywordRulesLearnedOnly(ClassifierContract):
    component = "keyword_rules"
    tasks = ("multiclass",)


class TestNegationBackoff(ExplainerContract):
    component = "negation_backoff"
    classifier = "keyword_rules"  # predicts some positives, so the back-off has work to do
    classifier_params = {"keywords": "covid"}


def test_given_keywords_mark_the_positive_label(alexbench_task, register_inline_plugin) -> None:
    clf = register_inline_plugin().build("classifier", "keyword_rules", {"keywords": "flu", "learn_top_k": 0})
    ctx = Context(task=alexbench_task, seed=0)
    clf.fit([Post("a", "sunny", "0"), Post("b", "rain", "0"), Post("c", "wind", "1")], [], ctx)
    assert clf.predict([Post("x", "got the FLU", None), Post("y", "sunny", None)], ctx).labels == ["1", "0"]


def test_negation_backs_off(alexbench_task, register_inline_plugin) -> None:
    exp = register_inline_plugin().build("explainer", "negation_backoff")
    posts = [Post("a", "I did not get covid", None), Post("b", "I got covid", None)]
    out = exp.explain(posts, Prediction(["1", "1"], [[0.0, 1.0], [0.0, 1.0]]), Context(task=alexbench_task, seed=0))
    assert [(e.new_label, e.verdict, e.reason) for e in out] == [("0", False, "negation cue: not"),
                                                                ("1", True, "no negation cue")]
