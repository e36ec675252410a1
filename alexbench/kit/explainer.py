"""The conformance kit's explainer contract: one explanation per post, in order, a label changed
only with a parsed False verdict; asked with the classifier's predictions and with every post
predicted as each label in turn, so that an explainer acting on some labels only is exercised
whatever the classifier predicts."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from alexbench.kit import multilabel as ml
from alexbench.kit.contracts import _Contract

if TYPE_CHECKING:
    from alexbench.config.tasks import TaskSpec
    from alexbench.interfaces import Context, Explanation, Post, Prediction
    from alexbench.plugin.host import PluginHost


class ExplainerContract(_Contract):
    """What every explainer must do. Set ``component`` (and ``params``) in a ``Test*`` subclass.
    The predictions it explains come from ``classifier`` (default ``majority``) and, so that an
    explainer acting on some labels only is exercised whatever that classifier predicts, from
    :meth:`every_label`: every test post predicted as each label in turn."""

    kind: ClassVar[str] = "explainer"

    def explained(self, task: TaskSpec, order: Callable[[list[Post]], list[Post]] | None = None
                  ) -> tuple[list[Post], Prediction, list[Explanation]]:
        """The explainer's answers for the test posts (in ``order``) as ``classifier`` predicts them."""
        host = self.host()
        data = self.dataset(task)
        ctx = self.context(task, self.seed)
        clf = host.build("classifier", *self.classifier_for(task, host))
        clf.fit(data.train, data.dev, ctx)
        posts = order(list(data.test)) if order else list(data.test)
        pred = clf.predict(posts, ctx)
        return posts, pred, self.answers(posts, pred, ctx, host)

    def answers(self, posts: list[Post], pred: Prediction, ctx: Context, host: PluginHost | None = None
                ) -> list[Explanation]:
        """The explainer's answers for ``posts`` predicted as ``pred`` (checked to be Explanations)."""
        from alexbench.interfaces import Explanation, Prediction

        out = self.build(host).explain(posts, Prediction(list(pred.labels), [list(r) for r in pred.probs]), ctx)
        assert isinstance(out, list) and all(isinstance(e, Explanation) for e in out), \
            "explain must return a list of alexbench.interfaces.Explanation"
        return out

    @staticmethod
    def every_label(task: TaskSpec, posts: Sequence[Post]) -> list[tuple[str, Prediction]]:
        """Predictions that give the explainer every label it may be sent: all ``posts`` predicted
        as one label, for each label of the task in turn (a multi-label task: each label alone, all
        of them together, and the empty set where the task allows one), each with a probability
        row that fits it. Returns (what was predicted, the prediction) pairs."""
        from alexbench.interfaces import Prediction, join_labels

        labels = list(task.labels)
        if not task.multi_label:
            return [(repr(label), Prediction([label] * len(posts), [[0.9 if other == label else 0.1 / (len(labels) - 1)
                                                                     for other in labels] for _ in posts]))
                    for label in labels]
        sets = [(label,) for label in labels] + [tuple(labels)] + ([()] if task.empty is not None else [])
        return [(f"the set {join_labels(chosen, labels)!r}", Prediction(
            [join_labels(chosen, labels)] * len(posts), [[0.9 if label in chosen else 0.1 for label in labels]
                                                         for _ in posts])) for chosen in sets]

    def cases(self, task: TaskSpec) -> list[tuple[str, list[Post], Prediction, list[Explanation]]]:
        """Every way the contract asks the explainer: the classifier's predictions of the test posts
        in their order and shuffled, then every post predicted as each label (:meth:`every_label`)."""
        def shuffled(posts: list[Post]) -> list[Post]:
            random.Random(99).shuffle(posts)
            return posts

        out = []
        for name, order in (("in file order", None), ("shuffled", shuffled)):
            posts, pred, answers = self.explained(task, order)
            out.append((f"{self.classifier!r}'s predictions, posts {name}", posts, pred, answers))
        host = self.host()
        posts = list(self.dataset(task).test)
        for what, pred in self.every_label(task, posts):
            answers = self.answers(posts, pred, self.context(task, self.seed), host)
            out.append((f"every post predicted {what}", posts, pred, answers))
        return out

    def test_one_explanation_per_post_in_order(self, alexbench_contract_task: TaskSpec) -> None:
        task = alexbench_contract_task
        for case, posts, pred, out in self.cases(task):
            assert len(out) == len(posts), \
                (f"{case}: {len(out)} explanations for {len(posts)} posts: return one per post (status 'not_sent' "
                 "for the posts it skips)")
            for post, label, e in zip(posts, pred.labels, out):
                assert e.post_id == post.id, \
                    (f"{case}: the explanation of post {post.id!r} names post {e.post_id!r}: explanations follow "
                     "input order, one per post, with post_id=post.id")
                assert e.old_label == label, \
                    (f"{case}: post {post.id}: old_label {e.old_label!r}, but the classifier predicted {label!r}: "
                     "old_label is the classifier's label for the post (prediction.labels[i])")
                assert e.status in ("not_sent", "ok", "unparsable", "failed"), \
                    f"{case}: post {e.post_id}: status {e.status!r}: use one of not_sent, ok, unparsable, failed"
                ml.check_new_label(task, e.post_id, e.new_label)

    def test_never_changes_a_label_without_a_false_verdict(self, alexbench_contract_task: TaskSpec,
                                                         tmp_path: Path) -> None:
        task = alexbench_contract_task
        for case, _, _, out in self.cases(task):
            for e in out:
                if e.new_label != e.old_label:
                    assert e.status == "ok" and e.verdict is False, \
                        (f"{case}: {e.post_id}: label changed {e.old_label!r} -> {e.new_label!r} with status "
                         f"{e.status!r}, verdict {e.verdict!r} (needs status 'ok' and verdict False; otherwise keep "
                         "new_label = old_label)")
        # The real runner enforces the same rule and stores what it accepted.
        run = self.run(task, tmp_path / "results").run
        stored = run.explanation_rows()
        assert len(stored) == len(self.dataset(task).test)
        final = {row.id: row.pred for row in run.prediction_rows() if row.split == "test"}
        assert all(final[e.post_id] == e.new_label for e in stored)
