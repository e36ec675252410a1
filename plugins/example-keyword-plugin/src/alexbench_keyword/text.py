"""Tokenising shared by the classifier and the explainer."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9']+")


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def word_list(text: str) -> list[str]:
    """A comma-separated parameter as a list of lower-case words."""
    return [w.strip().lower() for w in text.split(",") if w.strip()]
