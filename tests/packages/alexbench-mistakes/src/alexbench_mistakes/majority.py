"""A classifier done right (the most frequent train label), that the mistaken ones start from."""

from collections import Counter

from alexbench.interfaces import Classifier, Prediction


class Majority(Classifier):
    name = "majority_base"
    version = "0.0.1"

    def fit(self, train, dev, ctx):
        self.label = Counter(p.label for p in train).most_common(1)[0][0]
        return {}

    def predict(self, posts, ctx):
        row = [1.0 if label == self.label else 0.0 for label in ctx.task.labels]
        return Prediction([self.label] * len(posts), [list(row) for _ in posts])
