"""The ``llm`` classifier: a task's labels decided by an LLM asked directly (issue 28), the rival
ALEX argues against.

Each post's prompt comes from the task's classifier template (:mod:`.classify_prompts`), zero-shot
or with ``shots`` examples per class drawn from *train* only (``stratified``: seeded by the run, the
same examples for every post, so they are part of the shared prefix a local model evaluates once;
``nearest``: the train posts most similar to the post by TF-IDF cosine). The decision:

* ``score`` (default) — the log-probability of each label's answer after the prompt: one forward
  pass over the prompt for a local GGUF (the template's fixed beginning restored from its saved
  state, every one-token answer read from the last logits, a longer one evaluated from the
  prompt's state), ``logprobs`` of the first generated token for a hosted model. Softmax over the
  labels gives the probabilities every metric and significance test uses. With ``calibrate``, a
  per-label bias added to the log-probabilities is chosen on dev by the task's official metric
  (``ctx.objective``), recorded in the fit report like the judge's threshold.
* ``generate`` — the answer is generated under a grammar allowing only the labels' answers (local),
  or read from the reply (hosted); the chosen label gets probability 1.

On a multi-label task it asks one yes/no question per label; P(yes) is the label's probability and
a label applies at or above its threshold (0.5, or chosen per label on dev with ``calibrate``).
Replies and scores are cached in the results cache's SQLite like the judge's (key: model, prompt,
request). Local models run in a child process (:mod:`.engine_process`).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alexbench.config.tasks import TaskSpec
from alexbench.errors import PluginError
from alexbench.interfaces import Classifier, Context, ExplainerPlan, Post, Prediction, join_labels

from . import __version__
from .classify_prompts import ClassifyTemplate, classify_template_path, load_classify_template
from .params import LOCAL_PREFIX, LLMClassifierParams
from .prompts import template_fingerprint
from .scoring import LabelScorer, Usage

#: The grid of log-probability biases tried per label when calibrating on dev.
BIASES = tuple(x / 4 for x in range(-24, 25))
#: Thresholds tried per label on a multi-label task.
THRESHOLDS = tuple(x / 20 for x in range(1, 20))


def _softmax(values: Sequence[float]) -> list[float]:
    m = max(values)
    z = [math.exp(v - m) for v in values]
    total = sum(z)
    return [v / total for v in z]


@dataclass
class _State:
    template: ClassifyTemplate
    shots: list[tuple[Post, str]] = field(default_factory=list)  # stratified: (post, label)
    train: list[Post] = field(default_factory=list)  # nearest: the pool
    nearest: Any = None  # nearest: (vectorizer, matrix)
    bias: list[float] = field(default_factory=list)
    thresholds: dict[str, float] = field(default_factory=dict)


class LLMClassifier(Classifier):
    """Labels decided by an LLM (local Gemma-3-270M by default; any model by litellm name)."""

    name = "llm"
    version = __version__
    Params = LLMClassifierParams
    params: LLMClassifierParams
    multi_label = True

    def __init__(self, params: LLMClassifierParams | None = None) -> None:
        super().__init__(params)
        self._state: _State | None = None

    @property
    def is_local(self) -> bool:
        return self.params.model.startswith(LOCAL_PREFIX)

    def template(self, task: TaskSpec) -> ClassifyTemplate:
        path = Path(self.params.prompts).expanduser() if self.params.prompts else classify_template_path(task)
        if self.params.prompts and not path.is_absolute() and not path.exists():
            path = task.path.parent / path
        return load_classify_template(path, task)

    def fingerprint(self, task: TaskSpec) -> dict[str, Any]:
        return template_fingerprint(self.template(task), task)  # type: ignore[arg-type]

    # -- examples -----------------------------------------------------------------------------------
    def _shots_for(self, post: Post, label: str | None, state: _State, ctx: Context) -> list[tuple[Post, str]]:
        """(example post, its answer) for one question, never from dev or test."""
        t = state.template
        if self.params.shots == 0:
            return []
        if self.params.shot_selection == "stratified":
            chosen = state.shots
        else:
            chosen = self._nearest(post, state, ctx)
        if t.multi_label:
            assert label is not None
            return [(p, t.answers["yes" if label in ctx.task.label_set(str(p.label)) else "no"]) for p, _ in chosen]
        return [(p, t.answer_of(lab)) for p, lab in chosen]

    def _pick(self, pool: Sequence[Post], ctx: Context) -> list[tuple[Post, str]]:
        """``shots`` posts per class (single-label) or per label with and without it (multi-label),
        seeded by the run, in a seeded order."""
        rng = random.Random(f"{ctx.seed}\0{self.params.seed}\0llm-classifier-shots")
        by_class: dict[str, list[Post]] = defaultdict(list)
        for post in pool:
            by_class[str(post.label)].append(post)
        chosen: list[tuple[Post, str]] = []
        for label in sorted(by_class):
            members = sorted(by_class[label], key=lambda p: p.id)
            chosen += [(p, label) for p in rng.sample(members, min(self.params.shots, len(members)))]
        rng.shuffle(chosen)
        return chosen

    def _nearest(self, post: Post, state: _State, ctx: Context) -> list[tuple[Post, str]]:
        vectorizer, matrix = state.nearest
        sims = (matrix @ vectorizer.transform([post.text]).T).toarray().ravel()
        order = sorted(range(len(state.train)), key=lambda i: (-sims[i], state.train[i].id))
        chosen: list[tuple[Post, str]] = []
        counts: dict[str, int] = defaultdict(int)
        for i in order:
            example = state.train[i]
            label = str(example.label)
            if example.text == post.text or counts[label] >= self.params.shots:
                continue
            chosen.append((example, label))
            counts[label] += 1
        return list(reversed(chosen))  # the most similar last, next to the post

    # -- fit ------------------------------------------------------------------------------------------
    def fit(self, train: Sequence[Post], dev: Sequence[Post], ctx: Context) -> dict[str, Any]:
        template = self.template(ctx.task)
        state = _State(template)
        report: dict[str, Any] = {"model": self.params.model, "decision": self.params.decision,
                                  "prompt_template_sha256": template.sha256, "shots": self.params.shots,
                                  "shot_selection": self.params.shot_selection}
        if self.params.shots:
            if self.params.shot_selection == "stratified":
                state.shots = self._pick(train, ctx)
                report["shot_ids"] = [p.id for p, _ in state.shots]
            else:
                from sklearn.feature_extraction.text import TfidfVectorizer

                state.train = list(train)
                vectorizer = TfidfVectorizer(sublinear_tf=True).fit([p.text for p in train])
                state.nearest = (vectorizer, vectorizer.transform([p.text for p in train]))
                report["shot_pool"] = f"the {len(train)} train posts, nearest by TF-IDF cosine per post"
        self._state = state
        state.bias = [0.0] * len(ctx.task.labels)
        if self.params.calibrate and self.params.decision == "score" and dev and ctx.objective is not None:
            scores, usage = self._scores(dev, ctx, "dev")
            report["dev_usage"] = usage.to_dict()
            report["calibration"] = self._calibrate(dev, scores, ctx)
        return report

    def _calibrate(self, dev: Sequence[Post], scores: list[list[float]], ctx: Context) -> dict[str, Any]:
        """Choose the bias (single-label) or thresholds (multi-label) that maximise the official
        metric on dev; coordinate ascent from 0 (or 0.5), ties kept at the smallest change."""
        assert self._state is not None and ctx.objective is not None
        labels = list(ctx.task.labels)
        if ctx.task.multi_label:
            thresholds = {lab: 0.5 for lab in labels}
            before = ctx.objective(dev, self._decide(scores, ctx, thresholds=thresholds))
            for _ in range(2):
                for lab in labels:
                    best = (ctx.objective(dev, self._decide(scores, ctx, thresholds=thresholds)), 0.0, thresholds[lab])
                    for th in THRESHOLDS:
                        value = ctx.objective(dev, self._decide(scores, ctx, thresholds={**thresholds, lab: th}))
                        if value > best[0] + 1e-12:
                            best = (value, -abs(th - 0.5), th)
                    thresholds[lab] = best[2]
            self._state.thresholds = thresholds
            return {"thresholds": thresholds, "dev_official_before": before,
                    "dev_official_after": ctx.objective(dev, self._decide(scores, ctx, thresholds=thresholds)),
                    "tuned_on_dev": True}
        bias = [0.0] * len(labels)
        before = ctx.objective(dev, self._decide(scores, ctx, bias=bias))
        for _ in range(2):
            for j in range(1, len(labels)):  # the first label's bias stays 0: only differences matter
                best = (ctx.objective(dev, self._decide(scores, ctx, bias=bias)), -abs(bias[j]), bias[j])
                for b in BIASES:
                    value = ctx.objective(dev, self._decide(scores, ctx, bias=[*bias[:j], b, *bias[j + 1:]]))
                    if value > best[0] + 1e-12 or (value == best[0] and -abs(b) > best[1]):
                        best = (value, -abs(b), b)
                bias[j] = best[2]
        self._state.bias = bias
        return {"bias": dict(zip(labels, bias)), "dev_official_before": before,
                "dev_official_after": ctx.objective(dev, self._decide(scores, ctx, bias=bias)), "tuned_on_dev": True}

    # -- scoring and deciding -------------------------------------------------------------------------
    def _questions(self, posts: Sequence[Post], ctx: Context) -> list[tuple[Post, str | None, list[dict[str, str]]]]:
        assert self._state is not None
        t = self._state.template
        labels: list[str | None] = list(ctx.task.labels) if t.multi_label else [None]
        return [(post, label, t.messages(post, self._shots_for(post, label, self._state, ctx), label))
                for post in posts for label in labels]

    def _scores(self, posts: Sequence[Post], ctx: Context, split: str) -> tuple[list[list[float]], Usage]:
        """Per post, the log-probability of each label's answer (multi-label: per label, [yes, no])."""
        if self._state is None:
            raise PluginError("classifier 'llm': predict() before fit()")
        t = self._state.template
        questions = self._questions(posts, ctx)
        state = self._state
        scorer = LabelScorer(self.params, t, ctx, lambda post, label: self._shots_for(post, label, state, ctx))
        with ExitStack() as stack:
            results, usage = scorer.score(questions, stack, f"LLM classifier: {split}")
        n = len(ctx.task.labels)
        if t.multi_label:
            return [sum((results[i * n + j] for j in range(n)), []) for i in range(len(posts))], usage
        return results, usage

    def _decide(self, scores: list[list[float]], ctx: Context, *, bias: Sequence[float] | None = None,
                thresholds: dict[str, float] | None = None) -> list[str]:
        return self._labels_probs(scores, ctx, bias=bias, thresholds=thresholds)[0]

    def _labels_probs(self, scores: list[list[float]], ctx: Context, *, bias: Sequence[float] | None = None,
                      thresholds: dict[str, float] | None = None) -> tuple[list[str], list[list[float]]]:
        labels = list(ctx.task.labels)
        out_labels, out_probs = [], []
        if ctx.task.multi_label:
            thresholds = thresholds or {lab: 0.5 for lab in labels}
            for row in scores:
                p_yes = [_softmax(row[2 * j:2 * j + 2])[0] for j in range(len(labels))]
                chosen = [lab for lab, p in zip(labels, p_yes) if p >= thresholds[lab]]
                out_labels.append(join_labels(chosen, labels))
                out_probs.append(p_yes)
            return out_labels, out_probs
        bias = list(bias) if bias is not None else [0.0] * len(labels)
        for row in scores:
            probs = _softmax([v + b for v, b in zip(row, bias)])
            out_labels.append(labels[max(range(len(labels)), key=lambda j: (probs[j], -j))])
            out_probs.append(probs)
        return out_labels, out_probs

    def predict(self, posts: Sequence[Post], ctx: Context) -> Prediction:
        scores, usage = self._scores(posts, ctx, "predict")
        state = self._state
        assert state is not None
        labels, probs = self._labels_probs(scores, ctx, bias=state.bias or None, thresholds=state.thresholds or None)
        ctx.log(f"classifier llm: {usage.summary()}")
        return Prediction(labels, probs, usage=usage.to_dict())

    # -- a dry run ------------------------------------------------------------------------------------
    def plan(self, posts: Sequence[Post], ctx: Context, dev: Sequence[Post] = (),
             train: Sequence[Post] = ()) -> ExplainerPlan:
        """What fit() (dev, when calibrating) and predict() (``posts``) would send; stratified
        examples are drawn from ``train`` exactly as fit() draws them."""
        from .scoring import plan_questions

        template = self.template(ctx.task)
        state = _State(template)
        self._state = state
        state.bias = [0.0] * len(ctx.task.labels)
        if self.params.shots and self.params.shot_selection == "stratified":
            state.shots = self._pick(train, ctx)
        asked = [*posts, *(dev if self.params.calibrate and self.params.decision == "score" else ())]
        if self.params.shots and self.params.shot_selection == "nearest":
            return ExplainerPlan(self.params.model, len(asked), 0, len(asked), 0, None, None, None,
                                 note="nearest shots are chosen from train at run time: not counted")
        return plan_questions(self.params, template, self._questions(asked, ctx), ctx)

