"""The LLM explainer (ALEX stage 3): an LLM checks the classifier's label and may flip it.

For each post whose predicted label is in the send policy, the task's prompt template (with
the predicted label and any extra input filled in) goes to the model; how its verdict is read
is the ``verdict`` parameter:

* ``generate`` (ALEX, the default) — the model writes a JSON ``{"verdict": true|false, "label":
  ..., "reason": ...}``; a False verdict sets the label the template says (``flip_to``) or the one
  the reply names (``relabel_to``, Task 2);
* ``score`` — the judge reads P(true) and P(false) of the verdict's first token and flips when
  P(false) / (P(true) + P(false)) >= ``threshold`` (``"dev"``: chosen on the dev split by the
  task's official metric, see :meth:`LLMExplainer.calibrate`); the reply (label and reason) is
  generated only for the posts it flips, with the verdict fixed to false.

On a multi-label task (:mod:`.multilabel`) the template is asked about each predicted label of a
post that is in the send policy, one request per (post, label); a False verdict (or, in ``score``
mode, a P(false) at or above the threshold) removes that label from the post's set.

An unparsable reply, an invalid label or a failed call keeps the classifier's label and is
recorded as such. Local models (``local/<name>``) run in this process (:mod:`.engine`: the
template's fixed beginning is evaluated once and its saved state restored for every post);
any other model goes through litellm. Replies and scores are cached in SQLite under the results
cache.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from alexbench.config.tasks import TaskSpec
from alexbench.errors import PluginError
from alexbench.interfaces import Context, Explainer, ExplainerPlan, Explanation, Post, Prediction
from alexbench.run.provenance import package_version
from alexbench.scoring.metrics import higher_is_better

from . import __version__
from .backends import (
    SCORE_MAX_TOKENS,
    SCORE_TOP_LOGPROBS,
    Backend,
    LiteLLMBackend,
    LocalBackend,
    p_false_norm,
    read_score,
)
from .cache import CachedReply, ResponseCache, cache_key
from .calibration import select_threshold
from .client import CallResult, CallSettings, RateGate
from .engine import VERDICT_OPEN
from .parse import UnparsableReply, parse_reply
from .prompts import PromptTemplate, load_template, messages_hash, template_path

LOCAL_PREFIX = "local/"
AtLeastOne = Annotated[int, Field(ge=1)]
NotNegative = Annotated[float, Field(ge=0)]
#: The threshold of ``score`` mode when ``threshold = "dev"`` but explain() runs without calibrate().
UNCALIBRATED_THRESHOLD = 0.5
#: Marks the post's own fields when a template is rendered to find its fixed beginning.
_MARK = "\ue000"


@dataclass(frozen=True)
class LLMParams:
    #: litellm model name, or "local/<name>": the bundled llama.cpp model, run in this process.
    model: Annotated[str, Field(pattern=r"\S", description="a litellm model (e.g. openai/gpt-4o-mini) or "
                                                             "local/<name>")] = "local/gemma-3-270m"
    #: Server URL for OpenAI-compatible servers (vLLM, llama.cpp, Ollama...); "" = the provider's default.
    api_base: str = ""
    #: Name of the environment variable holding the API key ("" = litellm's default for the provider).
    api_key_env: str = ""
    #: Prompt template file; "" = <task folder>/prompts/<task name>.toml.
    prompts: str = ""
    #: Comma-separated predicted labels to send; "" = the template's ALEX policy.
    send_labels: str = ""
    #: How structured output is requested: json_schema, json_object or none (prompt only).
    structured: Literal["json_schema", "json_object", "none"] = "json_schema"
    #: How the verdict is read: "generate" (the reply's JSON; ALEX) or "score" (P(false) vs threshold).
    verdict: Literal["generate", "score"] = "generate"
    #: score mode: flip when P(false) >= threshold; "dev" = chosen on the dev split by the official metric.
    threshold: Annotated[float, Field(ge=0, le=1)] | Literal["dev"] = "dev"
    temperature: NotNegative = 0.0
    seed: int = 0
    max_tokens: AtLeastOne = 128
    max_reason_chars: AtLeastOne = 200
    timeout_s: Annotated[float, Field(gt=0)] = 60.0
    retries: Annotated[int, Field(ge=0)] = 4
    backoff_s: NotNegative = 0.5
    backoff_max_s: NotNegative = 30.0
    #: The longest Retry-After (s) of a 429 that is waited for; a longer one fails the post.
    retry_after_max_s: NotNegative = 120.0
    concurrency: AtLeastOne = 2
    cache: bool = True
    #: Local models only: a GGUF file ("" = the bundled Gemma-3-270M), context size, threads (0 = the
    #: cores the machine leaves idle, checked before each request, 1 to 4; replies are the same for
    #: any count), and whether the template's fixed beginning is evaluated once and restored
    #: (false: every prompt from scratch).
    gguf: str = ""
    n_ctx: int = 2048
    n_threads: Annotated[int, Field(ge=0)] = 0
    prefix_reuse: bool = True


@dataclass(frozen=True)
class _Job:
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


@dataclass
class _Outcome:
    """One request's result for one post, and whether it came from the cache."""

    result: CallResult
    cached: bool
    model_latency_s: float | None
    model_cost_usd: float | None


