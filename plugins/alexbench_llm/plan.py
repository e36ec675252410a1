"""A dry run of the LLM explainer (``alexbench grid --dry-run``): what explain() (and calibrate())
would send, how much of it the response cache already holds, tokens and a cost bound."""

from __future__ import annotations

import math
from collections.abc import Sequence

from alexbench.interfaces import Context, ExplainerPlan, Post, Prediction

from .backends import SCORE_MAX_TOKENS
from .jobs import Asking, build_jobs
from .params import LOCAL_PREFIX
from .session import open_session


def plan_requests(asking: Asking, posts: Sequence[Post], prediction: Prediction, ctx: Context,
                  dev: Sequence[Post] = (), dev_prediction: Prediction | None = None) -> ExplainerPlan:
    """What explain() (and, in ``score`` mode with ``threshold = "dev"``, calibrate()) would send:
    posts, how many answers the cache already holds, tokens and an upper bound of the cost."""
    p, template, local = asking.params, asking.template, asking.local
    jobs = build_jobs(asking, posts, prediction.labels, ctx)
    if p.verdict == "score" and p.threshold == "dev" and dev_prediction is not None:
        jobs += build_jobs(asking, dev, dev_prediction.labels, ctx)
    first = "generate" if p.verdict == "generate" else "score"
    with open_session(asking, ctx, readonly=True) as session:
        cached = [j for j in jobs if session.cache is not None and session.cache.get(
            asking.request_key(j, first)) is not None]
    cached_ids = {id(j) for j in cached}
    todo = [j for j in jobs if id(j) not in cached_ids]
    per_call = p.max_tokens
    if p.verdict == "score":  # scores: no decoding locally, a few tokens hosted; reasons only for flips
        per_call = (0 if local else min(p.max_tokens, SCORE_MAX_TOKENS)) + p.max_tokens
    prompt_tokens = count_tokens(p.model, p.gguf, [j.messages for j in todo])
    calls = len(todo) * (1 if p.verdict == "generate" else 2)
    completion_max = len(todo) * per_call
    cost: float | None = 0.0 if local else None
    if not local and prompt_tokens is not None:
        reason_prompts = prompt_tokens if p.verdict == "score" else 0  # a flip's reason sends the prompt again
        cost = price(p.model, prompt_tokens + reason_prompts, completion_max)
    notes = ["local model, no charge" if local else
             ("" if cost is not None else "not in litellm's price map, cost unknown")]
    if p.verdict == "score":
        notes.append("score verdict: a reason (another call) only for each flip, counted as if every post flipped")
    if template.multi_label:
        notes.append("multi-label: posts counted are (post, predicted label) questions")
    note = "; ".join(n for n in notes if n)
    return ExplainerPlan(model=p.model, posts=len(jobs), cached=len(cached), to_send=len(todo), calls=calls,
                         prompt_tokens=prompt_tokens, completion_tokens_max=completion_max, cost_usd_max=cost,
                         note=note)


def count_tokens(model: str, gguf: str, prompts: Sequence[list[dict[str, str]]]) -> int | None:
    """The prompts' tokens by the model's own tokenizer (a local ``model``: its ``gguf``) or
    litellm's count; None when unknown."""
    if not prompts:
        return 0
    if model.startswith(LOCAL_PREFIX):
        from .local_model import resolve_local_model
        from .open_models import vocab_tokenizer
        from .prompt_format import render_plain

        tokenize = vocab_tokenizer(str(resolve_local_model(gguf).path))
        return sum(len(tokenize(render_plain(m))) for m in prompts)
    from .client import load_litellm

    litellm = load_litellm()
    try:
        return sum(int(litellm.token_counter(model=model, messages=m)) for m in prompts)
    except Exception:  # noqa: BLE001 - a model litellm cannot count for
        return None


def price(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
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
