"""The negation back-off explainer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alexbench.errors import ParamError
from alexbench.interfaces import Context, Explainer, Explanation, Post, Prediction

from . import __version__
from .text import tokens, word_list


@dataclass(frozen=True)
class NegationBackoffParams:
    """cues: comma-separated negation words; window: how many words before the end of the post
    a cue may stand (0: anywhere); fallback: the label to back off to (empty: the task's first
    label that is not the positive one)."""

    cues: str = "not,no,never,negative,don't,didn't"
    window: int = 0
    fallback: str = ""

    def __post_init__(self) -> None:
        if self.window < 0:
            raise ValueError("window must be >= 0")


class NegationBackoff(Explainer):
    """Backs a prediction off to the negative label when a negation cue occurs."""

    name = "negation_backoff"
    version = __version__
    Params = NegationBackoffParams

    def explain(self, posts: Sequence[Post], prediction: Prediction, ctx: Context) -> list[Explanation]:
        labels = list(ctx.task.labels)
        fallback = self.params.fallback or next(label for label in labels if label != ctx.task.positive)
        if fallback not in labels:
            raise ParamError(f"explainer {self.name!r}: fallback {fallback!r} is not one of {labels}")
        cues = set(word_list(self.params.cues))
        out = []
        for post, label in zip(posts, prediction.labels, strict=True):
            if label == fallback:
                out.append(Explanation(post.id, label, label, "not_sent", reason="already the fallback label"))
                continue
            words = tokens(post.text)
            if self.params.window:
                words = words[-self.params.window:]
            found = sorted(cues.intersection(words))
            if found:
                out.append(Explanation(post.id, label, fallback, "ok", verdict=False,
                                       reason=f"negation cue: {', '.join(found)}", details={"cues": found}))
            else:
                out.append(Explanation(post.id, label, label, "ok", verdict=True, reason="no negation cue"))
        return out
