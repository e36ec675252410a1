"""What the runner checks of the plugins' work on every run (not only in the conformance kit):
that a variant's components can run on the task, that predictions and explanations have the
right shape, and that no stage wrote to the task's own files (each hashed when read and after
every stage)."""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from alexbench.config.tasks import TaskSpec
from alexbench.config.variants import VariantSpec
from alexbench.data.splits import Dataset
from alexbench.errors import ParamError, PluginError, RunError, UnsupportedTaskError
from alexbench.fsio import sha256_file
from alexbench.interfaces import Classifier, Component, Explainer, Explanation, Post, Prediction
from alexbench.scoring.results import ExplanationRow, ResultsError, SplitScores


def unsupported(task: TaskSpec, components: Sequence[Component | None]) -> list[str]:
    """The components (``kind 'name'``) that cannot run on ``task``: on a multi-label task, those
    not declaring ``multi_label = True``."""
    if not task.multi_label:
        return []
    return [f"{c.kind} {c.name!r}" for c in components if c is not None and not getattr(c, "multi_label", False)]


def check_supported(task: TaskSpec, variant: VariantSpec, components: Sequence[Component | None]) -> None:
    """Refuse, before any work, a variant with a component that does not handle ``task``."""
    refused = unsupported(task, components)
    if refused:
        raise UnsupportedTaskError(
            f"variant {variant.name!r} cannot run on task {task.name!r}: {', '.join(refused)} "
            f"{'does' if len(refused) == 1 else 'do'} not support multi-label tasks (a post with a set of labels); "
            "a component that does declares multi_label = True (`alexbench plugins` shows which do; every built-in "
            "augmenter, classifier and explainer does)")


#: How far a single-label probability row's sum may be from 1 (float rounding: a float32 softmax,
#: probabilities rounded to a few decimals). The host and the conformance kit use the same.
PROB_SUM_TOLERANCE = 1e-3


def row_problem(task: TaskSpec, row: Sequence[object]) -> str | None:
    """Why ``row`` is not a probability row of ``task`` (one number in [0, 1] per label of
    ``task.labels``, in that order; on a single-label task summing to 1 within
    :data:`PROB_SUM_TOLERANCE`), with what to change; None when it is one."""
    labels = list(task.labels)
    if not isinstance(row, (list, tuple)) or len(row) != len(labels):
        got = f"{len(row)} probabilities" if isinstance(row, (list, tuple)) else f"a {type(row).__name__}"
        return (f"gave {got}, expected {len(labels)}: one per label of ctx.task.labels {labels}, in that order"
                + (" (multi-label: P(label) for each)" if task.multi_label else ""))
    if not all(isinstance(p, numbers.Real) and not isinstance(p, bool) and 0.0 <= p <= 1.0 for p in row):
        return (f"gave probabilities {list(row)}: each must be a number in [0, 1]"
                + (" (multi-label: a sigmoid per label)" if task.multi_label else " (e.g. a softmax of the scores)"))
    total = float(sum(row))  # type: ignore[arg-type]
    if not task.multi_label and abs(total - 1.0) > PROB_SUM_TOLERANCE:
        return (f"gave probabilities that sum to {total:.6g}, not 1: on a single-label task a row is a distribution "
                f"over ctx.task.labels (its sum within {PROB_SUM_TOLERANCE:g} of 1); normalise each row (a softmax, "
                "not a sigmoid per label; only multi-label tasks have rows that need not sum to 1)")
    return None


def check_prediction(clf: Classifier, posts: Sequence[Post], pred: Prediction, task: TaskSpec) -> None:
    """A classifier's predictions for ``posts``: one canonical label and one probability row
    (:func:`row_problem`) per post. Each message names the component, the post and what to change."""
    who = f"classifier {clf.name!r}"
    if not isinstance(pred, Prediction):
        raise PluginError(f"{who}: predict() returned {type(pred).__name__}, not a Prediction: return "
                          "alexbench.interfaces.Prediction(labels, probs), one label and one probability row per post")
    if len(pred.labels) != len(posts):
        raise PluginError(f"{who} returned {len(pred.labels)} predictions for {len(posts)} posts: return one label and "
                          "one probability row per post, in the order given (Prediction([], []) for none)")
    fix = ("give join_labels(labels, ctx.task.labels) (alexbench.interfaces)" if task.multi_label
           else "predict one of ctx.task.labels")
    for post, label, row in zip(posts, pred.labels, pred.probs):
        if (problem := task.label_space.problem(label)) is not None:
            raise PluginError(f"{who} predicted {label!r} for post {post.id!r}, {problem}: {fix}")
        if (problem := row_problem(task, row)) is not None:
            raise PluginError(f"{who}, post {post.id!r}: {problem}")


