"""TF-IDF + LinearSVC. Imports scikit-learn: registered lazily (see __init__.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from alexbench.interfaces import Classifier, Context, Post, Prediction

from . import __version__
from .params import SvmParams


class LinearSvm(Classifier):
    """TF-IDF word n-grams + a linear SVM; probabilities are a softmax of the margins."""

    name = "linear_svm"
    version = __version__
    Params = SvmParams

    def fit(self, train: Sequence[Post], dev: Sequence[Post], ctx: Context) -> dict[str, Any]:
        p: SvmParams = self.params
        self._vectorizer = TfidfVectorizer(ngram_range=(1, p.max_ngram), max_features=p.max_features,
                                           sublinear_tf=True)
        x = self._vectorizer.fit_transform([post.text for post in train])
        self._svm = LinearSVC(C=p.C, loss=p.loss, dual=True, max_iter=20000, random_state=ctx.seed,
                              class_weight="balanced" if p.class_weight == "balanced" else None)
        self._svm.fit(x, [post.label for post in train])
        return {"train_rows": len(train), "vocabulary": len(self._vectorizer.vocabulary_),
                "classes": [str(c) for c in self._svm.classes_]}

    def predict(self, posts: Sequence[Post], ctx: Context) -> Prediction:
        labels = list(ctx.task.labels)
        if not posts:
            return Prediction([], [])
        scores = self._svm.decision_function(self._vectorizer.transform([post.text for post in posts]))
        classes = [str(c) for c in self._svm.classes_]
        if scores.ndim == 1:  # two classes: one margin, positive for classes[1]
            scores = np.stack([-scores, scores], axis=1) / 2
        exp = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs = exp / exp.sum(axis=1, keepdims=True)
        rows = [[float(row[classes.index(label)]) if label in classes else 0.0 for label in labels] for row in probs]
        return Prediction([labels[max(range(len(labels)), key=row.__getitem__)] for row in rows], rows)
