"""One chat completion through litellm, with timeouts, retries and exponential backoff.

A 429 that says when to come back (``Retry-After``: seconds or an HTTP date; or
``retry-after-ms``) is honoured: the call waits that long (at least its own backoff) before the
next attempt, and so does every other call sharing the same :class:`RateGate` (the explainer's
concurrent requests), instead of each hammering the server on its own schedule. A Retry-After
longer than ``retry_after_max_s`` fails the post at once with a clear error.

Every provider is reached the same way, by litellm model name (``openai/gpt-4o-mini``,
``anthropic/...``, ``ollama/...``, ``openai/<name>`` plus ``api_base`` for a vLLM or llama.cpp
server). API keys come from the environment only (litellm's provider defaults, or the variable
named by ``api_key_env``); they are never returned, stored or logged, and every error text that
leaves this module is scrubbed of secret-looking environment values.
"""

from __future__ import annotations

import email.utils
import os
import re
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from alexbench.errors import AlexbenchError

_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
#: Statuses worth another try: timeout, conflict, rate limit, any server error.
_RETRY_STATUS = {408, 409, 429}
#: Errors litellm reports as server errors that are really configuration errors.
_CONFIG_MESSAGES = ("Missing credentials", "api_key client option must be set")
NO_KEY = "sk-no-key-required"


class LLMConfigError(AlexbenchError):
    """The LLM cannot be used at all (bad key, no access, unknown model or route): fix the
    configuration; retrying or recording per-post failures would not help."""


def load_litellm() -> Any:
    """Import litellm offline: its model cost map comes from the installed package, not the web."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    # litellm's own response objects trip a harmless pydantic serializer warning on every call.
    warnings.filterwarnings("ignore", message="Pydantic serializer warnings", category=UserWarning)
    litellm.suppress_debug_info = True  # no "Give Feedback" banner on stdout for every handled error
    return litellm


def secret_values(extra: Sequence[str] = ()) -> list[str]:
    """Values of environment variables whose names look like credentials (longest first)."""
    values = {v for k, v in os.environ.items() if _SECRET_NAME.search(k) and len(v) >= 6}
    values.update(v for v in extra if v and len(v) >= 6)
    return sorted(values, key=len, reverse=True)


def scrub(text: str, secrets: Sequence[str]) -> str:
    for value in secrets:
        text = text.replace(value, "[redacted]")
        # Providers echo keys partly masked ("sk-abc***wxyz"): hide any 8+ character fragment too.
        if len(value) >= 16:
            text = text.replace(value[:8], "[redacted]").replace(value[-8:], "[redacted]")
    return text


#: Per generated token: (token, logprob, [(alternative, logprob), ...]) — OpenAI's ``logprobs.content``.
TokenLogprobs = list[tuple[str, float, list[tuple[str, float]]]]


@dataclass(frozen=True)
class CallResult:
    reply: str | None
    attempts: int
    latency_s: float
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    error: str | None = None
    logprobs: TokenLogprobs | None = None
    #: Seconds spent waiting because the server asked for it (Retry-After).
    waited_s: float = 0.0


class RateGate:
    """A shared 'not before' time: when one call is told to retry after N seconds, every call
    through the same gate waits until then before its next request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._not_before = 0.0

    def hold(self, seconds: float) -> None:
        with self._lock:
            self._not_before = max(self._not_before, time.monotonic() + seconds)

    def remaining(self) -> float:
        with self._lock:
            return max(0.0, self._not_before - time.monotonic())


