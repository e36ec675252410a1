"""One explain(), calibrate() or reasons() of the LLM judge: the response cache and (lazily, on the
first miss) the model behind its requests, the score-then-reasons step of the ``score`` verdict,
and the per-post totals over a post's requests that every explanation's details hold."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alexbench.interfaces import Context

from .backends import Backend, p_false_norm, read_score
from .cache import CachedReply, ResponseCache
from .client import CallResult
from .jobs import Asking, Job


@dataclass
class Outcome:
    """One request's result for one post, and whether it came from the cache."""

    result: CallResult
    cached: bool
    model_latency_s: float | None
    model_cost_usd: float | None


@dataclass
class Session:
    """The cache and (lazily, on the first miss) the model behind one explain() or calibrate()."""

    asking: Asking
    ctx: Context
    stack: ExitStack
    cache: ResponseCache | None = None
    backend: Backend | None = None
    counts: dict[str, list[int]] = field(default_factory=dict)  # kind -> [from cache, from the model]

    def run(self, jobs: Sequence[Job], kind: str, description: str) -> dict[tuple[str, str], Outcome]:
        ex = self.asking
        out: dict[tuple[str, str], Outcome] = {}
        misses: list[tuple[Job, str]] = []
        for job in jobs:
            key = ex.request_key(job, kind)
            start = time.perf_counter()
            hit = self.cache.get(key) if self.cache is not None else None
            if hit is None:
                misses.append((job, key))
                continue
            result = CallResult(hit.reply, 0, time.perf_counter() - start, hit.prompt_tokens, hit.completion_tokens,
                                0.0 if hit.cost_usd is not None else None)
            out[job.key] = Outcome(result, True, hit.latency_s, hit.cost_usd)
        counts = self.counts.setdefault(kind, [0, 0])
        counts[0] += len(jobs) - len(misses)
        counts[1] += len(misses)
        if not misses:
            return out
        if self.backend is None:
            self.backend = ex.open_backend(self.stack)
            if self.backend.note:
                self.ctx.log(self.backend.note)
        backend = self.backend

        def call(job: Job) -> CallResult:
            if kind == "score":
                return backend.score(job.messages, job.prefix, ex.response_format("generate"))
            return backend.generate(job.messages, job.prefix, ex.response_format(kind))

        def finish(job: Job, key: str, result: CallResult) -> None:
            out[job.key] = Outcome(result, False, result.latency_s - result.waited_s, result.cost_usd)
            if self.cache is not None and result.reply is not None:
                self.cache.put(key, ex.model_identity(), job.prompt_hash, ex.request_params(job, kind),
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

    def scores_and_reasons(self, jobs: Sequence[Job], threshold: float, what: str
                           ) -> tuple[dict[tuple[str, str], Outcome], dict[tuple[str, str], Outcome]]:
        """``score`` mode: every job's score, then the reason of each one scored at or above
        ``threshold`` (``what`` they are, e.g. "flips", names the progress bar)."""
        scores = self.run(jobs, "score", "LLM judge: scores")
        over = [job for job in jobs if (score := read_score(scores[job.key].result.reply)) is not None
                and p_false_norm(score) >= threshold]
        return scores, self.run(over, "reason", f"LLM judge: reasons of {what}")


@contextmanager
def open_session(asking: Asking, ctx: Context, *, readonly: bool = False) -> Iterator[Session]:
    """A session with the response cache under ``ctx.cache_dir`` open (none when caching is off)."""
    with ExitStack() as stack:
        cache = None
        if asking.params.cache and ctx.cache_dir is not None:
            cache = stack.enter_context(ResponseCache(Path(ctx.cache_dir) / "llm" / "responses.sqlite",
                                                      readonly=readonly))
        yield Session(asking, ctx, stack, cache)


def request_details(asking: Asking, job: Job, outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """An explanation's details: what was asked, and the totals over its requests (latency,
    tokens, cost; ``cached`` when all came from the cache)."""

    def total(values: list[Any]) -> Any:
        return None if any(v is None for v in values) else sum(values)

    results = [o.result for o in outcomes]
    return {
        "prompt_hash": job.prompt_hash, "template_sha256": asking.template.sha256, "model": asking.params.model,
        "verdict_mode": asking.params.verdict, "raw": None,
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