@dataclass
class _Session:
    """The cache and (lazily, on the first miss) the model behind one explain() or calibrate()."""

    explainer: LLMExplainer
    template: PromptTemplate
    ctx: Context
    stack: ExitStack
    cache: ResponseCache | None = None
    backend: Backend | None = None
    counts: dict[str, list[int]] = field(default_factory=dict)  # kind -> [from cache, from the model]

    def run(self, jobs: Sequence[_Job], kind: str, description: str) -> dict[tuple[str, str], _Outcome]:
        ex = self.explainer
        out: dict[tuple[str, str], _Outcome] = {}
        misses: list[tuple[_Job, str]] = []
        for job in jobs:
            key = ex.request_key(job, kind, self.template)
            start = time.perf_counter()
            hit = self.cache.get(key) if self.cache is not None else None
            if hit is None:
                misses.append((job, key))
                continue
            result = CallResult(hit.reply, 0, time.perf_counter() - start, hit.prompt_tokens, hit.completion_tokens,
                                0.0 if hit.cost_usd is not None else None)
            out[job.key] = _Outcome(result, True, hit.latency_s, hit.cost_usd)
        counts = self.counts.setdefault(kind, [0, 0])
        counts[0] += len(jobs) - len(misses)
        counts[1] += len(misses)
        if not misses:
            return out
        if self.backend is None:
            self.backend = ex.backend(self.template, self.stack)
        backend = self.backend

        def call(job: _Job) -> CallResult:
            if kind == "score":
                return backend.score(job.messages, job.prefix, ex.response_format(self.template))
            return backend.generate(job.messages, job.prefix, ex.response_format(self.template, kind))

        def finish(job: _Job, key: str, result: CallResult) -> None:
            out[job.key] = _Outcome(result, False, result.latency_s - result.waited_s, result.cost_usd)
            if self.cache is not None and result.reply is not None:
                self.cache.put(key, ex.model_identity(), job.prompt_hash, ex.request_params(job, kind, self.template),
                               CachedReply(result.reply, result.prompt_tokens, result.completion_tokens,
                                           result.cost_usd, result.latency_s - result.waited_s))

        if backend.concurrency <= 1:
            for job, key in self.ctx.track(misses, description, total=len(misses)):
                finish(job, key, call(job))
        else:
            with ThreadPoolExecutor(max_workers=backend.concurrency) as pool:
                futures = {pool.submit(call, job): (job, key) for job, key in misses}
                for future in self.ctx.track(as_completed(futures), description, total=len(futures)):
                    job, key = futures[future]
                    finish(job, key, future.result())
        return out

    def scores_and_reasons(self, jobs: Sequence[_Job], threshold: float, what: str
                           ) -> tuple[dict[tuple[str, str], _Outcome], dict[tuple[str, str], _Outcome]]:
        """``score`` mode: every job's score, then the reason of each one scored at or above
        ``threshold`` (``what`` they are, e.g. "flips", names the progress bar)."""
        scores = self.run(jobs, "score", "LLM judge: scores")
        over = [job for job in jobs if (score := read_score(scores[job.key].result.reply)) is not None
                and p_false_norm(score) >= threshold]
        return scores, self.run(over, "reason", f"LLM judge: reasons of {what}")


