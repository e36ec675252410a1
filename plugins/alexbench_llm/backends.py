"""Where the explainer's requests go: the local engine (in a child process), or any model through litellm.

Both answer two kinds of request for one prompt (the chat messages of one post):

* ``generate`` — the reply's text (JSON constrained by ``response_format`` when the model can);
* ``score`` — P(true) and P(false) of the verdict's first token, as the JSON text
  ``{"p_true": ..., "p_false": ...}`` (so scores are cached like replies). The local engine reads
  them from one forward pass over the prompt and ``{"verdict":``; through litellm the reply is
  generated with ``logprobs`` (a few tokens, enough to reach the verdict's value) and the
  probabilities are read at the token where the value starts.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from .client import CallResult, CallSettings, LLMConfigError, complete
from .engine import Generation
from .grammar import response_format_grammar
from .parse import verdict_probs
from .verdict import VERDICT_OPEN, VerdictScore

#: Tokens a hosted model may generate in ``score`` mode: enough for ``{"verdict": false``.
SCORE_MAX_TOKENS = 16
#: Alternatives asked for at each generated token in ``score`` mode (OpenAI allows up to 20).
SCORE_TOP_LOGPROBS = 5


def score_reply(p_true: float | None, p_false: float | None, error: str = "") -> str:
    body: dict[str, Any] = {"p_true": p_true, "p_false": p_false}
    if error:
        body["error"] = error
    return json.dumps(body, sort_keys=True)


def read_score(reply: str | None) -> tuple[float, float] | None:
    """(p_true, p_false) of a ``score`` reply, or None when the reply holds none."""
    if not reply:
        return None
    try:
        body = json.loads(reply)
    except json.JSONDecodeError:
        return None
    p_true, p_false = body.get("p_true"), body.get("p_false")
    if not isinstance(p_true, (int, float)) or not isinstance(p_false, (int, float)) or p_true + p_false <= 0:
        return None
    return float(p_true), float(p_false)


def p_false_norm(score: tuple[float, float]) -> float:
    p_true, p_false = score
    return p_false / (p_true + p_false)


class Backend(Protocol):
    #: Requests this backend can serve at once (the local engine answers one at a time).
    concurrency: int
    #: A line for the run's log when the backend starts ("" for none).
    note: str

    def generate(self, messages: Sequence[Mapping[str, str]], prefix: str,
                 response_format: Mapping[str, Any] | None) -> CallResult: ...

    def score(self, messages: Sequence[Mapping[str, str]], prefix: str,
              response_format: Mapping[str, Any] | None) -> CallResult: ...


class Engine(Protocol):
    """What the local backend asks of an engine: :class:`.engine.LocalEngine` (in this process)
    or :class:`.engine_process.EngineProcess` (the same in a child process)."""

    def render(self, messages: Sequence[Mapping[str, Any]]) -> str: ...

    def complete(self, prompt: str, **kwargs: Any) -> Generation: ...

    def verdict_score(self, prompt: str, **kwargs: Any) -> VerdictScore: ...


class LocalBackend:
    """The llama.cpp engine; ``prefix`` is the template's fixed beginning ("" = the prompt is
    evaluated from scratch)."""

    concurrency = 1

    def __init__(self, engine: Engine, *, temperature: float, seed: int, max_tokens: int,
                 use_grammar: bool, note: str = "") -> None:
        self.engine, self.temperature, self.seed, self.max_tokens = engine, temperature, seed, max_tokens
        self.use_grammar, self.note = use_grammar, note

    def generate(self, messages: Sequence[Mapping[str, str]], prefix: str,
                 response_format: Mapping[str, Any] | None) -> CallResult:
        start = time.perf_counter()
        try:
            grammar = response_format_grammar(response_format) if self.use_grammar else None
            out = self.engine.complete(self.engine.render(messages), prefix=prefix, grammar=grammar,
                                       max_tokens=self.max_tokens, temperature=self.temperature, seed=self.seed)
        except (ValueError, RuntimeError) as exc:
            return CallResult(None, 1, time.perf_counter() - start, error=f"{type(exc).__name__}: {exc}")
        return CallResult(out.text, 1, time.perf_counter() - start, out.prompt_tokens, out.completion_tokens, 0.0)

    def score(self, messages: Sequence[Mapping[str, str]], prefix: str,
              response_format: Mapping[str, Any] | None = None) -> CallResult:
        start = time.perf_counter()
        try:
            out = self.engine.verdict_score(self.engine.render(messages), prefix=prefix, opening=VERDICT_OPEN)
        except (ValueError, RuntimeError) as exc:
            return CallResult(None, 1, time.perf_counter() - start, error=f"{type(exc).__name__}: {exc}")
        return CallResult(score_reply(out.p_true, out.p_false), 1, time.perf_counter() - start, out.prompt_tokens, 0,
                          0.0)


class LiteLLMBackend:
    """Any model by litellm name (hosted, or an OpenAI-compatible server with ``api_base``)."""

    note = ""

    def __init__(self, settings: CallSettings, concurrency: int) -> None:
        self.settings, self.concurrency = settings, concurrency

    def generate(self, messages: Sequence[Mapping[str, str]], prefix: str,
                 response_format: Mapping[str, Any] | None) -> CallResult:
        settings = dataclasses.replace(self.settings, response_format=response_format)
        return complete(settings, [dict(m) for m in messages])

    def score(self, messages: Sequence[Mapping[str, str]], prefix: str,
              response_format: Mapping[str, Any] | None = None) -> CallResult:
        settings = dataclasses.replace(self.settings, response_format=response_format, top_logprobs=SCORE_TOP_LOGPROBS,
                                       max_tokens=min(self.settings.max_tokens, SCORE_MAX_TOKENS))
        result = complete(settings, [dict(m) for m in messages])
        if result.reply is None:
            return result
        if not result.logprobs:
            raise LLMConfigError(f"LLM {self.settings.model!r} returned no logprobs: verdict = \"score\" needs a "
                                 "model that returns them (OpenAI-compatible); use verdict = \"generate\"")
        probs = verdict_probs(result.logprobs)
        reply = score_reply(*probs) if probs else score_reply(
            None, None, f"no verdict value with true/false alternatives in the first {SCORE_MAX_TOKENS} tokens: "
            f"{result.reply[:120]!r}")
        return dataclasses.replace(result, reply=reply, logprobs=None)


# -- label scoring (the ``llm`` classifier) -------------------------------------------------------
#: Alternatives asked for at the first generated token when a hosted model scores labels.
LABEL_TOP_LOGPROBS = 20
#: Log-probability given to a label whose answer a hosted model did not list among its alternatives.
UNLISTED_LOGPROB = -30.0


def labels_reply(logprobs: Sequence[float], error: str = "") -> str:
    body: dict[str, Any] = {"logprobs": [round(float(x), 6) for x in logprobs]}
    if error:
        body["error"] = error
    return json.dumps(body, sort_keys=True)


def read_labels_reply(reply: str | None, n: int) -> list[float] | None:
    """The per-answer log-probabilities of a label-scoring reply, or None when it holds none."""
    if not reply:
        return None
    try:
        values = json.loads(reply).get("logprobs")
    except (json.JSONDecodeError, AttributeError):
        return None
    if not isinstance(values, list) or len(values) != n or not all(isinstance(v, (int, float)) for v in values):
        return None
    return [float(v) for v in values]


def first_token_logprobs(answers: Sequence[str], alternatives: Sequence[tuple[str, float]]) -> list[float]:
    """Each answer's log-probability at a hosted model's first generated token: the summed
    probability of the alternatives that begin the answer (any case, any leading space);
    :data:`UNLISTED_LOGPROB` for an answer none of them begins."""
    out = []
    for answer in answers:
        word = answer.strip().lower()
        p = sum(math.exp(lp) for alt, lp in alternatives
                if alt.strip() and word.startswith(alt.strip().lower()))
        out.append(math.log(p) if p > 0 else UNLISTED_LOGPROB)
    return out


def score_labels_local(engine: Engine, messages: Sequence[Mapping[str, str]], prefix: str,
                       answers: Sequence[str]) -> CallResult:
    """Each answer's log-probability after the prompt, from the local engine (one forward pass
    over the prompt; longer answers from its saved state)."""
    start = time.perf_counter()
    try:
        out = engine.continuation_logprobs(engine.render(messages), [" " + a.strip() for a in answers], prefix=prefix)
    except (ValueError, RuntimeError) as exc:
        return CallResult(None, 1, time.perf_counter() - start, error=f"{type(exc).__name__}: {exc}")
    return CallResult(labels_reply(out.logprobs), 1, time.perf_counter() - start, out.prompt_tokens,
                      sum(out.continuation_tokens), 0.0)


def score_labels_hosted(settings: CallSettings, messages: Sequence[Mapping[str, str]],
                        answers: Sequence[str]) -> CallResult:
    """Each answer's log-probability at a hosted model's first generated token (``logprobs``)."""
    asked = dataclasses.replace(settings, top_logprobs=LABEL_TOP_LOGPROBS, max_tokens=1)
    result = complete(asked, [dict(m) for m in messages])
    if result.reply is None:
        return result
    if not result.logprobs:
        raise LLMConfigError(f"LLM {settings.model!r} returned no logprobs: the llm classifier's 'score' decision needs "
                             "a model that returns them; use decision = \"generate\"")
    token, logprob, alternatives = result.logprobs[0]
    seen = dict(alternatives)
    seen.setdefault(token, logprob)
    return dataclasses.replace(result, reply=labels_reply(first_token_logprobs(answers, list(seen.items()))),
                               logprobs=None)