STATUSES = ("not_sent", "ok", "unparsable", "failed")


def check_explanations(exp: Explainer, posts: Sequence[Post], pred: Prediction,
                       out: Sequence[Explanation], task: TaskSpec) -> list[ExplanationRow]:
    """An explainer's answers for ``posts``: one :class:`Explanation` per post, in order, naming
    the post and its predicted label, with a valid status and label, changed only with a parsed
    False verdict, and rows the run can store (a reason is text, a verdict a bool or None, details
    a JSON object); returns those rows. Each message names the component, the post and what to change."""
    who = f"explainer {exp.name!r}"
    if not isinstance(out, (list, tuple)) or not all(isinstance(e, Explanation) for e in out):
        kind = type(out).__name__ if not isinstance(out, (list, tuple)) else \
            f"a list holding {type(next(e for e in out if not isinstance(e, Explanation))).__name__}"
        raise PluginError(f"{who}: explain() returned {kind}: return a list of alexbench.interfaces.Explanation, "
                          "one per post")
    if len(out) != len(posts):
        raise PluginError(f"{who} returned {len(out)} explanations for {len(posts)} posts: return one Explanation per "
                          "post, in the order given (status='not_sent' for the posts it skips)")
    for i, (post, old, e) in enumerate(zip(posts, pred.labels, out)):
        if e.post_id != post.id:
            raise PluginError(f"{who}: explanation {i} is for post {e.post_id!r}, but post {i} is {post.id!r}: "
                              "return one Explanation per post in the order given, with post_id=post.id")
        if e.old_label != old:
            raise PluginError(f"{who}: the explanation of post {post.id!r} has old_label {e.old_label!r}, but the "
                              f"classifier predicted {old!r}: set old_label=prediction.labels[i]")
        if e.status not in STATUSES:
            raise PluginError(f"{who} gave post {post.id!r} status {e.status!r}: use one of "
                              f"{', '.join(map(repr, STATUSES))}")
        if (problem := task.label_space.problem(e.new_label)) is not None:
            raise PluginError(f"{who} gave post {post.id!r} the label {e.new_label!r}, {problem}: new_label is "
                              "old_label when the prediction stands, else "
                              + ("a label set, join_labels(labels, ctx.task.labels)" if task.multi_label
                                 else "one of ctx.task.labels"))
        if e.new_label != e.old_label and not (e.status == "ok" and e.verdict is False):
            raise PluginError(f"{who} changed the label of post {post.id!r} from {e.old_label!r} to {e.new_label!r} "
                              f"without a parsed False verdict (status {e.status!r}, verdict {e.verdict!r}): a label "
                              "changes only with status='ok' and verdict=False; otherwise return new_label=old_label")
    try:
        return [ExplanationRow.from_explanation(e, f"explanation of post {e.post_id!r}") for e in out]
    except ResultsError as exc:
        raise PluginError(f"{who}: {exc}: see alexbench.interfaces.Explanation") from None


def checked_scores(task: TaskSpec, scores: Mapping[str, object]) -> SplitScores:
    """A split's scores as metrics.json records them; a metric plugin's value that is not a number
    fails the run, naming it."""
    try:
        return SplitScores.from_dict(scores, "score()")
    except ResultsError as exc:
        raise PluginError(f"the metrics of task {task.name!r} are not what metrics.json records: {exc}") from None


def post_rows(posts: Sequence[Post]) -> list[tuple[str, str, str | None, dict[str, str]]]:
    """What a split holds as the classifier sees it (each post's id, text, label and extra
    inputs), copied: to tell afterwards which post changed (:func:`changed_post`)."""
    return [(p.id, p.text, p.label, dict(p.extra)) for p in posts]


def changed_post(before: Sequence[tuple[str, str, str | None, dict[str, str]]], posts: Sequence[Post]) -> str | None:
    """Which post of a split differs from ``before`` (:func:`post_rows`), in words; None if none."""
    after = post_rows(posts)
    fields = ("id", "text", "label", "extra")
    for i, (old, new) in enumerate(zip(before, after)):
        if old != new:
            what = ", ".join(f for f, a, b in zip(fields, old, new) if a != b)
            return f"post {old[0]!r} (row {i + 1}) changed its {what}" if old[0] == new[0] else \
                f"row {i + 1} was post {old[0]!r} and is now {new[0]!r}"
    if len(before) != len(after):
        row = min(len(before), len(after))
        gone = f"post {before[row][0]!r} and after it removed" if len(before) > len(after) else \
            f"post {after[row][0]!r} and after it added"
        return f"{len(before)} posts before, {len(after)} after: {gone}"
    return None


