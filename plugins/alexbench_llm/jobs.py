"""The requests of one judgement: what the explainer's helpers are given for one call
(:class:`Asking`, a small frozen config), and a job per post whose predicted label is in the send
policy (on a multi-label task, per predicted label in it), holding its messages, their hash and
the template's fixed beginning (the part a local model evaluates once and restores)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alexbench.errors import PluginError
from alexbench.interfaces import Context, Post

from .params import LLMParams
from .prompts import PromptTemplate, messages_hash

if TYPE_CHECKING:
    from .backends import Backend

#: Marks the post's own fields when a template is rendered to find its fixed beginning.
_MARK = "\ue000"


@dataclass(frozen=True)
class Job:
    post: Post
    label: str  # the predicted label (multi-label: the one label asked about)
    messages: list[dict[str, str]]
    prompt_hash: str
    prefix: str  # the template's fixed beginning ("" = none: evaluated from scratch, or not local)

    @property
    def key(self) -> tuple[str, str]:
        """What the job's result is found by: the post, and the label asked about (one per post on
        a single-label task, one per predicted label sent on a multi-label task)."""
        return self.post.id, self.label


@dataclass(frozen=True)
class Asking:
    """What the explainer's helpers (:mod:`.jobs`, :mod:`.session`, :mod:`.singlelabel`,
    :mod:`.multilabel`, :mod:`.plan`) are given for one call, fixed when it starts: the parameters,
    the prompt template, the labels whose predictions are sent, the ``score`` verdict's threshold
    in use (and where it comes from), and how a request is keyed and sent (the explainer's own,
    bound to the template). A helper returns what it decides (the threshold chosen on dev); it
    never writes the explainer's fields."""

    params: LLMParams
    template: PromptTemplate
    send: frozenset[str]
    local: bool
    threshold: float
    threshold_source: str
    request_key: Callable[[Job, str], str]
    request_params: Callable[[Job, str], dict[str, Any]]
    model_identity: Callable[[], str]
    response_format: Callable[[str], dict[str, Any] | None]
    open_backend: Callable[[ExitStack], Backend]


def prompt_prefix(asking: Asking, label: str, ctx: Context) -> str:
    """The fixed beginning of every prompt of ``label``: the rendered template up to the first
    field of the post itself (its text, label or extra inputs). "" for hosted models, or when
    prefix reuse is off."""
    if not (asking.local and asking.params.prefix_reuse):
        return ""
    template = asking.template
    from .prompt_format import render_plain

    marked = Post("", _MARK, None, {k: _MARK for k in ctx.task.extra_keys})
    fields_first = template.messages(marked, label, (_MARK,))  # (_MARK,): a multi-label post's {labels}
    text = render_plain(fields_first)
    return text[:text.index(_MARK)] if _MARK in text else ""


def build_jobs(asking: Asking, posts: Sequence[Post], labels: Sequence[str], ctx: Context) -> list[Job]:
    """The jobs of these posts and their predicted ``labels``, in post order (multi-label: each
    post's labels in the task's order)."""
    if len(posts) != len(labels):
        raise PluginError(f"explainer llm: {len(posts)} posts but {len(labels)} predictions")
    ids = [p.id for p in posts]
    if len(set(ids)) != len(ids):
        raise PluginError("explainer llm: post ids are not unique; results are matched to posts by id")
    template, send = asking.template, asking.send
    prefixes: dict[str, str] = {}
    jobs = []
    for post, predicted in zip(posts, labels):
        # multi-label: one question per predicted label in the policy, the whole set in {labels}
        label_set = ctx.task.label_set(predicted) if template.multi_label else (predicted,)
        for label in label_set:
            if label not in send:
                continue
            if label not in prefixes:
                prefixes[label] = prompt_prefix(asking, label, ctx)
            messages = template.messages(post, label, label_set)
            jobs.append(Job(post, label, messages, messages_hash(messages), prefixes[label]))
    return jobs


def question_jobs(asking: Asking, posts: Sequence[Post], labels: Sequence[str], asked: Sequence[str],
                  ctx: Context) -> list[Job]:
    """The jobs of questions already asked (``alexbench explain --reasons``): each post with its
    predicted label (multi-label: its predicted set) and the label ``asked`` about, rendered as
    :func:`build_jobs` rendered them, so the request is the same one."""
    template = asking.template
    prefixes = {label: prompt_prefix(asking, label, ctx) for label in set(asked)}
    jobs = []
    for post, predicted, label in zip(posts, labels, asked):
        if template.multi_label:
            messages = template.messages(post, label, ctx.task.label_set(predicted))
        else:
            messages = template.messages(post, label)
        jobs.append(Job(post, label, messages, messages_hash(messages), prefixes[label]))
    return jobs
