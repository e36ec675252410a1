"""The plugin against alexbench's conformance kit, plus its own behaviour."""

from __future__ import annotations

from alexbench.interfaces import Context, Post
from alexbench.testing import AugmenterContract, ClassifierContract


class TestLinearSvm(ClassifierContract):
    component = "linear_svm"
    params = {"C": 0.5}


class TestLinearSvmHinge(ClassifierContract):
    component = "linear_svm"
    params = {"loss": "hinge", "class_weight": "none"}
    tasks = ("multiclass",)


class TestSentenceShuffle(AugmenterContract):
    component = "sentence_shuffle"
    params = {"copies": 2}


def test_copies_are_the_same_sentences_in_another_order(alexbench_task, register_inline_plugin) -> None:
    aug = register_inline_plugin().build("augmenter", "sentence_shuffle", {"copies": 2, "grow": "all"})
    train = [Post("a", "One. Two! Three?", "1"), Post("b", "Only one sentence here.", "0")]
    out = aug.augment(train, Context(task=alexbench_task, seed=0))
    made = [p for p in out if p.id not in {"a", "b"}]
    assert len(made) == 2 and {p.meta["source_id"] for p in made} == {"a"}
    assert all(sorted(p.text.split()) == ["One.", "Three?", "Two!"] and p.text != "One. Two! Three?" for p in made)
    assert aug.last_report == {"grown_labels": ["0", "1"], "made": 2, "one_sentence_posts": 1}
