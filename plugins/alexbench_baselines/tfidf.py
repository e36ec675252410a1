"""TF-IDF + logistic regression (scikit-learn), seeded, with optional class weighting; the head
(single- and multi-label) is :mod:`.head`'s."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer

from alexbench.interfaces import Classifier, Context, Post, Prediction

from . import __version__
from .head import LogRegHead
from .params import TfidfParams


def model_text(post: Post) -> str:
    """The text the model sees: extra inputs (e.g. Task 2's therapy) are prefixed, not dropped."""
    prefix = " ".join(f"[{key}: {value}]" for key, value in sorted(post.extra.items()))
    return f"{prefix} {post.text}" if prefix else post.text


class TfidfLogReg(Classifier):
    """TF-IDF word 1..max_ngram-grams + logistic regression (:class:`.head.LogRegHead`)."""

    name = "tfidf_logreg"
    version = __version__
    Params = TfidfParams
    multi_label = True

    def fit(self, train: Sequence[Post], dev: Sequence[Post], ctx: Context) -> dict[str, Any]:
        p: TfidfParams = self.params
        self._vec = TfidfVectorizer(ngram_range=(1, p.max_ngram), min_df=p.min_df, max_features=p.max_features,
                                    sublinear_tf=p.sublinear_tf, lowercase=True)
        x = self._vec.fit_transform([model_text(post) for post in train])
        self._head = LogRegHead(p.C, p.max_iter, p.class_weight, ctx.seed)
        report = self._head.fit(x, train, ctx)
        return {"vocabulary": len(self._vec.vocabulary_), **report}

    def predict(self, posts: Sequence[Post], ctx: Context) -> Prediction:
        if not posts:
            return Prediction([], [])
        return self._head.predict(self._vec.transform([model_text(p) for p in posts]), len(posts), ctx)
