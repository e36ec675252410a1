"""The LLM explainer (ALEX stage 3): an LLM checks the classifier's label and may flip it.

For each post whose predicted label is in the send policy, the task's prompt template (with
the predicted label and any extra input filled in) goes to the model through litellm; the
reply is a JSON ``{"verdict": true|false, "label": ..., "reason": ...}``. A False verdict sets
the label the template says (``flip_to``) or the one the reply names (``relabel_to``, Task 2);
an unparsable reply, an invalid label or a failed call keeps the classifier's label and is
recorded as such. Replies are cached in SQLite under the results cache.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alexbench.errors import PluginError
from alexbench.interfaces import Context, Explainer, Explanation, Post, Prediction
from alexbench.provenance import package_version
from alexbench.tasks import TaskSpec

from . import __version__
from .cache import CachedReply, ResponseCache, cache_key
from .client import CallResult, CallSettings, complete
from .parse import UnparsableReply, parse_reply
from .prompts import PromptTemplate, load_template, messages_hash, template_path

LOCAL_PREFIX = "local/"
STRUCTURED = ("json_schema", "json_object", "none")


@dataclass(frozen=True)
class LLMParams:
    #: litellm model name, or "local/<name>": the bundled llama.cpp server (started and stopped here).
    model: str = "local/gemma-3-270m"
    #: Server URL for OpenAI-compatible servers (vLLM, llama.cpp, Ollama...); "" = the provider's default.
    api_base: str = ""
    #: Name of the environment variable holding the API key ("" = litellm's default for the provider).
    api_key_env: str = ""
    #: Prompt template file; "" = <task folder>/prompts/<task name>.toml.
    prompts: str = ""
    #: Comma-separated predicted labels to send; "" = the template's ALEX policy.
    send_labels: str = ""
    #: How structured output is requested: json_schema, json_object or none (prompt only).
    structured: str = "json_schema"
    temperature: float = 0.0
    seed: int = 0
    max_tokens: int = 128
    max_reason_chars: int = 200
    timeout_s: float = 60.0
    retries: int = 4
    backoff_s: float = 0.5
    backoff_max_s: float = 30.0
    concurrency: int = 2
    cache: bool = True
    #: Local models only: a GGUF file ("" = the bundled Gemma-3-270M), context size, threads (0 = default).
    gguf: str = ""
    n_ctx: int = 2048
    n_threads: int = 0

    def __post_init__(self) -> None:
        if self.structured not in STRUCTURED:
            raise ValueError(f"structured must be one of {', '.join(STRUCTURED)}, got {self.structured!r}")
        for name in ("concurrency", "max_tokens", "max_reason_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("retries", "backoff_s", "backoff_max_s", "temperature", "n_threads"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")
        if self.timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {self.timeout_s}")
        if not self.model.strip():
            raise ValueError("model must name a litellm model (e.g. openai/gpt-4o-mini) or local/<name>")


@dataclass(frozen=True)
class _Job:
    post: Post
    label: str
    messages: list[dict[str, str]]
    prompt_hash: str
    key: str


class LLMExplainer(Explainer):
    """Checks predicted labels with an LLM through litellm (local Gemma-3-270M by default)."""

    name = "llm"
    version = __version__
    Params = LLMParams
    params: LLMParams

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

    def response_format(self, template: PromptTemplate) -> dict[str, Any] | None:
        schema = {
            "type": "object",
            "properties": {
                "verdict": {"type": "boolean"},
                "label": {"type": "string", "enum": template.answer_labels()},
                "reason": {"type": "string", "maxLength": self.params.max_reason_chars},
            },
            "required": ["verdict", "label", "reason"],
            "additionalProperties": False,
        }
        if self.params.structured == "json_schema":
            return {"type": "json_schema", "json_schema": {"name": "verdict", "schema": schema, "strict": True}}
        if self.params.structured == "json_object":
            return {"type": "json_object"}
        return None

    def model_identity(self, local_sha256: str | None) -> str:
        """The model as named in the cache key: for a local model, its file's content hash."""
        if self.is_local and local_sha256:
            return f"{self.params.model}@sha256:{local_sha256}"
        return self.params.model

    def generation_params(self, template: PromptTemplate) -> dict[str, Any]:
        """Everything besides model and prompt that can change the reply (the cache key's part)."""
        p = self.params
        out: dict[str, Any] = {"temperature": p.temperature, "seed": p.seed, "max_tokens": p.max_tokens,
                               "response_format": self.response_format(template)}
        if p.api_base and not self.is_local:
            out["api_base"] = p.api_base
        if self.is_local:
            out["n_ctx"] = p.n_ctx
            # The local engine's own version and mode: another llama.cpp build may reply differently,
            # and replies cached before each prompt was evaluated from scratch depended on order.
            engine = package_version("llama_cpp_python") or "not installed"
            out["engine"] = f"llama-cpp-python {engine}; prompt evaluated from scratch"
        return out

    # -- the work ----------------------------------------------------------------------------
    def explain(self, posts: Sequence[Post], prediction: Prediction, ctx: Context) -> list[Explanation]:
        if len(posts) != len(prediction.labels):
            raise PluginError(f"explainer llm: {len(posts)} posts but {len(prediction.labels)} predictions")
        ids = [p.id for p in posts]
        if len(set(ids)) != len(ids):
            raise PluginError("explainer llm: post ids are not unique; results are matched to posts by id")
        template = self.template(ctx)
        send = self.send_policy(template, ctx)
        local_sha = None
        if self.is_local:
            from .local_model import local_model_sha256

            local_sha = local_model_sha256(self.params.gguf)
        model_id = self.model_identity(local_sha)
        gen = self.generation_params(template)
        jobs: dict[str, _Job] = {}
        for post, label in zip(posts, prediction.labels):
            if label in send:
                messages = template.messages(post, label)
                phash = messages_hash(messages)
                jobs[post.id] = _Job(post, label, messages, phash, cache_key(model_id, phash, gen))
        ctx.log(f"explainer llm: model {self.params.model}, template {template.path} (sha256 "
                f"{template.sha256[:12]}), sending {len(jobs)} of {len(posts)} posts (labels {sorted(send)})")

        results: dict[str, tuple[CallResult, bool]] = {}
        with ExitStack() as stack:
            cache = None
            if self.params.cache and ctx.cache_dir is not None:
                cache = stack.enter_context(ResponseCache(Path(ctx.cache_dir) / "llm" / "responses.sqlite"))
            misses: list[_Job] = []
            for job in jobs.values():
                start = time.perf_counter()
                hit = cache.get(job.key) if cache is not None else None
                if hit is None:
                    misses.append(job)
                else:
                    results[job.post.id] = (CallResult(hit.reply, 0, time.perf_counter() - start, hit.prompt_tokens,
                                                       hit.completion_tokens, 0.0 if hit.cost_usd is not None else None),
                                            True)
            if misses:
                settings = self._settings(template, stack)
                with ThreadPoolExecutor(max_workers=self.params.concurrency) as pool:
                    futures = {pool.submit(complete, settings, job.messages): job for job in misses}
                    for future in ctx.track(as_completed(futures), "LLM explainer", total=len(futures)):
                        job = futures[future]
                        result = future.result()
                        results[job.post.id] = (result, False)
                        if cache is not None and result.reply is not None:
                            cache.put(job.key, model_id, job.prompt_hash, gen, CachedReply(
                                result.reply, result.prompt_tokens, result.completion_tokens, result.cost_usd,
                                result.latency_s))
            ctx.log(f"explainer llm: {len(jobs) - len(misses)} replies from the cache, {len(misses)} from the model")

        out = []
        for post, label in zip(posts, prediction.labels):
            job = jobs.get(post.id)
            if job is None:
                out.append(Explanation(post.id, label, label, "not_sent"))
            else:
                result, cached = results[post.id]
                out.append(self._explanation(job, result, cached, template))
        return out

    def _settings(self, template: PromptTemplate, stack: ExitStack) -> CallSettings:
        p = self.params
        model, api_base, literal_key = p.model, p.api_base, ""
        if self.is_local:
            from .local_model import resolve_local_model
            from .server import LocalServer

            local_model = resolve_local_model(p.gguf)  # assembles the bundled GGUF on first use
            name = p.model[len(LOCAL_PREFIX):]
            server = stack.enter_context(LocalServer(str(local_model.path), name=name, n_ctx=p.n_ctx,
                                                     n_threads=p.n_threads))
            model, api_base, literal_key = f"openai/{name}", server.api_base, "no-key-local-server"
        return CallSettings(model=model, api_base=api_base, api_key_env=p.api_key_env, temperature=p.temperature,
                            seed=p.seed, max_tokens=p.max_tokens, timeout_s=p.timeout_s, retries=p.retries,
                            backoff_s=p.backoff_s, backoff_max_s=p.backoff_max_s,
                            response_format=self.response_format(template), api_key_literal=literal_key,
                            zero_cost=self.is_local)

    def _explanation(self, job: _Job, result: CallResult, cached: bool, template: PromptTemplate) -> Explanation:
        details: dict[str, Any] = {
            "prompt_hash": job.prompt_hash, "template_sha256": template.sha256, "model": self.params.model,
            "raw": result.reply, "latency_s": round(result.latency_s, 6),
            "prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens,
            "cost_usd": result.cost_usd, "cached": cached, "attempts": result.attempts, "error": result.error,
            "reply_label": None,
        }
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
