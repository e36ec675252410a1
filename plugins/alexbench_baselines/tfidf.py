"""TF-IDF + logistic regression (scikit-learn), seeded, with optional class weighting.

On a multi-label task: one logistic regression per label (one vs rest), each seeded and, with
``class_weight = "balanced"``, weighted against its own label's rarity (a label at 2% gets its
positives weighted about 25×). A post gets every label whose probability is at least 0.5; when
the task has no "none" value (``labels.empty``), a post with none gets its most probable label.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from alexbench.interfaces import Classifier, Context, Post, Prediction
from alexbench.scoring.metrics import indicator

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
    multi_label = True

    def fit(self, train: Sequence[Post], dev: Sequence[Post], ctx: Context) -> dict[str, Any]:
        p: TfidfParams = self.params
        self._vec = TfidfVectorizer(ngram_range=(1, p.max_ngram), min_df=p.min_df, max_features=p.max_features,
                                    sublinear_tf=p.sublinear_tf, lowercase=True)
        x = self._vec.fit_transform([model_text(post) for post in train])
        self._clf = LogisticRegression(C=p.C, max_iter=p.max_iter, random_state=ctx.seed,
                                       class_weight="balanced" if p.class_weight == "balanced" else None)
        if ctx.task.multi_label:
            return self._fit_sets(x, train, ctx)
        self._clf.fit(x, [post.label for post in train])
        missing = [label for label in ctx.task.labels if label not in self._clf.classes_]
        return {"vocabulary": len(self._vec.vocabulary_), "train_rows": len(train),
                "labels_absent_from_train": missing}

    def _fit_sets(self, x: Any, train: Sequence[Post], ctx: Context) -> dict[str, Any]:
        """One vs rest: a copy of the logistic regression per label; a label that every or no
        train post has gets a constant probability instead (nothing to learn)."""
        from sklearn.base import clone

        labels = ctx.task.labels
        y = indicator([post.label for post in train], labels)
        self._per_label: list[Any] = []
        constant: list[str] = []
        for j, label in enumerate(labels):
            column = y[:, j]
            if column.all() or not column.any():
                self._per_label.append(float(column.all()))
                constant.append(label)
            else:
                self._per_label.append(clone(self._clf).fit(x, column))
        return {"vocabulary": len(self._vec.vocabulary_), "train_rows": len(train),
                "train_label_counts": {label: int(y[:, j].sum()) for j, label in enumerate(labels)},
                "labels_constant_in_train": constant}

    def _predict_sets(self, posts: Sequence[Post], ctx: Context) -> Prediction:
        import numpy as np

        task = ctx.task
        x = self._vec.transform([model_text(p) for p in posts])
        columns = [np.full(len(posts), m) if isinstance(m, float) else m.predict_proba(x)[:, 1]
                   for m in self._per_label]
        rows = [[float(v) for v in row] for row in np.column_stack(columns)]
        return Prediction(task.label_space.decide(rows), rows)

    def predict(self, posts: Sequence[Post], ctx: Context) -> Prediction:
        if not posts:
            return Prediction([], [])
        if ctx.task.multi_label:
            return self._predict_sets(posts, ctx)
        probs = self._clf.predict_proba(self._vec.transform([model_text(p) for p in posts]))
        index = {label: i for i, label in enumerate(self._clf.classes_)}
        rows = [[float(row[index[label]]) if label in index else 0.0 for label in ctx.task.labels] for row in probs]
        labels = [ctx.task.labels[max(range(len(r)), key=r.__getitem__)] for r in rows]
        return Prediction(labels, rows)
