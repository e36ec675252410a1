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
recorded as such. Local models (``local/<name>``) run in a child process of this one
(:mod:`.engine_process`: a crash of llama.cpp fails the run, not the grid), whose engine
(:mod:`.engine`) evaluates the template's fixed beginning once and restores its saved state for
every post; any other model goes through litellm. Replies and scores are cached in SQLite under the results
cache.

What is where: the parameters in :mod:`.params`; the requests (a job per question) in :mod:`.jobs`;
the cache, the model and the score-then-reasons step in :mod:`.session`; explanations and the
dev threshold on a single-label task in :mod:`.singlelabel`, on a multi-label task in
:mod:`.multilabel`; the dry run in :mod:`.plan`; the local model in :mod:`.engine` (with the reply's
grammar in :mod:`.grammar`, the score verdict's probabilities in :mod:`.verdict`, the thread count in
:mod:`.threads`, the prompt formats in :mod:`.prompt_format`, the models opened in :mod:`.open_models`).
This class holds the configuration, what makes a request's cache key, and the entry points; the
helpers are given an :class:`~.jobs.Asking` (a small frozen config of one call) and return what
they decide (the threshold chosen on dev), which only this class keeps.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from typing import Any

from alexbench.config.tasks import TaskSpec
from alexbench.errors import PluginError
from alexbench.interfaces import Context, Explainer, ExplainerPlan, Explanation, Post, Prediction
from alexbench.run.provenance import package_version
from alexbench.scoring.metrics import BUILTIN_METRICS, higher_is_better

from . import __version__
from .backends import SCORE_MAX_TOKENS, SCORE_TOP_LOGPROBS, Backend, LiteLLMBackend, LocalBackend
from .cache import cache_key
from .client import CallSettings, RateGate
from .jobs import Asking, Job, build_jobs, prompt_prefix, question_jobs
from .multilabel import calibrate_removals, explain_label_sets
from .params import LOCAL_PREFIX, LLMParams
from .parse import UnparsableReply, parse_reply
from .plan import plan_requests
from .prompts import PromptTemplate, resolve_template, send_policy, template_fingerprint
from .session import Outcome, open_session
from .singlelabel import calibrate_flips, explain_labels
from .verdict import VERDICT_OPEN

#: The threshold of ``score`` mode when ``threshold = "dev"`` but explain() runs without calibrate().
UNCALIBRATED_THRESHOLD = 0.5


