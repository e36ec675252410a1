"""The JSON reply's grammar: GBNF for a schema or an OpenAI-style ``response_format``, and the
check of a token against it while decoding.

Greedy decoding checks the unconstrained best token against the grammar first and filters the
whole vocabulary only when it is rejected (:class:`GrammarCheck`), which picks the same token as
filtering first (the best token among the allowed ones) without checking Gemma's 262,144 tokens
at every step.
"""

from __future__ import annotations

import ctypes
import json
from collections.abc import Mapping
from typing import Any

import numpy as np


def schema_grammar(schema: Mapping[str, Any]) -> str:
    """GBNF for a JSON schema, allowing one space before the object (after "Answer:" a model may
    write " {")."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    rules = json_schema_to_gbnf(json.dumps(schema))
    return rules.replace("root ::=", "json-root ::=", 1) + '\nroot ::= " "? json-root\n'


def response_format_grammar(fmt: Mapping[str, Any] | None, grammar: str | None = None) -> str | None:
    """The GBNF an OpenAI-style ``response_format`` asks for (``json_schema`` with a schema,
    ``json_object`` with or without one), or ``grammar`` when given as GBNF directly."""
    if grammar:
        return grammar
    if not isinstance(fmt, Mapping):
        return None
    if fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        return schema_grammar(schema) if schema is not None else None
    if fmt.get("type") == "json_object":
        if fmt.get("schema") is not None:
            return schema_grammar(fmt["schema"])
        from llama_cpp.llama_grammar import JSON_GBNF

        return str(JSON_GBNF)
    return None


class GrammarCheck:
    """llama.cpp grammar samplers of one model's vocabulary (one per GBNF, kept), and the token
    arrays they filter: one token, or the whole vocabulary."""

    def __init__(self, lib: Any, vocab: Any, n_vocab: int) -> None:
        self._lib, self._vocab, self.n_vocab = lib, vocab, n_vocab
        self._samplers: dict[str, Any] = {}
        self._ids = np.arange(n_vocab, dtype=np.intc)
        self._full = np.zeros(n_vocab, dtype=np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)],
                                                      align=True))
        self._full_arr = lib.llama_token_data_array(
            data=self._full.ctypes.data_as(lib.llama_token_data_p), size=n_vocab, selected=-1, sorted=False)
        self._one = (lib.llama_token_data * 1)()
        self._one_arr = lib.llama_token_data_array(
            data=ctypes.cast(self._one, lib.llama_token_data_p), size=1, selected=-1, sorted=False)

    def sampler(self, gbnf: str) -> Any:
        """The grammar sampler of ``gbnf``, reset to the start of a reply."""
        sampler = self._samplers.get(gbnf)
        if sampler is None:
            sampler = self._lib.llama_sampler_init_grammar(self._vocab, gbnf.encode(), b"root")
            if not sampler:
                raise ValueError("invalid grammar (GBNF)")
            self._samplers[gbnf] = sampler
        self._lib.llama_sampler_reset(sampler)
        return sampler

    def allowed(self, grammar: Any, token: int, logit: float) -> bool:
        self._one[0].id, self._one[0].logit, self._one[0].p = token, logit, 0.0
        self._one_arr.size, self._one_arr.selected, self._one_arr.sorted = 1, -1, False
        self._lib.llama_sampler_apply(grammar, ctypes.byref(self._one_arr))
        return bool(np.isfinite(self._one[0].logit))

    def best_allowed(self, grammar: Any, logits: np.ndarray) -> int:
        """The best token the grammar allows, filtering the whole vocabulary."""
        full = self._full
        full["id"] = self._ids
        full["logit"] = logits
        full["p"] = 0.0
        arr = self._full_arr
        arr.data = full.ctypes.data_as(self._lib.llama_token_data_p)
        arr.size, arr.selected, arr.sorted = self.n_vocab, -1, False
        self._lib.llama_sampler_apply(grammar, ctypes.byref(arr))
        if arr.size != self.n_vocab:  # the grammar sampler filters in place and never drops; be safe
            raise RuntimeError("unexpected grammar sampler behaviour")
        best = int(np.argmax(full["logit"]))
        if not np.isfinite(full["logit"][best]):
            raise RuntimeError("the grammar allows no token here")
        return int(full["id"][best])
