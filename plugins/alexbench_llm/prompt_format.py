"""How chat messages become the local engine's prompt text: the ``plain`` and ``chat`` formats."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: Prompt formats: ``plain`` writes the messages' contents one after another, separated by blank
#: lines (few-shot completion prompts for base models such as the bundled Gemma-3-270M);
#: ``chat`` applies the GGUF's own chat template (instruction-tuned models).
PROMPT_FORMATS = ("plain", "chat")


def render_plain(messages: Sequence[Mapping[str, Any]]) -> str:
    return "\n\n".join(str(m.get("content") or "") for m in messages)


def chat_formatter(llm: Any, model_path: str) -> Any:
    """llama-cpp-python's formatter for the GGUF's own chat template (with its BOS and EOS texts)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        raise ValueError(f"{model_path} has no chat template; use prompt_format 'plain'")
    piece = llm._model.token_get_text
    return Jinja2ChatFormatter(template, eos_token=piece(llm.token_eos()), bos_token=piece(llm.token_bos()))
