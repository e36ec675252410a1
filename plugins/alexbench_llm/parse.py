"""Reading a verdict out of an LLM reply: structured JSON only, never a keyword search.

A reply parses when it contains a JSON object with a ``verdict`` that is a boolean (or the
string "true"/"false"), optionally wrapped in prose or a Markdown code fence. Anything else —
no object, no verdict, a verdict of another type, two objects that disagree — is unparsable,
and the caller keeps the classifier's label.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
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
