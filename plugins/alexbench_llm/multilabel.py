"""The LLM explainer on a multi-label task: one question per predicted label, a False verdict removes it.

For each post, every predicted label that is in the send policy is asked about on its own (the
template's ``{label}`` and ``{label_meaning}`` hold that label, ``{labels}`` the post's whole
predicted set): one request per (post, label), cached per request like any other. A read False
verdict (``generate``) or a P(false) at or above the threshold (``score``) removes that label;
True keeps it; an unparsable reply or a failed call keeps it too.

**The empty-set rule.** On a task without ``labels.empty`` every post has at least one label.
When the verdicts would remove every label of such a post, the removed label the classifier gave
the highest probability stays (of equal probabilities the first in the task's label order): the
judge only rejected labels, it named none in their place, and the classifier's most confident
label is the least arbitrary one to keep. The same rule applies to the ``score`` threshold's
candidates on dev. On a task with ``empty`` the set may become empty.

**What is stored.** One :class:`~alexbench.interfaces.Explanation` per post, as on a single-label
task (the shape every reader of ``explanations.jsonl`` knows): ``old_label`` is the predicted set
and ``new_label`` the final set (canonical strings); ``status`` is ``ok`` when at least one verdict
was read (else ``unparsable``, or ``failed`` when every call failed); ``verdict`` is False when any
read verdict was False, True when all were True; ``reason`` joins the reasons as ``label: reason``.
``details.labels`` lists the questions in the task's label order: ``label``, ``status``, ``verdict``,
``reason``, ``removed`` (whether the label left the set), ``prompt_hash``, ``raw``, ``cached``,
``error`` and in ``score`` mode ``p_true``, ``p_false``, ``p_false_norm``; ``details.kept_by_empty_rule``
names the label the empty-set rule kept (None when it did not apply).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from typing import Any

from alexbench.config.tasks import TaskSpec
from alexbench.interfaces import Context, Explanation, Post, Prediction, join_labels

from .backends import p_false_norm, read_score
from .calibration import select_removal_threshold
from .jobs import Asking, Job, build_jobs
from .parse import UnparsableReply, parse_reply
from .session import Outcome, open_session, request_details


def final_label_set(predicted: Sequence[str], removed: Collection[str], probs: Sequence[float],
                    task: TaskSpec) -> tuple[str, str | None]:
    """The post's final label set (canonical) once ``removed`` leave its ``predicted`` labels, and
    the label the empty-set rule kept (None when it did not apply); ``probs`` is the classifier's
    row for the post, in the task's label order."""
    order = list(task.labels)
    kept = [label for label in predicted if label not in removed]
    if kept or task.empty is not None or not predicted:
        return join_labels(kept, order), None
    index = {label: i for i, label in enumerate(order)}
    best = max(predicted, key=lambda label: (probs[index[label]], -index[label]))
    return join_labels([best], order), best


def _generated_record(job: Job, outcome: Outcome) -> dict[str, Any]:
    """One question's record from a generated reply."""
    reply = outcome.result.reply
    record: dict[str, Any] = {"label": job.label, "status": "ok", "verdict": None, "reason": "", "removed": False,
                              "prompt_hash": job.prompt_hash, "raw": reply, "cached": outcome.cached,
                              "error": outcome.result.error}
    if reply is None:
        record["status"] = "failed"
        return record
    try:
        parsed = parse_reply(reply)
    except UnparsableReply as exc:
        record.update(status="unparsable", error=f"unparsable: {exc}")
        return record
    record.update(verdict=parsed.verdict, reason=parsed.reason)
    return record


def _scored_record(job: Job, score_outcome: Outcome, reason_outcome: Outcome | None,
                   threshold: float) -> dict[str, Any]:
    """One question's record in ``score`` mode: P(false) against the threshold; the reason of a
    removal comes from a reply generated with the verdict fixed to false."""
    reply = score_outcome.result.reply
    record: dict[str, Any] = {"label": job.label, "status": "ok", "verdict": None, "reason": "", "removed": False,
                              "prompt_hash": job.prompt_hash, "raw": None, "cached": score_outcome.cached,
                              "error": score_outcome.result.error, "p_true": None, "p_false": None,
                              "p_false_norm": None}
    if reply is None:
        record["status"] = "failed"
        return record
    score = read_score(reply)
    if score is None:
        record.update(status="unparsable", error=f"unparsable: no verdict probabilities ({reply[:200]})")
        return record
    p_f = p_false_norm(score)
    record.update(p_true=score[0], p_false=score[1], p_false_norm=p_f, verdict=p_f < threshold)
    if reason_outcome is not None:
        record["raw"] = reason_outcome.result.reply
        record["cached"] = score_outcome.cached and reason_outcome.cached
        if reason_outcome.result.reply is None:
            record["error"] = f"reason: {reason_outcome.result.error}"
        else:
            try:
                record["reason"] = parse_reply(reason_outcome.result.reply).reason
            except UnparsableReply as exc:
                record["error"] = f"reason unparsable: {exc}"
    return record


