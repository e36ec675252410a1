"""The LLM explainer's and the LLM classifier's parameters (recorded in every run spec: a field added
here changes run ids)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import Field

LOCAL_PREFIX = "local/"
AtLeastOne = Annotated[int, Field(ge=1)]
NotNegative = Annotated[float, Field(ge=0)]


@dataclass(frozen=True)
class LLMParams:
    #: litellm model name, or "local/<name>": the bundled llama.cpp model, run in a child process.
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


#: A classifier parameter that changes how it runs, not what it predicts.
EXECUTION_ONLY = {"affects_output": False}


@dataclass(frozen=True)
class LLMClassifierParams:
    #: litellm model name, or "local/<name>": the bundled llama.cpp model, run in a child process.
    model: Annotated[str, Field(pattern=r"\S")] = "local/gemma-3-270m"
    api_base: str = ""
    api_key_env: str = ""
    #: Template file; "" = <task folder>/prompts/<task>.classify.toml.
    prompts: str = ""
    #: Examples per class drawn from train (0 = zero-shot); multi-label: per answer and label.
    shots: Annotated[int, Field(ge=0)] = 0
    shot_selection: Literal["stratified", "nearest"] = "stratified"
    decision: Literal["score", "generate"] = "score"
    #: score: a per-label bias (multi-label: a threshold per label) chosen on dev by the official metric.
    calibrate: bool = True
    temperature: NotNegative = 0.0
    seed: int = 0
    max_tokens: Annotated[int, Field(ge=1)] = 8
    timeout_s: Annotated[float, Field(gt=0)] = 60.0
    retries: Annotated[int, Field(ge=0)] = 4
    backoff_s: NotNegative = 0.5
    backoff_max_s: NotNegative = 30.0
    retry_after_max_s: NotNegative = 120.0
    gguf: str = ""
    n_ctx: int = 2048
    concurrency: Annotated[int, Field(ge=1)] = field(default=2, metadata=EXECUTION_ONLY)
    cache: bool = field(default=True, metadata=EXECUTION_ONLY)
    n_threads: Annotated[int, Field(ge=0)] = field(default=0, metadata=EXECUTION_ONLY)
