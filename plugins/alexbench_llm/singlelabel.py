"""The LLM explainer on a single-label task: one question per post whose predicted label is in
the send policy; a False verdict (``generate``) or a P(false) at or above the threshold
(``score``) flips the label to the template's ``flip_to``, or to the label the reply names
(``relabel_to``). An unparsable reply, an invalid label or a failed call keeps the classifier's
label. The multi-label counterpart is :mod:`.multilabel`."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from alexbench.interfaces import Context, Explanation, Post, Prediction

from .backends import p_false_norm, read_score
from .calibration import select_threshold
from .jobs import Asking, Job, build_jobs
from .parse import UnparsableReply, parse_reply
from .session import Outcome, Session, open_session, request_details


def explain_labels(asking: Asking, posts: Sequence[Post], prediction: Prediction, ctx: Context) -> list[Explanation]:
    """:meth:`LLMExplainer.explain` on a single-label task."""
    template, send = asking.template, asking.send
    jobs = build_jobs(asking, posts, prediction.labels, ctx)
    by_id = {job.post.id: job for job in jobs}
    ctx.log(f"explainer llm: model {asking.params.model}, verdict {asking.params.verdict}, "
            f"template {template.path} (sha256 {template.sha256[:12]}), sending {len(jobs)} of {len(posts)} posts "
            f"(labels {sorted(send)})")
    with open_session(asking, ctx) as session:
        if asking.params.verdict == "generate":
            results = session.run(jobs, "generate", "LLM explainer")
            made = {job.post.id: generated_explanation(asking, job, results[job.key]) for job in jobs}
            hits, calls = session.counts.get("generate", [0, 0])
            ctx.log(f"explainer llm: {hits} replies from the cache, {calls} from the model")
        else:
            made = scored_explanations(asking, jobs, session, ctx)
    out = []
    for post, label in zip(posts, prediction.labels):
        out.append(made[post.id] if post.id in by_id else Explanation(post.id, label, label, "not_sent"))
    return out


def generated_explanation(asking: Asking, job: Job, outcome: Outcome) -> Explanation:
    """One post's explanation from its generated reply (``generate`` mode)."""
    result, template = outcome.result, asking.template
    details = request_details(asking, job, [outcome])
    details["raw"] = result.reply
    old = job.label
    if result.reply is None:
        return Explanation(job.post.id, old, old, "failed", None, "", details)
    try:
        parsed = parse_reply(result.reply)
    except UnparsableReply as exc:
        details["error"] = f"unparsable: {exc}"
        return Explanation(job.post.id, old, old, "unparsable", None, "", details)
    details["reply_label"] = parsed.label
    if parsed.verdict:
        return Explanation(job.post.id, old, old, "ok", True, parsed.reason, details)
    new, why = template.new_label_for_false(old, parsed.label)
    if new is None:
        details["error"] = f"unparsable: {why}"
        return Explanation(job.post.id, old, old, "unparsable", None, parsed.reason, details)
    return Explanation(job.post.id, old, new, "ok", False, parsed.reason, details)


