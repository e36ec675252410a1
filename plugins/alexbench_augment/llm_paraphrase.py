"""``llm_paraphrase``: the minority class grown by LLM rewrites of its posts, the rival of word swaps.

The same growing and balancing as ``alex_textattack`` (:class:`~.base.GrowingAugmenter`, the
same ``preset`` recipes: ``smm4h23_task1`` is minority ×10 then 1:1), so the two compare
directly; only the copies differ. Each copy is one rewrite of its source post by an LLM (the
local Gemma-3-270M through the judge's engine, in a child process; or any litellm model name),
prompted with a few fixed examples of rewriting and sampled at ``temperature`` with a seed drawn
from the post's seed and the copy's index, so the same post, index and settings always give the
same text. The first line of the reply is the copy; an empty one, or one equal to its source, is
no copy. Every copy keeps its source's label and names it (``source_id``); duplicates and copies
of dev or test texts are dropped by the host as for every augmenter. Replies are cached in the
results cache's SQLite by (model, prompt, copy index, settings), and what the copies cost is in
the augmentation report (``llm``). Copies are made in this process (``workers = 1``): the model
runs in one child process.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from alexbench.interfaces import Context, ExplainerPlan, Post

from . import __version__
from .base import EXECUTION_ONLY, Balance, Copies, GrowingAugmenter, GrowParams
from .generation import grow_labels
from .presets import apply_preset
from .supply import Job, Made
from .textattack_aug import Preset

#: The rewriting examples every prompt begins with (written for this prompt; none from any data).
SHOTS = (
    ("Tested positive this morning, staying home for the week.",
     "Got a positive test today, so I'm isolating at home this week."),
    ("The new mask rules at school make no sense to me.",
     "I don't understand the school's new mask rules at all."),
    ("Third day of fever and a cough, still waiting on my PCR.",
     "I've had a fever and a cough for three days and my PCR result hasn't come yet."),
)
INSTRUCTION = "Rewrite each post in other words. Keep its meaning, its person and its tone."


def paraphrase_prompt(text: str) -> str:
    shots = "".join(f"Post: {a}\nRewritten: {b}\n\n" for a, b in SHOTS)
    return f"{INSTRUCTION}\n\n{shots}Post: {text}\nRewritten:"


#: The fixed beginning of every prompt (a local model evaluates it once and restores it).
PREFIX = paraphrase_prompt("\ue000").split("\ue000")[0]


@dataclass(frozen=True)
class ParaphraseParams(GrowParams):
    """ALEX's growing and balancing (``preset``, ``grow``, ``n``, ``balance``…, as for
    ``alex_textattack``) with copies written by an LLM."""

    preset: Preset = ""
    n: Copies = 10
    balance: Balance = "ratio"
    #: litellm model name, or "local/<name>": the bundled GGUF in a child process.
    model: Annotated[str, Field(pattern=r"\S")] = "local/gemma-3-270m"
    api_base: str = ""
    api_key_env: str = ""
    gguf: str = ""
    temperature: Annotated[float, Field(gt=0, le=2)] = 0.8
    max_tokens: Annotated[int, Field(ge=8)] = 80
    seed: int = 0
    workers: Annotated[int, Field(ge=0)] = field(default=1, metadata=EXECUTION_ONLY)
    cache: bool = field(default=True, metadata=EXECUTION_ONLY)

    def __post_init__(self) -> None:
        apply_preset(self)
        super().__post_init__()


def copy_seed(post_seed: int, index: int, seed: int) -> int:
    digest = hashlib.sha256(f"{post_seed}\0{index}\0{seed}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def first_line(reply: str) -> str:
    return next((line.strip() for line in reply.strip().splitlines() if line.strip()), "")


class LLMParaphrase(GrowingAugmenter):
    """Minority posts rewritten by an LLM (local Gemma-3-270M by default), then balanced."""

    name = "llm_paraphrase"
    version = __version__
    Params = ParaphraseParams
    params: ParaphraseParams
    operation = "llm_paraphrase"
    #: Seconds of work per character of copies (what decides a process pool): never a pool.
    chars_per_second = 50.0

    def build_generator(self) -> Callable[[str, int], list[str]]:  # pragma: no cover - make_copies is used
        raise NotImplementedError

    @property
    def is_local(self) -> bool:
        return self.params.model.startswith("local/")

    def _model_identity(self) -> str:
        if self.is_local:
            from alexbench_llm.local_model import local_model_sha256

            return f"{self.params.model}@sha256:{local_model_sha256(self.params.gguf)}"
        return self.params.model

    def plan(self, train: Sequence[Post], ctx: Context) -> ExplainerPlan:
        """An upper bound of what :meth:`augment` sends: ``n`` rewrites of every source post of the
        classes the recipe grows (fewer when balancing needs fewer; the cache is not consulted)."""
        p = self.params
        groups = ctx.task.label_space.balance_groups(post.label for post in train)
        counts = Counter(groups[str(post.label)] for post in train)
        grown = grow_labels(p.grow, counts, ctx.task.label_space.groups)
        sources = [post for post in train if groups[str(post.label)] in grown and not post.meta.get("copy")]
        prompts = [paraphrase_prompt(post.text) for post in sources]
        calls = len(prompts) * p.n
        if self.is_local:
            from alexbench_llm.local_model import resolve_local_model
            from alexbench_llm.open_models import vocab_tokenizer

            tokenize = vocab_tokenizer(str(resolve_local_model(p.gguf).path))
            tokens: int | None = p.n * sum(len(tokenize(text)) for text in prompts)
            cost: float | None = 0.0
        else:
            from alexbench_llm.client import load_litellm
            from alexbench_llm.plan import price

            try:
                tokens = p.n * sum(int(load_litellm().token_counter(model=p.model, messages=[
                    {"role": "user", "content": text}])) for text in prompts)
            except Exception:  # noqa: BLE001 - a model litellm cannot count for
                tokens = None
            cost = price(p.model, tokens, calls * p.max_tokens) if tokens is not None else None
        note = (f"upper bound: {p.n} rewrites of each of the {len(sources)} posts of the grown classes "
                f"({', '.join(grown)}); the cache is not consulted")
        return ExplainerPlan(p.model, len(sources), 0, len(sources), calls, tokens, calls * p.max_tokens, cost,
                             note=note)

    def _request(self, index: int, seed: int) -> dict[str, Any]:
        p = self.params
        out: dict[str, Any] = {"kind": "paraphrase", "index": index, "seed": seed, "temperature": p.temperature,
                               "max_tokens": p.max_tokens}
        if self.is_local:
            from alexbench_llm.cpubuild import engine_identity

            from alexbench.run.provenance import package_version

            out["engine"] = f"llama-cpp-python {package_version('llama_cpp_python')} ({engine_identity()})"
        elif p.api_base:
            out["api_base"] = p.api_base
        return out

    def _write(self, text: str, seed: int) -> tuple[str | None, float, float | None, str]:
        """One rewrite: (the reply, model seconds, cost, error)."""
        p = self.params
        prompt = paraphrase_prompt(text)
        start = time.perf_counter()
        if self.is_local:
            from alexbench_llm.engine_process import shared_engine
            from alexbench_llm.local_model import resolve_local_model

            engine = shared_engine(str(resolve_local_model(p.gguf).path))
            try:
                out = engine.complete(prompt, prefix=PREFIX, max_tokens=p.max_tokens, temperature=p.temperature,
                                      seed=seed, stop=["\n"])
            except (ValueError, RuntimeError) as exc:
                return None, time.perf_counter() - start, 0.0, f"{type(exc).__name__}: {exc}"
            return out.text, time.perf_counter() - start, 0.0, ""
        from alexbench_llm.client import CallSettings, complete

        settings = CallSettings(model=p.model, api_base=p.api_base, api_key_env=p.api_key_env,
                                temperature=p.temperature, seed=seed, max_tokens=p.max_tokens)
        result = complete(settings, [{"role": "user", "content": prompt}])
        return result.reply, result.latency_s - result.waited_s, result.cost_usd, result.error or ""

    def make_copies(self, jobs: Sequence[Job]) -> list[Made]:
        from alexbench_llm.cache import CachedReply, ResponseCache, cache_key

        usage = self.__dict__.setdefault("_usage", {"copies_asked": 0, "from_cache": 0, "from_model": 0, "failed": 0,
                                                    "model_seconds": 0.0, "cost_usd": 0.0})
        out: list[Made] = []
        model = self._model_identity()
        cache_dir = getattr(self, "_cache_dir", None)
        with ExitStack() as stack:
            cache = (stack.enter_context(ResponseCache(Path(cache_dir) / "llm" / "responses.sqlite"))
                     if self.params.cache and cache_dir is not None else None)
            for job in jobs:
                texts: list[str] = []
                prompt_hash = hashlib.sha256(paraphrase_prompt(job.text).encode()).hexdigest()
                for index in range(job.stop):
                    seed = copy_seed(job.seed, index, self.params.seed)
                    request = self._request(index, seed)
                    key = cache_key(model, prompt_hash, request)
                    usage["copies_asked"] += 1
                    hit = cache.get(key) if cache is not None else None
                    if hit is not None:
                        reply, usage["from_cache"] = hit.reply, usage["from_cache"] + 1
                    else:
                        reply, seconds, cost, error = self._write(job.text, seed)
                        usage["model_seconds"] += seconds
                        if cost is None or usage["cost_usd"] is None:
                            usage["cost_usd"] = None
                        else:
                            usage["cost_usd"] += cost
                        if reply is None:
                            usage["failed"] += 1
                            continue
                        usage["from_model"] += 1
                        if cache is not None:
                            cache.put(key, model, prompt_hash, request, CachedReply(reply, None, None, cost, seconds))
                    text = first_line(reply)
                    if text and text != job.text.strip():
                        texts.append(text)
                out.append(Made(job.key, tuple(texts), job.stop >= self.params.n))
        return out

    def augment(self, train: Sequence[Any], ctx: Any) -> list[Any]:
        self._cache_dir = ctx.cache_dir
        self._usage = {"copies_asked": 0, "from_cache": 0, "from_model": 0, "failed": 0, "model_seconds": 0.0,
                       "cost_usd": 0.0}
        out = super().augment(train, ctx)
        usage = {**self._usage, "model": self.params.model,
                 "model_seconds": round(self._usage["model_seconds"], 3)}
        if self.last_report is not None:
            self.last_report["llm"] = usage
        ctx.log(f"augmenter llm_paraphrase: {usage['copies_asked']} rewrites asked, {usage['from_cache']} from the "
                f"cache, {usage['from_model']} from the model ({usage['model_seconds']} s), {usage['failed']} failed")
        return out
