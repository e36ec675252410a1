"""Built-in baseline classifiers: majority class and TF-IDF + logistic regression.

Registered through the ``alexbench`` entry-point group like any third-party plugin. The
TF-IDF classifier is registered lazily, with its Params class and version, so that neither
importing this plugin nor listing it (``alexbench plugins``) imports scikit-learn.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from alexbench import hookimpl
from alexbench.interfaces import Classifier, Context, NoParams, Post, Prediction

__version__ = "0.1.0"


class MajorityClassifier(Classifier):
    """Predicts the most frequent train label (ties: the first in the task's label order).

    On a multi-label task: the most frequent train label *set* (ties: the set seen first), with
    each label's train prevalence as its probability. That is the single-label rule over label
    sets: a set some post really has, the best constant for subset accuracy, and usually the
    empty set on an imbalanced task, which is the floor every model must beat on each label.
    (Predicting each label whose prevalence is at least 0.5 is the best constant for Hamming
    loss, but can give a set no post has; on rare labels both predict nothing.)"""

    name = "majority"
    version = __version__
    Params = NoParams
    multi_label = True

    def fit(self, train: Sequence[Post], dev: Sequence[Post], ctx: Context) -> dict[str, Any]:
        if ctx.task.multi_label:
            return self._fit_sets(train, ctx)
        counts = Counter(p.label for p in train)
        total = sum(counts.values())
        labels = ctx.task.labels
        self._probs = [counts.get(label, 0) / total for label in labels]
        self._label = max(labels, key=lambda label: (counts.get(label, 0), -labels.index(label)))
        return {"train_counts": dict(counts), "majority": self._label}

    def _fit_sets(self, train: Sequence[Post], ctx: Context) -> dict[str, Any]:
        task = ctx.task
        sets = Counter(p.label for p in train)  # canonical strings; Counter keeps first-seen order
        self._label = max(sets, key=lambda s: sets[s])  # max keeps the first of equals
        per_label = Counter(label for p in train for label in task.label_set(p.label))
        self._probs = [per_label.get(label, 0) / len(train) for label in task.labels]
        return {"train_label_sets": dict(sets.most_common()), "train_label_counts": dict(per_label),
                "majority": self._label}

    def predict(self, posts: Sequence[Post], ctx: Context) -> Prediction:
        return Prediction([self._label] * len(posts), [list(self._probs) for _ in posts])


@hookimpl
def alexbench_register_classifiers(registry: Any) -> None:
    registry.add(MajorityClassifier)
    registry.add_lazy("tfidf_logreg", "alexbench_baselines.tfidf:TfidfLogReg",
                      params="alexbench_baselines.params:TfidfParams", version=__version__, multi_label=True,
                      description="TF-IDF word n-grams + logistic regression (scikit-learn); multi-label: one "
                                  "vs rest")


@hookimpl
def alexbench_self_tests() -> list[Any]:
    from alexbench.selftest import SelfTest

    from .selftest import FIX

    return [SelfTest("scikit-learn (the TF-IDF baselines)", "alexbench_baselines.selftest:check_sklearn", fix=FIX)]
