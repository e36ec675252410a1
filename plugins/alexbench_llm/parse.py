"""Reading a verdict out of an LLM reply: structured JSON only, never a keyword search.

A reply parses when it contains a JSON object with a ``verdict`` that is a boolean (or the
string "true"/"false"), optionally wrapped in prose or a Markdown code fence. Anything else —
no object, no verdict, a verdict of another type, two objects that disagree — is unparsable,
and the caller keeps the classifier's label.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

_BOOL_WORDS = {"true": True, "false": False}


@dataclass(frozen=True)
class ParsedReply:
    verdict: bool
    label: str | None
    reason: str


class UnparsableReply(ValueError):
    """The reply holds no usable structured verdict; the message says why."""


def _objects(text: str) -> Iterator[dict[str, Any]]:
    """Every top-level JSON object embedded in ``text``, in order."""
    decoder = json.JSONDecoder()
    i = text.find("{")
    while i != -1:
        try:
            value, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            i = text.find("{", i + 1)
            continue
        if isinstance(value, dict):
            yield value
        i = text.find("{", end)


def _verdict(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _BOOL_WORDS.get(value.strip().lower())
    return None


def parse_reply(text: str | None) -> ParsedReply:
    """Parse a reply; raise :class:`UnparsableReply` saying why it cannot be used."""
    if not text or not text.strip():
        raise UnparsableReply("empty reply")
    found: list[ParsedReply] = []
    for obj in _objects(text):
        keys = {str(k).strip().lower(): v for k, v in obj.items()}
        if "verdict" not in keys:
            continue
        verdict = _verdict(keys["verdict"])
        if verdict is None:
            raise UnparsableReply(f"verdict is {keys['verdict']!r}, not true or false")
        label = keys.get("label")
        label = None if label is None else str(label).strip()
        reason = keys.get("reason", "")
        found.append(ParsedReply(verdict, label or None, reason if isinstance(reason, str) else json.dumps(reason)))
    if not found:
        raise UnparsableReply("no JSON object with a 'verdict' in the reply")
    if any(p.verdict != found[0].verdict for p in found[1:]):
        raise UnparsableReply("the reply holds JSON objects with contradicting verdicts")
    return found[0]


_VALUE_START = re.compile(r'"verdict"\s*:\s*(\S*)$', re.IGNORECASE)
_WORD = re.compile(r'"?([A-Za-z]+)')


def _value_prefix(text: str) -> str | None:
    """The start of the verdict's value when ``text`` ends in or just after it
    (``...{"verdict": tr`` -> ``tr``, ``...{"verdict": true,`` -> ``true``); None before it."""
    match = _VALUE_START.search(text)
    if match is None or not match.group(1):
        return None
    word = _WORD.match(match.group(1))
    return word.group(1).lower() if word else ""


def verdict_probs(logprobs: Sequence[tuple[str, float, Sequence[tuple[str, float]]]]) -> tuple[float, float] | None:
    """P(true) and P(false) of a generated JSON reply's verdict, from its token logprobs: at the
    token where the verdict's value starts, the probabilities of that token and its alternatives
    whose text begins ``true`` or ``false`` (with any spacing). None when the reply never reaches a
    verdict value, or no alternative there is either word."""
    text = ""
    for token, logprob, alternatives in logprobs:
        start = _value_prefix(text + token)
        if start:  # this token holds the value's first character(s)
            seen: dict[str, float] = {alt: lp for alt, lp in alternatives}
            seen.setdefault(token, logprob)
            p_true = p_false = 0.0
            for alt, lp in seen.items():
                value = _value_prefix(text + alt)
                if not value:
                    continue
                if "true".startswith(value) or value == "true":
                    p_true += math.exp(lp)
                elif "false".startswith(value) or value == "false":
                    p_false += math.exp(lp)
            return (p_true, p_false) if p_true + p_false > 0 else None
        text += token
    return None