def post_explanation(post: Post, predicted: str, records: list[dict[str, Any]], probs: Sequence[float],
                     task: TaskSpec, details: dict[str, Any]) -> Explanation:
    """One post's explanation from the records of the questions asked about its labels (``details``:
    the totals over its requests; the records and the empty-set rule's choice are added)."""
    rejected = {r["label"] for r in records if r["status"] == "ok" and r["verdict"] is False}
    final, kept = final_label_set(task.label_set(predicted), rejected, probs, task)
    for record in records:
        record["removed"] = record["label"] in rejected and record["label"] != kept
    read = [r for r in records if r["status"] == "ok"]
    if read:
        status, verdict = "ok", not rejected
    else:
        status, verdict = ("unparsable" if any(r["status"] == "unparsable" for r in records) else "failed"), None
    reason = "; ".join(f"{r['label']}: {r['reason']}" for r in records if r["reason"])
    details.update(prompt_hash=None, raw=None, reply_label=None,
                   error=next((r["error"] for r in records if r["error"]), None),
                   labels=records, kept_by_empty_rule=kept)
    return Explanation(post.id, predicted, final, status, verdict, reason, details)


def explain_label_sets(asking: Asking, posts: Sequence[Post], prediction: Prediction, ctx: Context) -> list[Explanation]:
    """:meth:`LLMExplainer.explain` on a multi-label task."""
    template = asking.template
    jobs = build_jobs(asking, posts, prediction.labels, ctx)
    by_post: dict[str, list[Job]] = {}
    for job in jobs:
        by_post.setdefault(job.post.id, []).append(job)
    mode = asking.params.verdict
    ctx.log(f"explainer llm: model {asking.params.model}, verdict {mode}, template {template.path} "
            f"(sha256 {template.sha256[:12]}), multi-label: {len(jobs)} questions (post, predicted label) about "
            f"{len(by_post)} of {len(posts)} posts (labels {sorted(asking.send)})")
    records: dict[tuple[str, str], dict[str, Any]] = {}
    outcomes: dict[tuple[str, str], list[Outcome]] = {}
    threshold_info: dict[str, Any] = {}
    with open_session(asking, ctx) as session:
        if mode == "generate":
            results = session.run(jobs, "generate", "LLM explainer")
            for job in jobs:
                records[job.key] = _generated_record(job, results[job.key])
                outcomes[job.key] = [results[job.key]]
            hits, calls = session.counts.get("generate", [0, 0])
            ctx.log(f"explainer llm: {hits} replies from the cache, {calls} from the model")
        else:
            threshold, source = asking.threshold, asking.threshold_source
            threshold_info = {"threshold": threshold, "threshold_source": source}
            scores, reasons = session.scores_and_reasons(jobs, threshold, "removals")
            for job in jobs:
                reason = reasons.get(job.key)
                records[job.key] = _scored_record(job, scores[job.key], reason, threshold)
                outcomes[job.key] = [scores[job.key]] + ([reason] if reason else [])
            counts = {kind: session.counts.get(kind, [0, 0]) for kind in ("score", "reason")}
            ctx.log(f"explainer llm: threshold {threshold:.4f} ({source}); scores: {counts['score'][0]} from the "
                    f"cache, {counts['score'][1]} from the model; reasons of {len(reasons)} removals: "
                    f"{counts['reason'][0]} from the cache, {counts['reason'][1]} from the model")
    out = []
    for post, predicted, probs in zip(posts, prediction.labels, prediction.probs):
        asked = by_post.get(post.id)
        if not asked:
            out.append(Explanation(post.id, predicted, predicted, "not_sent"))
            continue
        details = request_details(asking, asked[0], [o for job in asked for o in outcomes[job.key]])
        details.update(threshold_info)
        out.append(post_explanation(post, predicted, [records[job.key] for job in asked], probs, ctx.task, details))
    return out


def calibrate_removals(asking: Asking, posts: Sequence[Post], prediction: Prediction, ctx: Context,
                       objective: Callable[[Sequence[str]], float],
                       higher_is_better: bool) -> tuple[dict[str, Any], float]:
    """``score`` mode with ``threshold = "dev"`` on a multi-label task: the judge scores every dev
    (post, label) question it would ask, and one threshold for all of them is chosen by the
    official metric of the resulting dev label sets (:func:`.calibration.select_removal_threshold`);
    ``higher_is_better`` is that metric's direction. Returns the calibration's record and the
    threshold chosen."""
    start = time.perf_counter()
    jobs = build_jobs(asking, posts, prediction.labels, ctx)
    with open_session(asking, ctx) as session:
        scores = session.run(jobs, "score", "LLM judge: dev scores")
    index = {post.id: i for i, post in enumerate(posts)}
    scored = []
    for job in jobs:
        score = read_score(scores[job.key].result.reply)
        if score is not None:
            scored.append((index[job.post.id], p_false_norm(score), job.label))

    def final_for(i: int, removed: frozenset[str]) -> str:
        return final_label_set(ctx.task.label_set(prediction.labels[i]), removed, prediction.probs[i], ctx.task)[0]

    choice = select_removal_threshold(prediction.labels, scored, final_for, objective, higher_is_better)
    removals = sum(1 for _, p_f, _ in scored if p_f >= choice.threshold)
    ctx.log(f"explainer llm: threshold {choice.threshold:.4f} chosen on dev ({len(scored)} (post, label) questions "
            f"scored, {removals} labels removed from {choice.flips} posts; official metric "
            f"{choice.objective_without_flips:.4f} -> {choice.objective:.4f})")
    costs = [o.model_cost_usd for o in scores.values() if o.model_cost_usd is not None]
    return {**choice.to_dict(), "tuned_on_dev": True, "unit": "(post, label) question", "dev_sent": len(jobs),
            "dev_posts_sent": len({job.post.id for job in jobs}), "dev_unscored": len(jobs) - len(scored),
            "dev_removals": removals, "seconds": round(time.perf_counter() - start, 3),
            "dev_cost_usd": sum(costs) if costs else None,
            "requests": {kind: {"cache": c[0], "model": c[1]} for kind, c in session.counts.items()}}, choice.threshold