def retry_after_s(headers: Any, *, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` (delta-seconds or an HTTP date) or ``retry-after-ms`` header asks
    to wait; None when there is no usable header."""
    if headers is None:
        return None
    get = headers.get if hasattr(headers, "get") else (lambda key: None)
    ms = get("retry-after-ms") or get("Retry-After-Ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = get("retry-after") or get("Retry-After")
    if value is None:
        return None
    value = str(value).strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _exception_headers(exc: BaseException) -> Any:
    headers = getattr(exc, "litellm_response_headers", None)
    if headers:
        return headers
    response = getattr(exc, "response", None)
    return getattr(response, "headers", None)


@dataclass(frozen=True)
class CallSettings:
    model: str
    api_base: str = ""
    api_key_env: str = ""
    temperature: float = 0.0
    seed: int | None = 0
    max_tokens: int = 128
    timeout_s: float = 60.0
    retries: int = 4
    backoff_s: float = 0.5
    backoff_max_s: float = 30.0
    response_format: Mapping[str, Any] | None = None
    api_key_literal: str = ""  # only for a local server that needs no key; never a real secret
    zero_cost: bool = False  # a local model: no API charge
    #: Ask for the logprobs of each generated token and this many alternatives (0: none).
    top_logprobs: int = 0
    #: The longest Retry-After honoured; a server asking for more fails the post.
    retry_after_max_s: float = 120.0
    gate: RateGate | None = field(default=None, compare=False)


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def classify(exc: BaseException, litellm: Any) -> str:
    """'retry', 'fatal' (configuration) or 'fail' (this post only)."""
    ex = litellm.exceptions
    if isinstance(exc, (ex.AuthenticationError, ex.PermissionDeniedError, ex.NotFoundError)):
        return "fatal"
    if any(text in str(exc) for text in _CONFIG_MESSAGES):
        return "fatal"
    if isinstance(exc, (ex.Timeout, ex.APIConnectionError, ex.RateLimitError, ex.InternalServerError,
                        ex.ServiceUnavailableError, ex.BadGatewayError)):
        return "retry"
    status = _status(exc)
    if status is not None and (status in _RETRY_STATUS or status >= 500):
        return "retry"
    if isinstance(exc, ex.APIError) and status is None:
        return "retry"
    return "fail"


def _usage(resp: Any) -> tuple[int | None, int | None]:
    usage = getattr(resp, "usage", None)
    if usage is None:
        return None, None
    return getattr(usage, "prompt_tokens", None), getattr(usage, "completion_tokens", None)


def _cost(litellm: Any, resp: Any) -> float | None:
    try:
        cost = litellm.completion_cost(completion_response=resp)
    except Exception:  # noqa: BLE001 - unknown model: litellm does not know its price
        return None
    return float(cost) if cost else None


def _logprobs(resp: Any) -> TokenLogprobs | None:
    """OpenAI's ``choices[0].logprobs.content`` as plain tuples (None when the reply has none)."""
    choice = resp.choices[0] if resp.choices else None
    lp = getattr(choice, "logprobs", None)
    if lp is None:
        return None
    content = lp.get("content") if isinstance(lp, Mapping) else getattr(lp, "content", None)
    if not content:
        return None

    def get(obj: Any, key: str) -> Any:
        return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)

    out: TokenLogprobs = []
    for item in content:
        tops = [(str(get(t, "token")), float(get(t, "logprob"))) for t in (get(item, "top_logprobs") or [])]
        out.append((str(get(item, "token")), float(get(item, "logprob")), tops))
    return out


def complete(settings: CallSettings, messages: list[dict[str, str]], *,
             sleep: Callable[[float], None] = time.sleep) -> CallResult:
    """Call the model, retrying transient errors with exponential backoff (and waiting as long as
    a 429's Retry-After says); never raises for a transient or per-post failure (the result
    carries the error), raises :class:`LLMConfigError` when the configuration itself is wrong."""
    litellm = load_litellm()
    key = os.environ.get(settings.api_key_env, "") if settings.api_key_env else ""
    if settings.api_key_env and not key:
        raise LLMConfigError(f"explainer parameter api_key_env names ${settings.api_key_env}, which is not set")
    secrets = secret_values([key])
    kwargs: dict[str, Any] = {
        "model": settings.model, "messages": messages, "temperature": settings.temperature,
        "max_tokens": settings.max_tokens, "timeout": settings.timeout_s,
        "num_retries": 0, "max_retries": 0,  # retries are ours (with backoff), not litellm's or the SDK's
        "drop_params": True,  # e.g. a provider without 'seed' or 'response_format' still answers
    }
    if settings.seed is not None:
        kwargs["seed"] = settings.seed
    if settings.api_base:
        kwargs["api_base"] = settings.api_base
    literal = settings.api_key_literal
    if not literal and settings.model.startswith("openai/") and settings.api_base and not os.environ.get("OPENAI_API_KEY"):
        literal = NO_KEY  # a self-hosted OpenAI-compatible server (vLLM, llama.cpp) needs no key; the SDK wants one
    if key or literal:
        kwargs["api_key"] = key or literal
    if settings.response_format is not None:
        kwargs["response_format"] = dict(settings.response_format)
    if settings.top_logprobs:
        kwargs["logprobs"] = True
        kwargs["top_logprobs"] = settings.top_logprobs
    gate = settings.gate
    start = time.perf_counter()
    error = ""
    waited = 0.0
    for attempt in range(1, settings.retries + 2):
        if gate is not None and (hold := gate.remaining()) > 0:
            sleep(hold)  # another request was told to wait: so is this one
            waited += hold
        try:
            resp = litellm.completion(**kwargs)
        except Exception as exc:  # noqa: BLE001 - classified below
            kind = classify(exc, litellm)
            error = scrub(f"{type(exc).__name__}: {exc}", secrets)[:1000]
            if kind == "fatal":
                raise LLMConfigError(f"LLM {settings.model!r} refused the request: {error}") from None
            if kind == "fail" or attempt > settings.retries:
                return CallResult(None, attempt, time.perf_counter() - start, error=error, waited_s=waited)
            delay = min(settings.backoff_max_s, settings.backoff_s * 2 ** (attempt - 1))
            asked = retry_after_s(_exception_headers(exc)) if _status(exc) == 429 else None
            if asked is not None:
                if asked > settings.retry_after_max_s:
                    error = (f"rate limited: the server asks to retry after {asked:.0f} s, more than "
                             f"retry_after_max_s = {settings.retry_after_max_s:g} s; {error}")[:1000]
                    return CallResult(None, attempt, time.perf_counter() - start, error=error, waited_s=waited)
                delay = max(delay, asked)
                if gate is not None:
                    gate.hold(asked)
                waited += delay
            sleep(delay)
            continue
        content = resp.choices[0].message.content if resp.choices else None
        prompt_tokens, completion_tokens = _usage(resp)
        cost = 0.0 if settings.zero_cost else _cost(litellm, resp)
        logprobs = _logprobs(resp) if settings.top_logprobs else None
        if logprobs is not None:
            logprobs = [(scrub(t, secrets), lp, [(scrub(a, secrets), alp) for a, alp in tops]) for t, lp, tops in logprobs]
        return CallResult(scrub(content or "", secrets), attempt, time.perf_counter() - start,
                          prompt_tokens, completion_tokens, cost, logprobs=logprobs, waited_s=waited)
    raise AssertionError("unreachable")  # pragma: no cover
