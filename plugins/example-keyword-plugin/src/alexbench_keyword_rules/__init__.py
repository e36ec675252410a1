"""alexbench-keyword-rules: the alexbench classifier ``keyword_rules``.

Registered through the ``alexbench`` entry point in pyproject.toml. Keep heavy imports (torch,
transformers…) out of this module's top level: alexbench imports it to list plugins. When the
component needs them, put it in its own module, its Params in a light one, and register it with
``registry.add_lazy("keyword_rules", "alexbench_keyword_rules.model:KeywordRulesClassifier",
params="alexbench_keyword_rules.params:KeywordRulesClassifierParams", version=__version__)``: listing plugins then reads
the parameters without importing the model (see alexbench's docs/plugins.md).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from alexbench import hookimpl
from alexbench.interfaces import Classifier, Context, Post, Prediction

__version__ = "0.1.0"

_WORD = re.compile(r"[a-z0-9']+")


def words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


@dataclass(frozen=True)
class KeywordRulesClassifierParams:
    """top_k: keywords learned per label; min_count: a keyword occurs in at least this many
    train posts of its label; confidence: the probability given to the predicted label."""

    top_k: int = 20
    min_count: int = 2
    confidence: float = 0.8

    def __post_init__(self) -> None:
        if self.top_k < 1 or self.min_count < 1:
            raise ValueError("top_k and min_count must be at least 1")
        if not 0.0 < self.confidence <= 1.0:
            raise ValueError(f"confidence must be in (0, 1], got {self.confidence}")


class KeywordRulesClassifier(Classifier):
    """Keyword rules: the words most typical of each label; the label with most hits wins."""

    name = "keyword_rules"
    version = __version__
    Params = KeywordRulesClassifierParams

    def fit(self, train: Sequence[Post], dev: Sequence[Post], ctx: Context) -> dict[str, Any]:
        labels = list(ctx.task.labels)
        counts = Counter(p.label for p in train)
        self._default = max(labels, key=lambda label: (counts.get(label, 0), -labels.index(label)))
        docs = {label: [words(p.text) for p in train if p.label == label] for label in labels}
        df = {label: Counter(w for doc in docs[label] for w in doc) for label in labels}
        self._keywords: dict[str, list[str]] = {}
        for label in labels:
            others = [other for other in labels if other != label]
            n_label = max(len(docs[label]), 1)
            n_other = max(sum(len(docs[other]) for other in others), 1)
            scored = []
            for word, count in df[label].items():
                if count >= self.params.min_count:
                    score = count / n_label - sum(df[other][word] for other in others) / n_other
                    if score > 0:
                        scored.append((-score, word))
            self._keywords[label] = [word for _, word in sorted(scored)[: self.params.top_k]]
        return {"keywords": self._keywords, "default": self._default}

    def predict(self, posts: Sequence[Post], ctx: Context) -> Prediction:
        labels = list(ctx.task.labels)
        confidence = self.params.confidence
        rest = (1.0 - confidence) / (len(labels) - 1)
        predicted, probs = [], []
        for post in ctx.track(posts, f"{self.name}: predicting", total=len(posts)):
            tokens = words(post.text)
            hits = {label: sum(word in tokens for word in self._keywords[label]) for label in labels}
            best = max(labels, key=lambda label: (hits[label], label == self._default, -labels.index(label)))
            predicted.append(best)
            probs.append([confidence if label == best else rest for label in labels])
        return Prediction(predicted, probs)


@hookimpl
def alexbench_register_classifiers(registry: Any) -> None:
    registry.add(KeywordRulesClassifier)