#: The share of the posts sent to an explainer (status other than ``not_sent``) whose explanation
#: may have failed (``status == "failed"``: no answer, e.g. a model that could not be reached)
#: before the run fails instead of being stored. Not part of a run's identity.
EXPLAINER_MAX_FAILED_ENV = "ALEXBENCH_EXPLAINER_MAX_FAILED"


def allowed_failed_share(value: float | str | None = None) -> float:
    """The share of posts sent an explainer may fail on: ``value`` (the runner's argument), else
    ``$ALEXBENCH_EXPLAINER_MAX_FAILED``, else 0 (any failed post fails the run)."""
    raw = os.environ.get(EXPLAINER_MAX_FAILED_ENV) if value is None else value
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return 0.0
    try:
        share = float(raw)
    except (TypeError, ValueError):
        share = math.nan
    if not 0.0 <= share <= 1.0:  # NaN too
        where = EXPLAINER_MAX_FAILED_ENV if value is None else "the explainer's allowed share of failed posts"
        raise ParamError(f"{where}={raw!r}: expected the share of the posts sent to an explainer that may fail "
                         "before its run fails, a number from 0 to 1 (e.g. 0.05; default 0: none may)")
    return share


def _percent(share: float) -> str:
    return f"{100 * share:.3g}%"


def check_explainer_failures(exp: Explainer, out: Sequence[Explanation], allowed: float) -> str | None:
    """Judge an explainer's failed posts (``status == "failed"``) against the ``allowed`` share of
    the posts it was sent: more fails the run (:class:`RunError`: the count, the share, the first
    error and what to change); some but not more gives a warning line for the run's log; none, None."""
    sent = [e for e in out if e.status != "not_sent"]
    failed = [e for e in sent if e.status == "failed"]
    if not failed:
        return None
    first = failed[0]
    details = first.details if isinstance(first.details, Mapping) else {}
    error = str(details.get("error") or first.reason or "no error recorded (details['error'] is empty)")
    error = error if len(error) <= 300 else error[:300] + "…"
    share = len(failed) / len(sent)
    what = (f"explainer {exp.name!r} failed on {len(failed)} of {len(sent)} posts sent ({_percent(share)}); first "
            f"error (post {first.post_id!r}): {error}")
    if share > allowed:
        raise RunError(f"{what}. That is more than the {_percent(allowed)} allowed, so the run is not stored and a "
                       f"rerun asks again; to store runs with some failed posts, set {EXPLAINER_MAX_FAILED_ENV} to the "
                       "share allowed (e.g. 0.05): the leaderboard counts them ('llm failed')")
    return (f"{what}; stored, as {EXPLAINER_MAX_FAILED_ENV} allows {_percent(allowed)}: those posts keep the "
            "classifier's label")


def watched_files(task: TaskSpec, data: Dataset, task_file_sha256: str) -> dict[Path, str]:
    """The task file and each split's data file, with their sha256 when they were read."""
    files = {Path(task.path): task_file_sha256}
    for name, split in data.splits.items():
        if task.splits[name].file is not None:
            files[task.split_path(name)] = split.sha256
    return files


def changed_files(files: dict[Path, str]) -> list[tuple[Path, str, str | None]]:
    """(path, sha256 when read, sha256 now or None when gone) of each file that changed on disk."""
    changed = []
    for path, before in files.items():
        try:
            now: str | None = sha256_file(path)
        except OSError:
            now = None
        if now != before:
            changed.append((path, before, now))
    return changed


def check_files(files: dict[Path, str], stage: str, culprit: str) -> None:
    changed = changed_files(files)
    if not changed:
        return
    path, before, now = changed[0]
    state = "is gone" if now is None else f"has sha256 {now[:12]}… (was {before[:12]}… when read)"
    others = f" (and {len(changed) - 1} more)" if len(changed) > 1 else ""
    message = (f"the task's file {path}{others} changed on disk {stage}: it {state}. {culprit} Restore the file "
               "(from version control or its original release): runs scored on a changed file do not compare "
               "with the runs before it")
    raise (PluginError if culprit else RunError)(message)
