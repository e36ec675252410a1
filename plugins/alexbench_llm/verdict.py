"""The ``score`` verdict of the local engine: the probabilities of the verdict's first token.

One forward pass over the prompt followed by the opening of the JSON reply (:data:`VERDICT_OPEN`,
``{"verdict":``) and the probability of each answer's first token at that position, read from the
logits (:func:`first_token_probs`); nothing is decoded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: The opening of the reply the ``score`` verdict reads the next token after.
VERDICT_OPEN = '{"verdict":'
VERDICT_WORDS = {True: ("true",), False: ("false",)}


@dataclass(frozen=True)
class VerdictScore:
    """Probabilities of the verdict's first token: ``p_true`` and ``p_false`` are shares of the
    whole vocabulary's probability; ``p_false_norm`` is P(false) / (P(true) + P(false))."""

    p_true: float
    p_false: float
    prompt_tokens: int
    reused_tokens: int
    seconds: float

    @property
    def p_false_norm(self) -> float:
        total = self.p_true + self.p_false
        return self.p_false / total if total > 0 else 0.5


def word_tokens(llm: Any, words: Sequence[str]) -> set[int]:
    """The first token of each word, spelt with and without a leading space."""
    ids = set()
    for word in words:
        for variant in (f" {word}", word):
            toks = llm.tokenize(variant.encode(), add_bos=False, special=False)
            if toks:
                ids.add(int(toks[0]))
    return ids


def first_token_probs(logits: Any, true_ids: set[int], false_ids: set[int]) -> tuple[float, float]:
    """(P(true), P(false)): the softmax of ``logits`` summed over each answer's first tokens."""
    import numpy as np

    x = logits.astype(np.float64)
    m = x.max()
    z = np.exp(x - m)
    total = z.sum()
    return float(z[list(true_ids)].sum() / total), float(z[list(false_ids)].sum() / total)
