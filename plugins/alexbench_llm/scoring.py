"""The ``llm`` classifier's requests: each question's answers scored (or one generated), through the
response cache and the local engine or litellm, with what they cost; and its dry run."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alexbench.interfaces import Context, ExplainerPlan, Post

from .backends import (
    LABEL_TOP_LOGPROBS,
    UNLISTED_LOGPROB,
    labels_reply,
    read_labels_reply,
    score_labels_hosted,
    score_labels_local,
)
from .cache import CachedReply, ResponseCache, cache_key
from .classify_prompts import ClassifyTemplate
from .client import CallResult, CallSettings, RateGate, complete
from .params import LOCAL_PREFIX
from .prompts import messages_hash

if TYPE_CHECKING:
    from .params import LLMClassifierParams

#: The examples shown with one question: (post, label asked about) -> (example post, its answer).
ShotsFor = Callable[[Post, str | None], list[tuple[Post, str]]]

#: Marks the post's own fields when a template is rendered to find its fixed beginning.
_MARK = "\ue000"


@dataclass
class Usage:
    """What one split's questions cost: requests, cache hits, tokens, money, model seconds."""

    questions: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    cost_usd: float | None = 0.0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        return {"questions": self.questions, "cached": self.cached, "from_model": self.questions - self.cached,
                "failed": self.failed, "prompt_tokens": self.prompt_tokens, "cost_usd": self.cost_usd,
                "latency_p50_s": statistics.median(lat) if lat else None,
                "latency_p95_s": lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))] if lat else None}

    def summary(self) -> str:
        d = self.to_dict()
        p50 = f", model p50 {d['latency_p50_s']:.3f} s" if d["latency_p50_s"] is not None else ""
        cost = "unknown" if self.cost_usd is None else f"${self.cost_usd:.4f}"
        return (f"{d['questions']} questions, {d['cached']} from the cache, {d['from_model']} from the model"
                f"{p50}, {d['failed']} failed, cost {cost}")


def prefix_of(template: ClassifyTemplate, shots: Sequence[tuple[Post, str]], task: Any, label: str | None) -> str:
    """The fixed beginning of every prompt with these shots: the rendered messages up to the
    post's first field."""
    from .prompt_format import render_plain

    marked = Post("", _MARK, None, {k: _MARK for k in task.extra_keys})
    text = render_plain(template.messages(marked, shots, label))
    return text[:text.index(_MARK)] if _MARK in text else ""


