"""keyword_rules against the alexbench conformance kit, plus tests of its own behaviour.

The kit (``alexbench.testing``) is a pytest plugin installed with alexbench: its fixtures
(``alexbench_task``, ``register_inline_plugin``…) are available here without imports.
"""

from __future__ import annotations

import pytest
from alexbench.interfaces import Context, Post
from alexbench.testing import ClassifierContract


class TestKeywordRulesClassifier(ClassifierContract):
    """Every contract test of the kit, run against this plugin's installed component."""

    component = "keyword_rules"
    params = {"top_k": 5}


def test_keywords_decide(alexbench_task, register_inline_plugin) -> None:
    clf = register_inline_plugin().build("classifier", "keyword_rules")
    ctx = Context(task=alexbench_task, seed=0)
    train = [Post(f"p{i}", "I have the flu", "1") for i in range(3)] + \
        [Post(f"n{i}", "nice weather today", "0") for i in range(4)]
    clf.fit(train, [], ctx)
    pred = clf.predict([Post("a", "flu again", None), Post("b", "weather is nice", None), Post("c", "hm", None)], ctx)
    assert pred.labels == ["1", "0", "0"]  # the last one has no keyword: the majority label
    assert pred.probs[0] == pytest.approx([0.2, 0.8])
