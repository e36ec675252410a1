"""The llama.cpp models this process opens (closed before the interpreter shuts down), and
vocabulary-only tokenizers for counting prompt tokens without loading a model's weights."""

from __future__ import annotations

import atexit
import weakref
from typing import Any

#: Every llama.cpp model this process opened: closed before the interpreter shuts down, since
#: llama-cpp-python's own finaliser runs after its library is unloaded and prints an error.
_OPEN_MODELS: weakref.WeakSet[Any] = weakref.WeakSet()


@atexit.register
def _close_models() -> None:
    for model in list(_OPEN_MODELS):
        try:
            model.close()
        except Exception:  # noqa: BLE001 - shutting down: nothing left to report to
            pass


def open_llama(model_path: str, **kwargs: Any) -> Any:
    """``llama_cpp.Llama(model_path=model_path, **kwargs)``, closed at exit."""
    from llama_cpp import Llama

    llm = Llama(model_path=model_path, **kwargs)
    _OPEN_MODELS.add(llm)
    return llm


_TOKENIZERS: dict[str, Any] = {}


def vocab_tokenizer(model_path: str) -> Any:
    """A tokenizer for counting a GGUF's prompt tokens without loading its weights (dry runs)."""
    if model_path not in _TOKENIZERS:
        llm = open_llama(model_path, vocab_only=True, verbose=False)
        _TOKENIZERS[model_path] = lambda text: llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)
    return _TOKENIZERS[model_path]
