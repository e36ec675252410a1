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
    """Predicts the most frequent train label (ties: the first in the task's label order)."""

    name = "majority"
    version = __version__
    Params = NoParams

    def fit(self, train: Sequence[Post], dev: Sequence[Post], ctx: Context) -> dict[str, Any]:
        counts = Counter(p.label for p in train)
        total = sum(counts.values())
        labels = ctx.task.labels
        self._probs = [counts.get(label, 0) / total for label in labels]
        self._label = max(labels, key=lambda label: (counts.get(label, 0), -labels.index(label)))
        return {"train_counts": dict(counts), "majority": self._label}

    def predict(self, posts: Sequence[Post], ctx: Context) -> Prediction:
        return Prediction([self._label] * len(posts), [list(self._probs) for _ in posts])


@hookimpl
def alexbench_register_classifiers(registry: Any) -> None:
    registry.add(MajorityClassifier)
    registry.add_lazy("tfidf_logreg", "alexbench_baselines.tfidf:TfidfLogReg",
                      params="alexbench_baselines.params:TfidfParams", version=__version__,
                      description="TF-IDF word n-grams + logistic regression (scikit-learn)")
