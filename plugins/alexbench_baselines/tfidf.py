"""TF-IDF + logistic regression (scikit-learn), seeded, with optional class weighting."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from alexbench.interfaces import Classifier, Context, Post, Prediction

from . import __version__
from .params import TfidfParams


def model_text(post: Post) -> str:
    """The text the model sees: extra inputs (e.g. Task 2's therapy) are prefixed, not dropped."""
    prefix = " ".join(f"[{key}: {value}]" for key, value in sorted(post.extra.items()))
    return f"{prefix} {post.text}" if prefix else post.text


class TfidfLogReg(Classifier):
    """TF-IDF word 1..max_ngram-grams + logistic regression."""

    name = "tfidf_logreg"
    version = __version__
    Params = TfidfParams

    def fit(self, train: Sequence[Post], dev: Sequence[Post], ctx: Context) -> dict[str, Any]:
        p: TfidfParams = self.params
        self._vec = TfidfVectorizer(ngram_range=(1, p.max_ngram), min_df=p.min_df, max_features=p.max_features,
                                    sublinear_tf=p.sublinear_tf, lowercase=True)
        x = self._vec.fit_transform([model_text(post) for post in train])
        self._clf = LogisticRegression(C=p.C, max_iter=p.max_iter, random_state=ctx.seed,
                                       class_weight="balanced" if p.class_weight == "balanced" else None)
        self._clf.fit(x, [post.label for post in train])
        missing = [label for label in ctx.task.labels if label not in self._clf.classes_]
        return {"vocabulary": len(self._vec.vocabulary_), "train_rows": len(train),
                "labels_absent_from_train": missing}

    def predict(self, posts: Sequence[Post], ctx: Context) -> Prediction:
        if not posts:
            return Prediction([], [])
        probs = self._clf.predict_proba(self._vec.transform([model_text(p) for p in posts]))
        index = {label: i for i, label in enumerate(self._clf.classes_)}
        rows = [[float(row[index[label]]) if label in index else 0.0 for label in ctx.task.labels] for row in probs]
        labels = [ctx.task.labels[max(range(len(r)), key=r.__getitem__)] for r in rows]
        return Prediction(labels, rows)