def scored_explanations(asking: Asking, jobs: Sequence[Job], session: Session, ctx: Context) -> dict[str, Explanation]:
    """``score`` mode: each post's explanation, by post id, from its score against the threshold
    and, for a flip, the reply generated with the verdict fixed to false."""
    template, threshold, source = asking.template, asking.threshold, asking.threshold_source
    scores, reasons = session.scores_and_reasons(jobs, threshold, "flips")
    counts = {kind: session.counts.get(kind, [0, 0]) for kind in ("score", "reason")}
    ctx.log(f"explainer llm: threshold {threshold:.4f} ({source}); scores: {counts['score'][0]} from the cache, "
            f"{counts['score'][1]} from the model; reasons of {len(reasons)} flips: {counts['reason'][0]} from "
            f"the cache, {counts['reason'][1]} from the model")
    made: dict[str, Explanation] = {}
    for job in jobs:
        outcome = scores[job.key]
        reason = reasons.get(job.key)
        details = request_details(asking, job, [outcome] + ([reason] if reason else []))
        old = job.label
        score = read_score(outcome.result.reply)
        details.update(threshold=threshold, threshold_source=source, p_true=None, p_false=None,
                       p_false_norm=None)
        if outcome.result.reply is None:
            made[job.post.id] = Explanation(job.post.id, old, old, "failed", None, "", details)
            continue
        if score is None:
            details["error"] = f"unparsable: no verdict probabilities ({outcome.result.reply[:200]})"
            made[job.post.id] = Explanation(job.post.id, old, old, "unparsable", None, "", details)
            continue
        p_f = p_false_norm(score)
        details.update(p_true=score[0], p_false=score[1], p_false_norm=p_f)
        if reason is None:  # below the threshold: the label holds; no reply was generated
            made[job.post.id] = Explanation(job.post.id, old, old, "ok", True, "", details)
            continue
        details["raw"] = reason.result.reply
        text, label, problem = "", None, ""
        if reason.result.reply is None:
            problem = f"reason: {reason.result.error}"
        else:
            try:
                parsed = parse_reply(reason.result.reply)
                text, label = parsed.reason, parsed.label
            except UnparsableReply as exc:
                problem = f"reason unparsable: {exc}"
        details["reply_label"] = label
        new, why = template.new_label_for_false(old, label)
        if new is None:  # relabel_to templates: the new label must come from the reply
            details["error"] = f"unparsable: {problem or why}"
            made[job.post.id] = Explanation(job.post.id, old, old, "unparsable", None, text, details)
            continue
        if problem:
            details["error"] = problem
        made[job.post.id] = Explanation(job.post.id, old, new, "ok", False, text, details)
    return made


def calibrate_flips(asking: Asking, posts: Sequence[Post], prediction: Prediction, ctx: Context,
                    objective: Callable[[Sequence[str]], float], higher_is_better: bool) -> tuple[dict[str, Any], float]:
    """``score`` mode with ``threshold = "dev"`` on a single-label task: the judge scores the dev
    posts it would be sent (and, for ``relabel_to`` templates, asks each one's new label), and the
    threshold is chosen by the official metric of the resulting dev labels
    (:func:`.calibration.select_threshold`); ``higher_is_better`` is that metric's direction.
    Returns the calibration's record and the threshold chosen."""
    start = time.perf_counter()
    template = asking.template
    jobs = build_jobs(asking, posts, prediction.labels, ctx)
    with open_session(asking, ctx) as session:
        scores = session.run(jobs, "score", "LLM judge: dev scores")
        new_labels: dict[str, str | None] = {}
        if template.flip_to is not None:
            new_labels = {j.post.id: template.new_label_for_false(j.label, None)[0] for j in jobs}
        else:  # the label a flip gives comes from the reply: ask for every scored dev post
            scored_jobs = [j for j in jobs if read_score(scores[j.key].result.reply) is not None]
            reasons = session.run(scored_jobs, "reason", "LLM judge: dev labels")
            for job in scored_jobs:
                try:
                    label = parse_reply(reasons[job.key].result.reply).label
                except UnparsableReply:
                    label = None
                new_labels[job.post.id] = template.new_label_for_false(job.label, label)[0]
    index = {post.id: i for i, post in enumerate(posts)}
    scored = []
    for job in jobs:
        score = read_score(scores[job.key].result.reply)
        new = new_labels.get(job.post.id)
        if score is not None and new is not None:
            scored.append((index[job.post.id], p_false_norm(score), new))
    choice = select_threshold(prediction.labels, scored, objective, higher_is_better)
    ctx.log(f"explainer llm: threshold {choice.threshold:.4f} chosen on dev ({len(scored)} posts scored, "
            f"{choice.flips} flips; official metric {choice.objective_without_flips:.4f} -> {choice.objective:.4f})")
    costs = [o.model_cost_usd for o in scores.values() if o.model_cost_usd is not None]
    return {**choice.to_dict(), "tuned_on_dev": True, "dev_sent": len(jobs),
            "dev_unscored": len(jobs) - len(scored), "seconds": round(time.perf_counter() - start, 3),
            "dev_cost_usd": sum(costs) if costs else None,
            "requests": {kind: {"cache": c[0], "model": c[1]} for kind, c in session.counts.items()}}, choice.threshold
