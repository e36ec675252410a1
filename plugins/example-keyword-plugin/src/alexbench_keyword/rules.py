"""The keyword-rule classifier."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from alexbench.errors import ParamError
from alexbench.interfaces import Classifier, Context, Post, Prediction

from . import __version__
from .text import tokens, word_list


@dataclass(frozen=True)
class KeywordRulesParams:
    """keywords: comma-separated words that indicate the task's positive label (the last label
    when the task has none); learn_top_k: words learned per label from train (0: none);
    min_count: a learned word occurs in at least this many train posts of its label;
    confidence: the probability given to the predicted label."""

    keywords: str = ""
    learn_top_k: int = 10
    min_count: int = 2
    confidence: float = 0.8

    def __post_init__(self) -> None:
        if self.learn_top_k < 0 or self.min_count < 1:
            raise ValueError("learn_top_k must be >= 0 and min_count >= 1")
        if not 0.0 < self.confidence <= 1.0:
            raise ValueError(f"confidence must be in (0, 1], got {self.confidence}")


class KeywordRules(Classifier):
    """Keyword rules: given and learned words per label; the label with most hits wins."""

    name = "keyword_rules"
    version = __version__
    Params = KeywordRulesParams

    def fit(self, train: Sequence[Post], dev: Sequence[Post], ctx: Context) -> dict[str, Any]:
        p: KeywordRulesParams = self.params
        labels = list(ctx.task.labels)
        if not train:
            raise ParamError(f"classifier {self.name!r} needs a non-empty train split")
        counts = Counter(post.label for post in train)
        self._default = max(labels, key=lambda label: (counts.get(label, 0), -labels.index(label)))
        docs = {label: [set(tokens(post.text)) for post in train if post.label == label] for label in labels}
        df = {label: Counter(w for doc in docs[label] for w in doc) for label in labels}
        self._words: dict[str, set[str]] = {label: set() for label in labels}
        self._words[ctx.task.positive or labels[-1]].update(word_list(p.keywords))
        for label in labels:
            others = [o for o in labels if o != label]
            n_label, n_other = max(len(docs[label]), 1), max(sum(len(docs[o]) for o in others), 1)
            scored = sorted((-(c / n_label - sum(df[o][w] for o in others) / n_other), w)
                            for w, c in df[label].items() if c >= p.min_count)
            self._words[label].update(w for score, w in scored[: p.learn_top_k] if score < 0)
        return {"keywords": {label: sorted(words) for label, words in self._words.items()}, "default": self._default}

    def predict(self, posts: Sequence[Post], ctx: Context) -> Prediction:
        labels = list(ctx.task.labels)
        high = self.params.confidence
        low = (1.0 - high) / (len(labels) - 1)
        predicted, probs = [], []
        for post in ctx.track(posts, "keyword rules", total=len(posts)):
            words = set(tokens(post.text))
            hits = {label: len(words & self._words[label]) for label in labels}
            best = max(labels, key=lambda label: (hits[label], label == self._default, -labels.index(label)))
            predicted.append(best)
            probs.append([high if label == best else low for label in labels])
        return Prediction(predicted, probs)