class LLMExplainer(Explainer):
    """Checks predicted labels with an LLM (local Gemma-3-270M in-process by default; any model by
    litellm name)."""

    name = "llm"
    version = __version__
    Params = LLMParams
    params: LLMParams
    multi_label = True  # one question per predicted label in the send policy (.multilabel)

    def __init__(self, params: LLMParams | None = None) -> None:
        super().__init__(params)
        self._threshold: float | None = None
        self._local_sha: str | None = None
        self._gate = RateGate()
        self._generation: dict[str, dict[str, Any]] = {}  # by template sha256

    # -- configuration -------------------------------------------------------------------------
    @property
    def is_local(self) -> bool:
        return self.params.model.startswith(LOCAL_PREFIX)

    def template(self, ctx: Context) -> PromptTemplate:
        return self._template_for(ctx.task)

    def _template_for(self, task: TaskSpec) -> PromptTemplate:
        path = Path(self.params.prompts).expanduser() if self.params.prompts else template_path(task)
        if self.params.prompts and not path.is_absolute() and not path.exists():
            path = task.path.parent / path  # relative to the task folder
        return load_template(path, task)

    def fingerprint(self, task: TaskSpec) -> dict[str, Any]:
        """The prompt template's content hash: editing the template makes a new run. A template
        inside the task's folder is named relative to it, so the run id does not depend on where
        the project is checked out (the same run is reused from another clone)."""
        template = self._template_for(task)
        folder = task.path.parent.resolve()
        path = template.path.resolve()
        shown = str(path.relative_to(folder)) if path.is_relative_to(folder) else str(template.path)
        return {"prompt_template": shown, "prompt_template_sha256": template.sha256}

    def send_policy(self, template: PromptTemplate, ctx: Context) -> frozenset[str]:
        if not self.params.send_labels.strip():
            return frozenset(template.send)
        labels = [s.strip() for s in self.params.send_labels.split(",") if s.strip()]
        unknown = [s for s in labels if s not in ctx.task.labels]
        if unknown:
            raise PluginError(f"explainer llm: send_labels {unknown} are not labels of task {ctx.task.name!r} "
                              f"{list(ctx.task.labels)}")
        return frozenset(labels)

    def reply_schema(self, template: PromptTemplate, verdict: bool | None = None) -> dict[str, Any]:
        """The reply's JSON schema; ``verdict`` fixes the verdict (the reason of a post the score flipped)."""
        verdict_schema: dict[str, Any] = {"type": "boolean"}
        if verdict is not None:
            verdict_schema["enum"] = [verdict]
        reason = {"type": "string", "maxLength": self.params.max_reason_chars}
        if template.multi_label:  # no label: a False verdict removes the one asked about
            return {"type": "object", "properties": {"verdict": verdict_schema, "reason": reason},
                    "required": ["verdict", "reason"], "additionalProperties": False}
        return {
            "type": "object",
            "properties": {
                "verdict": verdict_schema,
                "label": {"type": "string", "enum": template.answer_labels()},
                "reason": reason,
            },
            "required": ["verdict", "label", "reason"],
            "additionalProperties": False,
        }

    def response_format(self, template: PromptTemplate, kind: str = "generate") -> dict[str, Any] | None:
        """How the reply is constrained; ``kind = "reason"`` fixes the verdict to false (a flip's
        reason), ``"reason-true"`` to true (``alexbench explain --reasons`` for a label kept)."""
        schema = self.reply_schema(template, {"reason": False, "reason-true": True}.get(kind))
        if self.params.structured == "json_schema":
            return {"type": "json_schema", "json_schema": {"name": "verdict", "schema": schema, "strict": True}}
        if self.params.structured == "json_object":
            return {"type": "json_object"}
        return None

    def model_identity(self) -> str:
        """The model as named in the cache key: for a local model, its file's content hash."""
        if self.is_local:
            if self._local_sha is None:
                from .local_model import local_model_sha256

                self._local_sha = local_model_sha256(self.params.gguf)
            return f"{self.params.model}@sha256:{self._local_sha}"
        return self.params.model

    def generation_params(self, template: PromptTemplate) -> dict[str, Any]:
        """Everything besides model and prompt that can change a ``generate`` reply (the cache key's part)."""
        p = self.params
        out: dict[str, Any] = {"temperature": p.temperature, "seed": p.seed, "max_tokens": p.max_tokens,
                               "response_format": self.response_format(template)}
        if p.api_base and not self.is_local:
            out["api_base"] = p.api_base
        if self.is_local:
            out["n_ctx"] = p.n_ctx
            # The local engine's own version and mode: another llama.cpp build may reply differently,
            # and how the prompt was evaluated (prefix state restored, or from scratch) changes the
            # numbers a little. Replies of alexbench_llm < 0.3 (behind an HTTP server) are not reused.
            engine = package_version("llama_cpp_python") or "not installed"
            mode = "template prefix state restored" if p.prefix_reuse else "prompt evaluated from scratch"
            out["engine"] = f"llama-cpp-python {engine} in-process; {mode}"
        return out

    def request_params(self, job: _Job, kind: str, template: PromptTemplate) -> dict[str, Any]:
        """The cache key's parameters of one request (``generate``, ``score`` or ``reason``)."""
        if template.sha256 not in self._generation:
            self._generation[template.sha256] = self.generation_params(template)
        out = dict(self._generation[template.sha256])
        if job.prefix:
            out["prefix_sha256"] = hashlib.sha256(job.prefix.encode()).hexdigest()
        if kind == "score":
            out.pop("response_format")
            out["kind"] = "score"
            if self.is_local:
                out.pop("max_tokens")
                out["opening"] = VERDICT_OPEN
            else:
                out.update(max_tokens=min(self.params.max_tokens, SCORE_MAX_TOKENS), top_logprobs=SCORE_TOP_LOGPROBS,
                           response_format=self.response_format(template))
        elif kind in ("reason", "reason-true"):
            out["kind"] = kind
            out["response_format"] = self.response_format(template, kind)
        return out

    def request_key(self, job: _Job, kind: str, template: PromptTemplate) -> str:
        return cache_key(self.model_identity(), job.prompt_hash, self.request_params(job, kind, template))

    # -- requests ------------------------------------------------------------------------------
    def prefix(self, template: PromptTemplate, label: str, ctx: Context) -> str:
        """The fixed beginning of every prompt of ``label``: the rendered template up to the first
        field of the post itself (its text, label or extra inputs). "" for hosted models, or when
        prefix reuse is off."""
        if not (self.is_local and self.params.prefix_reuse):
            return ""
        from .engine import render_plain

        marked = Post("", _MARK, None, {k: _MARK for k in ctx.task.extra_keys})
        fields_first = template.messages(marked, label, (_MARK,))  # (_MARK,): a multi-label post's {labels}
        text = render_plain(fields_first)
        return text[:text.index(_MARK)] if _MARK in text else ""

    def _jobs(self, template: PromptTemplate, posts: Sequence[Post], labels: Sequence[str], ctx: Context) -> list[_Job]:
        if len(posts) != len(labels):
            raise PluginError(f"explainer llm: {len(posts)} posts but {len(labels)} predictions")
        ids = [p.id for p in posts]
        if len(set(ids)) != len(ids):
            raise PluginError("explainer llm: post ids are not unique; results are matched to posts by id")
        send = self.send_policy(template, ctx)
        prefixes: dict[str, str] = {}
        jobs = []
        for post, predicted in zip(posts, labels):
            # multi-label: one question per predicted label in the policy, the whole set in {labels}
            label_set = ctx.task.label_set(predicted) if template.multi_label else (predicted,)
            for label in label_set:
                if label not in send:
                    continue
                if label not in prefixes:
                    prefixes[label] = self.prefix(template, label, ctx)
                messages = template.messages(post, label, label_set)
                jobs.append(_Job(post, label, messages, messages_hash(messages), prefixes[label]))
        return jobs

    def backend(self, template: PromptTemplate, stack: ExitStack) -> Backend:
        p = self.params
        if self.is_local:
            from .engine import shared_engine
            from .local_model import resolve_local_model

            local_model = resolve_local_model(p.gguf)  # assembles the bundled GGUF on first use
            engine = shared_engine(str(local_model.path), n_ctx=p.n_ctx, n_threads=p.n_threads)
            return LocalBackend(engine, temperature=p.temperature, seed=p.seed, max_tokens=p.max_tokens,
                                use_grammar=p.structured != "none")
        settings = CallSettings(model=p.model, api_base=p.api_base, api_key_env=p.api_key_env,
                                temperature=p.temperature, seed=p.seed, max_tokens=p.max_tokens, timeout_s=p.timeout_s,
                                retries=p.retries, backoff_s=p.backoff_s, backoff_max_s=p.backoff_max_s,
                                retry_after_max_s=p.retry_after_max_s, gate=self._gate)
        return LiteLLMBackend(settings, p.concurrency)

    @contextmanager
    def _session(self, template: PromptTemplate, ctx: Context, *, readonly: bool = False) -> Iterator[_Session]:
        with ExitStack() as stack:
            cache = None
            if self.params.cache and ctx.cache_dir is not None:
                cache = stack.enter_context(ResponseCache(Path(ctx.cache_dir) / "llm" / "responses.sqlite",
                                                          readonly=readonly))
            yield _Session(self, template, ctx, stack, cache)

    # -- calibration on dev --------------------------------------------------------------------
    def calibrate(self, posts: Sequence[Post], prediction: Prediction, ctx: Context,
                  objective: Callable[[Sequence[str]], float]) -> dict[str, Any] | None:
        """``score`` mode: the threshold, chosen on the dev split by the task's official metric
        (the judge scores the dev posts it would be sent; see :mod:`.calibration`)."""
        self._threshold = None
        p = self.params
        if p.verdict != "score":
            return None
        if p.threshold != "dev":
            self._threshold = float(p.threshold)
            return {"threshold": self._threshold, "tuned_on_dev": False}
        start = time.perf_counter()
        template = self.template(ctx)
        if template.multi_label:
            from .multilabel import calibrate_removals

            return calibrate_removals(self, template, posts, prediction, ctx, objective)
        jobs = self._jobs(template, posts, prediction.labels, ctx)
        with self._session(template, ctx) as session:
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
        choice = select_threshold(prediction.labels, scored, objective, higher_is_better(ctx.task.official_metric))
        self._threshold = choice.threshold
        ctx.log(f"explainer llm: threshold {choice.threshold:.4f} chosen on dev ({len(scored)} posts scored, "
                f"{choice.flips} flips; official metric {choice.objective_without_flips:.4f} -> {choice.objective:.4f})")
        costs = [o.model_cost_usd for o in scores.values() if o.model_cost_usd is not None]
        return {**choice.to_dict(), "tuned_on_dev": True, "dev_sent": len(jobs),
                "dev_unscored": len(jobs) - len(scored), "seconds": round(time.perf_counter() - start, 3),
                "dev_cost_usd": sum(costs) if costs else None,
                "requests": {kind: {"cache": c[0], "model": c[1]} for kind, c in session.counts.items()}}

    def threshold_in_use(self) -> tuple[float, str]:
        if self._threshold is not None:
            return self._threshold, "dev" if self.params.threshold == "dev" else "parameter"
        if self.params.threshold != "dev":
            return float(self.params.threshold), "parameter"
        return UNCALIBRATED_THRESHOLD, "default (not calibrated on dev)"

    # -- the work ----------------------------------------------------------------------------
    def explain(self, posts: Sequence[Post], prediction: Prediction, ctx: Context) -> list[Explanation]:
        template = self.template(ctx)
        if template.multi_label:
            from .multilabel import explain_label_sets

            return explain_label_sets(self, template, posts, prediction, ctx)
        jobs = self._jobs(template, posts, prediction.labels, ctx)
        by_id = {job.post.id: job for job in jobs}
        send = self.send_policy(template, ctx)
        ctx.log(f"explainer llm: model {self.params.model}, verdict {self.params.verdict}, template {template.path} "
                f"(sha256 {template.sha256[:12]}), sending {len(jobs)} of {len(posts)} posts (labels {sorted(send)})")
        with self._session(template, ctx) as session:
            if self.params.verdict == "generate":
                results = session.run(jobs, "generate", "LLM explainer")
                made = {job.post.id: self._generated(job, results[job.key], template) for job in jobs}
                hits, calls = session.counts.get("generate", [0, 0])
                ctx.log(f"explainer llm: {hits} replies from the cache, {calls} from the model")
            else:
                made = self._scored(jobs, session, template, ctx)
        out = []
        for post, label in zip(posts, prediction.labels):
            out.append(made[post.id] if post.id in by_id else Explanation(post.id, label, label, "not_sent"))
        return out

    def _details(self, job: _Job, template: PromptTemplate, outcomes: Sequence[_Outcome]) -> dict[str, Any]:
        def total(values: list[Any]) -> Any:
            return None if any(v is None for v in values) else sum(values)

        results = [o.result for o in outcomes]
        return {
            "prompt_hash": job.prompt_hash, "template_sha256": template.sha256, "model": self.params.model,
            "verdict_mode": self.params.verdict, "raw": None,
            "latency_s": round(sum(r.latency_s for r in results), 6),
            "model_latency_s": None if total([o.model_latency_s for o in outcomes]) is None
            else round(total([o.model_latency_s for o in outcomes]), 6),
            "prompt_tokens": total([r.prompt_tokens for r in results]),
            "completion_tokens": total([r.completion_tokens for r in results]),
            "cost_usd": total([r.cost_usd for r in results]),
            "model_cost_usd": total([o.model_cost_usd for o in outcomes]),
            "cached": all(o.cached for o in outcomes), "attempts": sum(r.attempts for r in results),
            "error": next((r.error for r in results if r.error), None), "reply_label": None,
        }

    def _generated(self, job: _Job, outcome: _Outcome, template: PromptTemplate) -> Explanation:
        result = outcome.result
        details = self._details(job, template, [outcome])
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

    def _scored(self, jobs: Sequence[_Job], session: _Session, template: PromptTemplate,
                ctx: Context) -> dict[str, Explanation]:
        threshold, source = self.threshold_in_use()
        scores, reasons = session.scores_and_reasons(jobs, threshold, "flips")
        counts = {kind: session.counts.get(kind, [0, 0]) for kind in ("score", "reason")}
        ctx.log(f"explainer llm: threshold {threshold:.4f} ({source}); scores: {counts['score'][0]} from the cache, "
                f"{counts['score'][1]} from the model; reasons of {len(reasons)} flips: {counts['reason'][0]} from "
                f"the cache, {counts['reason'][1]} from the model")
        made: dict[str, Explanation] = {}
        for job in jobs:
            outcome = scores[job.key]
            reason = reasons.get(job.key)
            details = self._details(job, template, [outcome] + ([reason] if reason else []))
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

    # -- reasons afterwards -------------------------------------------------------------------
    def reasons(self, posts: Sequence[Post], labels: Sequence[str], verdicts: Sequence[bool],
                ctx: Context, asked: Sequence[str] | None = None) -> list[str] | None:
        """The model's reason for each post's verdict on its label, generated with the verdict
        fixed by the schema (cached like every reply); "" where no reason could be read. On a
        multi-label task each verdict is on the label ``asked`` about, asked as explain() asked it
        (the post's predicted set in ``{labels}``); without ``asked`` there: None."""
        template = self.template(ctx)
        if template.multi_label and asked is None:
            return None
        questions = list(asked) if template.multi_label and asked is not None else list(labels)
        if len(questions) != len(posts) or len(labels) != len(posts) or len(verdicts) != len(posts):
            raise PluginError(f"explainer llm: reasons of {len(posts)} posts need as many labels, verdicts "
                              "(and, multi-label, labels asked)")
        prefixes = {label: self.prefix(template, label, ctx) for label in set(questions)}
        jobs = []
        for post, predicted, label in zip(posts, labels, questions):
            if template.multi_label:
                messages = template.messages(post, label, ctx.task.label_set(predicted))
            else:
                messages = template.messages(post, label)
            jobs.append(_Job(post, label, messages, messages_hash(messages), prefixes[label]))
        replies: dict[tuple[str, str], _Outcome] = {}
        with self._session(template, ctx) as session:
            for verdict in (True, False):
                kind = "reason-true" if verdict else "reason"
                batch = [job for job, v in zip(jobs, verdicts) if v is verdict]
                replies.update(session.run(batch, kind, "LLM explainer: reasons"))
        out = []
        for job in jobs:
            try:
                out.append(parse_reply(replies[job.key].result.reply).reason)
            except UnparsableReply:
                out.append("")
        return out

    # -- a dry run -----------------------------------------------------------------------------
    def plan(self, posts: Sequence[Post], prediction: Prediction, ctx: Context,
             dev: Sequence[Post] = (), dev_prediction: Prediction | None = None) -> ExplainerPlan:
        """What explain() (and, in ``score`` mode with ``threshold = "dev"``, calibrate()) would send:
        posts, how many answers the cache already holds, tokens and an upper bound of the cost."""
        p = self.params
        template = self.template(ctx)
        jobs = self._jobs(template, posts, prediction.labels, ctx)
        if p.verdict == "score" and p.threshold == "dev" and dev_prediction is not None:
            jobs += self._jobs(template, dev, dev_prediction.labels, ctx)
        first = "generate" if p.verdict == "generate" else "score"
        with self._session(template, ctx, readonly=True) as session:
            cached = [j for j in jobs if session.cache is not None and session.cache.get(
                self.request_key(j, first, template)) is not None]
        cached_ids = {id(j) for j in cached}
        todo = [j for j in jobs if id(j) not in cached_ids]
        per_call = p.max_tokens
        if p.verdict == "score":  # scores: no decoding locally, a few tokens hosted; reasons only for flips
            per_call = (0 if self.is_local else min(p.max_tokens, SCORE_MAX_TOKENS)) + p.max_tokens
        prompt_tokens = self._count_tokens([j.messages for j in todo])
        calls = len(todo) * (1 if p.verdict == "generate" else 2)
        completion_max = len(todo) * per_call
        cost: float | None = 0.0 if self.is_local else None
        if not self.is_local and prompt_tokens is not None:
            reason_prompts = prompt_tokens if p.verdict == "score" else 0  # a flip's reason sends the prompt again
            cost = _price(p.model, prompt_tokens + reason_prompts, completion_max)
        notes = ["local model, no charge" if self.is_local else
                 ("" if cost is not None else "not in litellm's price map, cost unknown")]
        if p.verdict == "score":
            notes.append("score verdict: a reason (another call) only for each flip, counted as if every post flipped")
        if template.multi_label:
            notes.append("multi-label: posts counted are (post, predicted label) questions")
        note = "; ".join(n for n in notes if n)
        return ExplainerPlan(model=p.model, posts=len(jobs), cached=len(cached), to_send=len(todo), calls=calls,
                             prompt_tokens=prompt_tokens, completion_tokens_max=completion_max, cost_usd_max=cost,
                             note=note)

    def _count_tokens(self, prompts: Sequence[list[dict[str, str]]]) -> int | None:
        if not prompts:
            return 0
        if self.is_local:
            from .engine import render_plain, vocab_tokenizer
            from .local_model import resolve_local_model

            tokenize = vocab_tokenizer(str(resolve_local_model(self.params.gguf).path))
            return sum(len(tokenize(render_plain(m))) for m in prompts)
        from .client import load_litellm

        litellm = load_litellm()
        try:
            return sum(int(litellm.token_counter(model=self.params.model, messages=m)) for m in prompts)
        except Exception:  # noqa: BLE001 - a model litellm cannot count for
            return None


def _price(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """litellm's price of these tokens (its bundled price map, read offline), None when unknown."""
    from .client import load_litellm

    litellm = load_litellm()
    try:
        prompt_cost, completion_cost = litellm.cost_per_token(model=model, prompt_tokens=prompt_tokens,
                                                              completion_tokens=completion_tokens)
    except Exception:  # noqa: BLE001 - not in the price map
        return None
    total = float(prompt_cost) + float(completion_cost)
    return total if math.isfinite(total) else None
