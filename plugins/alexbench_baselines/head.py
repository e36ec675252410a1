"""A logistic-regression head over a feature matrix: what the TF-IDF baseline and ``embed_logreg``
(sentence embeddings, plugin ``alexbench_transformers``) put on top of their features.

Single-label: one seeded ``LogisticRegression`` (``class_weight = "balanced"`` optional), its
probabilities in the task's label order (0 for a label absent from train). Multi-label: one per
label (one vs rest), each seeded and, balanced, weighted against its own label's rarity; a label
that every or no train post has gets a constant probability instead (nothing to learn); a post
gets every label whose probability is at least 0.5 (``LabelSpace.decide``: when the task has no
"none" value, a post with none gets its most probable label).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sklearn.linear_model import LogisticRegression

from alexbench.interfaces import Context, Post, Prediction
from alexbench.scoring.metrics import indicator


class LogRegHead:
    """Fits on ``x`` (one row per train post) and predicts from rows of the same features."""

    def __init__(self, C: float, max_iter: int, class_weight: str, seed: int) -> None:
        self.clf = LogisticRegression(C=C, max_iter=max_iter, random_state=seed,
                                      class_weight="balanced" if class_weight == "balanced" else None)
        self.per_label: list[Any] = []

    def fit(self, x: Any, train: Sequence[Post], ctx: Context) -> dict[str, Any]:
        if ctx.task.multi_label:
            return self._fit_sets(x, train, ctx)
        self.clf.fit(x, [post.label for post in train])
        missing = [label for label in ctx.task.labels if label not in self.clf.classes_]
        return {"train_rows": len(train), "labels_absent_from_train": missing}

    def _fit_sets(self, x: Any, train: Sequence[Post], ctx: Context) -> dict[str, Any]:
        from sklearn.base import clone

        labels = ctx.task.labels
        y = indicator([post.label for post in train], labels)
        constant: list[str] = []
        for j, label in enumerate(labels):
            column = y[:, j]
            if column.all() or not column.any():
                self.per_label.append(float(column.all()))
                constant.append(label)
            else:
                self.per_label.append(clone(self.clf).fit(x, column))
        return {"train_rows": len(train), "train_label_counts": {label: int(y[:, j].sum()) for j, label in enumerate(labels)},
                "labels_constant_in_train": constant}

    def predict(self, x: Any, n: int, ctx: Context) -> Prediction:
        if n == 0:
            return Prediction([], [])
        task = ctx.task
        if task.multi_label:
            import numpy as np

            columns = [np.full(n, m) if isinstance(m, float) else m.predict_proba(x)[:, 1] for m in self.per_label]
            rows = [[float(v) for v in row] for row in np.column_stack(columns)]
            return Prediction(task.label_space.decide(rows), rows)
        probs = self.clf.predict_proba(x)
        index = {label: i for i, label in enumerate(self.clf.classes_)}
        rows = [[float(row[index[label]]) if label in index else 0.0 for label in task.labels] for row in probs]
        labels = [task.labels[max(range(len(r)), key=r.__getitem__)] for r in rows]
        return Prediction(labels, rows)