class LabelScorer:
    """Scores questions for one classifier call: cache first, then the model. Given the
    classifier's (frozen) parameters and, for a local model's shared prompt beginning, how its
    examples are chosen (``shots_for``); it reads nothing else of the classifier."""

    def __init__(self, params: LLMClassifierParams, template: ClassifyTemplate, ctx: Context,
                 shots_for: ShotsFor | None = None) -> None:
        self.params, self.template, self.ctx, self.shots_for = params, template, ctx, shots_for
        self.is_local = params.model.startswith(LOCAL_PREFIX)
        p = params
        if self.is_local:
            from .local_model import local_model_sha256

            self.model_id = f"{p.model}@sha256:{local_model_sha256(p.gguf)}"
        else:
            self.model_id = p.model
        self._gate = RateGate()

    def request_params(self, answers: Sequence[str]) -> dict[str, Any]:
        p = self.params
        out: dict[str, Any] = {"kind": f"classify-{p.decision}", "answers": list(answers)}
        if self.is_local:
            from alexbench.run.provenance import package_version

            from .cpubuild import engine_identity

            out["engine"] = f"llama-cpp-python {package_version('llama_cpp_python')} ({engine_identity()})"
            out["n_ctx"] = p.n_ctx
        elif p.api_base:
            out["api_base"] = p.api_base
        if p.decision == "generate":
            out.update(temperature=p.temperature, seed=p.seed, max_tokens=p.max_tokens)
        elif not self.is_local:
            out["top_logprobs"] = LABEL_TOP_LOGPROBS
        return out

    def settings(self) -> CallSettings:
        p = self.params
        return CallSettings(model=p.model, api_base=p.api_base, api_key_env=p.api_key_env, temperature=p.temperature,
                            seed=p.seed, max_tokens=p.max_tokens, timeout_s=p.timeout_s, retries=p.retries,
                            backoff_s=p.backoff_s, backoff_max_s=p.backoff_max_s, retry_after_max_s=p.retry_after_max_s,
                            gate=self._gate)

    def _engine(self) -> Any:
        from .engine_process import shared_engine
        from .local_model import resolve_local_model

        p = self.params
        return shared_engine(str(resolve_local_model(p.gguf).path), n_ctx=p.n_ctx, n_threads=p.n_threads)

    def _call(self, messages: list[dict[str, str]], prefix: str, answers: Sequence[str]) -> CallResult:
        p = self.params
        if p.decision == "score":
            if self.is_local:
                return score_labels_local(self._engine(), messages, prefix, answers)
            return score_labels_hosted(self.settings(), messages, answers)
        return self._generate(messages, prefix, answers)

    def _generate(self, messages: list[dict[str, str]], prefix: str, answers: Sequence[str]) -> CallResult:
        """One answer generated (under a grammar allowing only the answers, locally): probability 1
        for the label it names, as log-probabilities (0 and :data:`UNLISTED_LOGPROB`)."""
        p = self.params
        start = time.perf_counter()
        if self.is_local:
            engine = self._engine()
            alternatives = " | ".join('"' + a.strip().replace('"', '\\"') + '"' for a in answers)
            try:
                out = engine.complete(engine.render(messages), prefix=prefix, grammar=f'root ::= " "? ({alternatives})',
                                      max_tokens=p.max_tokens, temperature=p.temperature, seed=p.seed)
            except (ValueError, RuntimeError) as exc:
                return CallResult(None, 1, time.perf_counter() - start, error=f"{type(exc).__name__}: {exc}")
            result = CallResult(out.text, 1, time.perf_counter() - start, out.prompt_tokens, out.completion_tokens, 0.0)
        else:
            result = complete(self.settings(), messages)
            if result.reply is None:
                return result
        said = (result.reply or "").strip().lower()
        chosen = next((i for i, a in enumerate(answers) if said.startswith(a.strip().lower())), None)
        logprobs = [0.0 if i == chosen else UNLISTED_LOGPROB for i in range(len(answers))]
        error = "" if chosen is not None else f"the reply names no answer: {said[:80]!r}"
        return CallResult(labels_reply(logprobs, error), result.attempts, result.latency_s, result.prompt_tokens,
                          result.completion_tokens, result.cost_usd, waited_s=result.waited_s)

    def score(self, questions: Sequence[tuple[Post, str | None, list[dict[str, str]]]], stack: ExitStack,
              description: str) -> tuple[list[list[float]], Usage]:
        """Each question's answers' log-probabilities (a failed request: all equal, counted)."""
        ctx, t = self.ctx, self.template
        p = self.params
        cache = None
        if p.cache and ctx.cache_dir is not None:
            cache = stack.enter_context(ResponseCache(Path(ctx.cache_dir) / "llm" / "responses.sqlite"))
        usage = Usage(questions=len(questions))
        out: list[list[float] | None] = [None] * len(questions)
        todo = []
        prefixes: dict[Any, str] = {}
        for i, (post, label, messages) in enumerate(questions):
            answers = t.choices(ctx.task.labels)
            key = cache_key(self.model_id, messages_hash(messages), self.request_params(answers))
            hit = cache.get(key) if cache is not None else None
            values = read_labels_reply(hit.reply, len(answers)) if hit is not None else None
            if values is not None:
                out[i] = values
                usage.cached += 1
                if hit.latency_s is not None:
                    usage.latencies.append(hit.latency_s)
                continue
            prefix = ""
            if self.is_local and not (p.shots and p.shot_selection == "nearest"):
                if label not in prefixes:
                    assert self.shots_for is not None, "a local model's prefix needs the classifier's shots"
                    shots = self.shots_for(post, label)
                    prefixes[label] = prefix_of(t, shots, ctx.task, label)
                prefix = prefixes[label]
            todo.append((i, messages, prefix, answers, key))

        def run(item: tuple[int, list[dict[str, str]], str, list[str], str]) -> tuple[int, CallResult]:
            return item[0], self._call(item[1], item[2], item[3])

        def finish(i: int, result: CallResult, messages: list[dict[str, str]], answers: list[str], key: str) -> None:
            values = read_labels_reply(result.reply, len(answers))
            if values is None:
                usage.failed += 1
                values = [0.0] * len(answers)
            elif cache is not None:
                cache.put(key, self.model_id, messages_hash(messages), self.request_params(answers),
                          CachedReply(result.reply or "", result.prompt_tokens, result.completion_tokens,
                                      result.cost_usd, result.latency_s - result.waited_s))
            out[i] = values
            usage.prompt_tokens += result.prompt_tokens or 0
            usage.latencies.append(result.latency_s - result.waited_s)
            if usage.cost_usd is not None:
                usage.cost_usd = None if result.cost_usd is None else usage.cost_usd + result.cost_usd

        concurrency = 1 if self.is_local else p.concurrency
        if concurrency <= 1:
            for item in ctx.track(todo, description, total=len(todo)):
                i, result = run(item)
                finish(i, result, item[1], item[3], item[4])
        else:
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                for i, result in ctx.track(pool.map(run, todo), description, total=len(todo)):
                    item = next(x for x in todo if x[0] == i)
                    finish(i, result, item[1], item[3], item[4])
        return [row if row is not None else [] for row in out], usage


def plan_questions(params: LLMClassifierParams, template: ClassifyTemplate,
                   questions: Sequence[tuple[Post, str | None, list[dict[str, str]]]], ctx: Context) -> ExplainerPlan:
    """A dry run: questions, cache hits, prompt tokens and the cost bound (litellm's price map)."""
    from .plan import count_tokens, price

    scorer = LabelScorer(params, template, ctx)
    cached = 0
    todo = []
    if ctx.cache_dir is not None:
        with ResponseCache(Path(ctx.cache_dir) / "llm" / "responses.sqlite", readonly=True) as cache:
            for _, _, messages in questions:
                answers = template.choices(ctx.task.labels)
                hit = cache.get(cache_key(scorer.model_id, messages_hash(messages), scorer.request_params(answers)))
                if hit is not None:
                    cached += 1
                else:
                    todo.append(messages)
    else:
        todo = [m for _, _, m in questions]
    prompt_tokens = count_tokens(params.model, params.gguf, todo)
    completion = len(todo) * (1 if params.decision == "score" else params.max_tokens)
    cost: float | None = 0.0 if scorer.is_local else (
        price(params.model, prompt_tokens, completion) if prompt_tokens is not None else None)
    note = "local model, no charge" if scorer.is_local else ("" if cost is not None else "not in litellm's price map")
    if template.multi_label:
        note = "; ".join(filter(None, [note, "multi-label: one question per (post, label)"]))
    return ExplainerPlan(params.model, len(questions), cached, len(todo), len(todo), prompt_tokens, completion,
                         cost, note=note)
