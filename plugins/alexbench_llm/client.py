"""One chat completion through litellm, with timeouts, retries and exponential backoff.

Every provider is reached the same way, by litellm model name (``openai/gpt-4o-mini``,
``anthropic/...``, ``ollama/...``, ``openai/<name>`` plus ``api_base`` for a vLLM or llama.cpp
server). API keys come from the environment only (litellm's provider defaults, or the variable
named by ``api_key_env``); they are never returned, stored or logged, and every error text that
leaves this module is scrubbed of secret-looking environment values.
"""

from __future__ import annotations

import os
import re
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class CallResult:
    reply: str | None
    attempts: int
    latency_s: float
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    error: str | None = None


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


def complete(settings: CallSettings, messages: list[dict[str, str]], *,
             sleep: Callable[[float], None] = time.sleep) -> CallResult:
    """Call the model, retrying transient errors with exponential backoff; never raises for a
    transient or per-post failure (the result carries the error), raises
    :class:`LLMConfigError` when the configuration itself is wrong."""
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
    start = time.perf_counter()
    error = ""
    for attempt in range(1, settings.retries + 2):
        try:
            resp = litellm.completion(**kwargs)
        except Exception as exc:  # noqa: BLE001 - classified below
            kind = classify(exc, litellm)
            error = scrub(f"{type(exc).__name__}: {exc}", secrets)[:1000]
            if kind == "fatal":
                raise LLMConfigError(f"LLM {settings.model!r} refused the request: {error}") from None
            if kind == "fail" or attempt > settings.retries:
                return CallResult(None, attempt, time.perf_counter() - start, error=error)
            sleep(min(settings.backoff_max_s, settings.backoff_s * 2 ** (attempt - 1)))
            continue
        content = resp.choices[0].message.content if resp.choices else None
        prompt_tokens, completion_tokens = _usage(resp)
        cost = 0.0 if settings.zero_cost else _cost(litellm, resp)
        return CallResult(scrub(content or "", secrets), attempt, time.perf_counter() - start,
                          prompt_tokens, completion_tokens, cost)
    raise AssertionError("unreachable")  # pragma: no cover