class LLMExplainer(Explainer):
    """Checks predicted labels with an LLM (local Gemma-3-270M in a child process by default; any model by
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
        self._engine_build: str | None = None
        self._gate = RateGate()
        self._generation: dict[str, dict[str, Any]] = {}  # by template sha256

    # -- configuration -------------------------------------------------------------------------
    @property
    def is_local(self) -> bool:
        return self.params.model.startswith(LOCAL_PREFIX)

    def template(self, ctx: Context) -> PromptTemplate:
        return self._template_for(ctx.task)

    def _template_for(self, task: TaskSpec) -> PromptTemplate:
        return resolve_template(task, self.params.prompts)

    def fingerprint(self, task: TaskSpec) -> dict[str, Any]:
        """The prompt template's content hash (:func:`.prompts.template_fingerprint`)."""
        return template_fingerprint(self._template_for(task), task)

    def send_policy(self, template: PromptTemplate, ctx: Context) -> frozenset[str]:
        return send_policy(template, ctx.task, self.params.send_labels, "llm")

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
            # So does the instruction set llama.cpp was built for (AVX2 and AVX-512 kernels round
            # differently: the demo's judge flips 5 posts with one build, 2 with the other), so the
            # build's identity (cpubuild.engine_identity) is part of the key: replies of builds for
            # other instruction sets are never mixed in one cache.
            out["engine"] = f"llama-cpp-python {self.engine_build()}; {self.engine_mode()}"
        return out

    def engine_build(self) -> str:
        """The local engine's version and build: ``0.3.36 (x86_64 sse42+avx+avx2+bmi2+fma+f16c)``."""
        if self._engine_build is None:
            from .cpubuild import engine_identity

            version = package_version("llama_cpp_python") or "not installed"
            self._engine_build = f"{version} ({engine_identity()})"
        return self._engine_build

    def engine_mode(self) -> str:
        return "template prefix state restored" if self.params.prefix_reuse else "prompt evaluated from scratch"

    def request_params(self, job: Job, kind: str, template: PromptTemplate) -> dict[str, Any]:
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

    def request_key(self, job: Job, kind: str, template: PromptTemplate) -> str:
        return cache_key(self.model_identity(), job.prompt_hash, self.request_params(job, kind, template))

    # -- requests ------------------------------------------------------------------------------
    def asking(self, template: PromptTemplate, ctx: Context) -> Asking:
        """What the helpers are given for one call with ``template`` (:class:`~.jobs.Asking`)."""
        threshold, source = self.threshold_in_use()
        return Asking(self.params, template, self.send_policy(template, ctx), self.is_local, threshold, source,
                      request_key=lambda job, kind: self.request_key(job, kind, template),
                      request_params=lambda job, kind: self.request_params(job, kind, template),
                      model_identity=self.model_identity,
                      response_format=lambda kind: self.response_format(template, kind),
                      open_backend=functools.partial(self.backend, template))

    def prefix(self, template: PromptTemplate, label: str, ctx: Context) -> str:
        """The fixed beginning of every prompt of ``label`` (:func:`.jobs.prompt_prefix`)."""
        return prompt_prefix(self.asking(template, ctx), label, ctx)

    def _jobs(self, template: PromptTemplate, posts: Sequence[Post], labels: Sequence[str], ctx: Context) -> list[Job]:
        return build_jobs(self.asking(template, ctx), posts, labels, ctx)

    def backend(self, template: PromptTemplate, stack: ExitStack) -> Backend:
        p = self.params
        if self.is_local:
            from .engine_process import shared_engine
            from .local_model import resolve_local_model

            local_model = resolve_local_model(p.gguf)  # assembles the bundled GGUF on first use
            engine = shared_engine(str(local_model.path), n_ctx=p.n_ctx, n_threads=p.n_threads)
            return LocalBackend(engine, temperature=p.temperature, seed=p.seed, max_tokens=p.max_tokens,
                                use_grammar=p.structured != "none",
                                note=f"explainer llm: local engine llama-cpp-python {self.engine_build()}, "
                                     f"{self.engine_mode()}, in child process {engine.pid}")
        settings = CallSettings(model=p.model, api_base=p.api_base, api_key_env=p.api_key_env,
                                temperature=p.temperature, seed=p.seed, max_tokens=p.max_tokens, timeout_s=p.timeout_s,
                                retries=p.retries, backoff_s=p.backoff_s, backoff_max_s=p.backoff_max_s,
                                retry_after_max_s=p.retry_after_max_s, gate=self._gate)
        return LiteLLMBackend(settings, p.concurrency)

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
        template = self.template(ctx)
        calibrate = calibrate_removals if template.multi_label else calibrate_flips
        record, self._threshold = calibrate(self.asking(template, ctx), posts, prediction, ctx, objective,
                                            objective_direction(ctx.task.official_metric))
        return record

    def threshold_in_use(self) -> tuple[float, str]:
        if self._threshold is not None:
            return self._threshold, "dev" if self.params.threshold == "dev" else "parameter"
        if self.params.threshold != "dev":
            return float(self.params.threshold), "parameter"
        return UNCALIBRATED_THRESHOLD, "default (not calibrated on dev)"

    # -- the work ----------------------------------------------------------------------------
    def explain(self, posts: Sequence[Post], prediction: Prediction, ctx: Context) -> list[Explanation]:
        template = self.template(ctx)
        explain = explain_label_sets if template.multi_label else explain_labels
        return explain(self.asking(template, ctx), posts, prediction, ctx)

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
        asking = self.asking(template, ctx)
        jobs = question_jobs(asking, posts, labels, questions, ctx)
        replies: dict[tuple[str, str], Outcome] = {}
        with open_session(asking, ctx) as session:
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
        """What explain() (and, in ``score`` mode with ``threshold = "dev"``, calibrate()) would send
        (:func:`.plan.plan_requests`)."""
        return plan_requests(self.asking(self.template(ctx), ctx), posts, prediction, ctx, dev, dev_prediction)


def objective_direction(metric: str) -> bool:
    """Whether a larger value of the task's official ``metric`` is better: a built-in metric's
    direction, else as the installed plugins register it (the plugin host is built only then,
    here in the plugin: scoring itself builds none)."""
    if any(m.name == metric for m in BUILTIN_METRICS):
        return higher_is_better(metric)
    from alexbench.plugin.host import PluginHost

    return higher_is_better(metric, PluginHost().metrics)
