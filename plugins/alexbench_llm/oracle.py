"""``oracle_judge``: a simulated judge of known quality, for "how good must a judge be?" (issue 27).

It reads the gold label of each post it is sent (``uses_gold_labels``: its rows are marked
simulated on every leaderboard and never ranked) and flips a wrong prediction with probability
``catch_rate`` and a right one with probability ``false_flip_rate``, each post's draw seeded by
the run's seed, ``seed`` and the post's id (so a higher rate flips a superset of the posts a lower
one flips, and the same point gives the same flips in any process). Everything else is the LLM
judge's: the task's prompt template (``prompts/<task>.toml``, or ``prompts``) decides which
predicted labels are sent (``send``, or ``send_labels``) and which label a flip sets (``flip_to``;
with ``relabel_to`` the label the judge names: the gold label when it catches an error, a seeded
one of the others for a false flip). A flip that the template cannot express (the gold label not
among ``relabel_to``) is counted as caught but leaves the label as it was, as an LLM's reply
naming it would.

Swept over ``explainer.catch_rate`` (``[study.sweep]``), its runs give Δ against the classifier
without a judge at each flip precision, and so the break-even precision a real judge must reach
(:mod:`alexbench.report.sweep`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field

from alexbench.config.tasks import TaskSpec
from alexbench.interfaces import Context, Explainer, ExplainerPlan, Explanation, Post, Prediction

from . import __version__
from .prompts import PromptTemplate, resolve_template, send_policy, template_fingerprint

Rate = Annotated[float, Field(ge=0, le=1)]


@dataclass(frozen=True)
class OracleParams:
    #: Probability that a wrong prediction the judge is sent gets flipped.
    catch_rate: Rate = 0.5
    #: Probability that a right prediction the judge is sent gets flipped (a false flip).
    false_flip_rate: Rate = 0.0
    #: Seeds each post's draw, with the run's seed and the post's id.
    seed: int = 0
    #: Prompt template whose send policy and flip labels it follows; "" = the task's own.
    prompts: str = ""
    #: Comma-separated predicted labels to send; "" = the template's ALEX policy.
    send_labels: str = ""


def _draw(*parts: object) -> float:
    """A uniform number in [0, 1) from ``parts`` (the same in every process)."""
    digest = hashlib.sha256("\0".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class OracleJudge(Explainer):
    """Flips sent predictions from the gold labels at a given catch rate and false-flip rate."""

    name = "oracle_judge"
    version = __version__
    Params = OracleParams
    params: OracleParams
    uses_gold_labels = True

    def template(self, task: TaskSpec) -> PromptTemplate:
        return resolve_template(task, self.params.prompts)

    def fingerprint(self, task: TaskSpec) -> dict[str, Any]:
        return template_fingerprint(self.template(task), task)

    def explain(self, posts: Sequence[Post], prediction: Prediction, ctx: Context) -> list[Explanation]:
        template = self.template(ctx.task)
        send = send_policy(template, ctx.task, self.params.send_labels, "oracle_judge")
        p = self.params
        out = []
        sent = flipped = 0
        for post, old in zip(posts, prediction.labels):
            if old not in send:
                out.append(Explanation(post.id, old, old, "not_sent"))
                continue
            sent += 1
            gold = str(post.label)
            wrong = old != gold
            draw = _draw(ctx.seed, p.seed, post.id)
            details = {"simulated": True, "wrong": wrong, "draw": round(draw, 6)}
            if draw >= (p.catch_rate if wrong else p.false_flip_rate):
                out.append(Explanation(post.id, old, old, "ok", True, "simulated: kept", details))
                continue
            named = gold if wrong else self._other(template, old, ctx.seed, post.id)
            new, why = template.new_label_for_false(old, named)
            if new is None:  # the template cannot set the label the judge means: a reply naming it would fail
                details["error"] = f"simulated flip not expressible: {why}"
                out.append(Explanation(post.id, old, old, "ok", True, "simulated: caught, not expressible", details))
                continue
            flipped += 1
            reason = "simulated: caught an error" if wrong else "simulated: a false flip"
            out.append(Explanation(post.id, old, new, "ok", False, reason, details))
        ctx.log(f"explainer oracle_judge (simulated, reads the gold labels): catch_rate {p.catch_rate}, "
                f"false_flip_rate {p.false_flip_rate}; sent {sent} of {len(posts)} posts, flipped {flipped}")
        return out

    def plan(self, posts: Sequence[Post], prediction: Prediction, ctx: Context,
             dev: Sequence[Post] = (), dev_prediction: Prediction | None = None) -> ExplainerPlan:
        """Nothing is sent: a simulated judge reads the gold labels."""
        send = send_policy(self.template(ctx.task), ctx.task, self.params.send_labels, "oracle_judge")
        n = sum(label in send for label in prediction.labels)
        return ExplainerPlan("oracle_judge (simulated)", n, 0, 0, 0, 0, 0, 0.0,
                             note="simulated: reads the gold labels, sends nothing")

    def _other(self, template: PromptTemplate, old: str, run_seed: int, post_id: str) -> str | None:
        """The label a false flip names under ``relabel_to`` (a seeded one of the others)."""
        choices = [label for label in template.relabel_to if label != old]
        if not choices:
            return None
        return choices[int(_draw("relabel", run_seed, self.params.seed, post_id) * len(choices))]
