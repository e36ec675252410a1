"""Spacing for nlpaug: its tokenizer splits a post at every non-word character and its
detokenizer joins the tokens with spaces ("I'm" comes back as "I ' m", "covid-19" as
"covid - 19"). :class:`KeepSpacing` is the tokenizer pair the nlpaug augmenters get instead:
the same split (contractions kept whole) and a join that gives every token the spacing it had.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

# nlpaug's own tokenization (nlpaug.util.text.tokenizer splits at every non-word character).
# One difference: a contraction ("isn't", "I'm") stays one token, so that a synonym or spelling
# augmenter does not swap its pieces ("t" → "thymine").
_TOKEN = re.compile(r"(\s*)(\w+(?:['’]\w+)*|[^\w\s])")
_NO_SPACE_BEFORE = frozenset(",.!?;:%)]}'’")
_NO_SPACE_AFTER = frozenset("([{#@$'‘")


def tokens_with_spacing(text: str) -> tuple[list[str], list[bool]]:
    """nlpaug-style tokens of ``text`` and, for each, whether whitespace came before it."""
    tokens, spaces = [], []
    for match in _TOKEN.finditer(text):
        spaces.append(bool(match.group(1)))
        tokens.append(match.group(2))
    return tokens, spaces


def _moved_spacing(original: Sequence[str], spaces: Sequence[bool], tokens: Sequence[str],
                   key: Callable[[str], str]) -> list[bool] | None:
    """If ``tokens`` are ``original`` reordered (compared by ``key``), each token's own spacing."""
    if sorted(map(key, tokens)) != sorted(map(key, original)):
        return None
    own: dict[str, list[bool]] = {}
    for token, space in zip(reversed(original), reversed(spaces)):
        own.setdefault(key(token), []).append(space)
    return [own[key(token)].pop() for token in tokens]


def join_with_spacing(original: Sequence[str], spaces: Sequence[bool], tokens: Sequence[str]) -> str:
    """Join an augmenter's ``tokens`` with the spacing the ``original`` tokens had.

    nlpaug joins tokens back with a space each ("I'm" comes back as "I ' m", "covid-19" as
    "covid - 19"), which subword tokenizers see as other text than real posts. After
    substitutions (every character augmenter, spelling, synonyms) each position keeps its
    spacing; after swaps and deletions every token keeps its own; otherwise
    the tokens are aligned with the original (difflib): kept and one-for-one replaced tokens keep
    theirs, and new tokens get a space unless they are punctuation that attaches to a neighbour."""
    if len(tokens) == len(original):
        if tokens != list(original):  # swaps: spacing goes with the token
            spaces = (_moved_spacing(original, spaces, tokens, str) or _moved_spacing(original, spaces, tokens, str.lower)
                      or spaces)  # (nlpaug may recapitalise the new first word)
        return "".join((" " if space and k else "") + token for k, (token, space) in enumerate(zip(tokens, spaces)))
    if len(tokens) < len(original):  # deletions only, the common case: a subsequence, in one pass
        kept, i = [], 0
        for token in tokens:
            while i < len(original) and original[i] != token:
                i += 1
            if i == len(original):
                break
            kept.append(spaces[i])
            i += 1
        else:
            return "".join((" " if space and k else "") + token for k, (token, space) in enumerate(zip(tokens, kept)))
    import difflib

    spaced: list[tuple[str, bool]] = []
    matcher = difflib.SequenceMatcher(None, list(original), list(tokens), autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal" or (op == "replace" and i2 - i1 == j2 - j1):
            spaced += [(tokens[j], spaces[i]) for i, j in zip(range(i1, i2), range(j1, j2))]
        elif op in ("insert", "replace"):
            for token in tokens[j1:j2]:
                before = spaced[-1][0] if spaced else ""
                spaced.append((token, bool(spaced) and token not in _NO_SPACE_BEFORE and before not in _NO_SPACE_AFTER))
    return "".join((" " if space and k else "") + token for k, (token, space) in enumerate(spaced))


class KeepSpacing:
    """The tokenizer pair handed to nlpaug: its own split, but the join gives the augmented
    tokens the spacing of the text last split (nlpaug splits one text, augments its tokens, then
    joins them; one augmenter instance works on one text at a time)."""

    def __init__(self) -> None:
        self._tokens: list[str] = []
        self._spaces: list[bool] = []

    def tokenize(self, text: str) -> list[str]:
        self._tokens, self._spaces = tokens_with_spacing(text)
        return list(self._tokens)

    def detokenize(self, tokens: list[str]) -> str:
        return join_with_spacing(self._tokens, self._spaces, tokens)
