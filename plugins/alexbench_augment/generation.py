"""Growing and balancing a train split: the pieces every built-in augmenter shares.

Nothing here imports nlpaug or TextAttack: per-post seeds (so the output depends on the seed and
the post, never on the order of the posts, on caching or on the state of the global generators,
which are restored afterwards), ALEX's ``&amp;``/``@mention`` normalisation, the choice of classes
to grow, and balancing by random over- and under-sampling. Making the copies and checking them is
:mod:`alexbench_augment.supply`; resampling copies are never augmented again.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from alexbench.interfaces import Post

#: What a user mention becomes while a text is augmented (protected as a stop word), then restored.
MENTION_PLACEHOLDER = "xxuser"
_MENTION = re.compile(r"@\w+")
# nlpaug's tokenizer splits "@xxuser" and joins the pieces back with a space.
_PLACEHOLDER = re.compile(r"@\s?" + MENTION_PLACEHOLDER, re.IGNORECASE)

GROW_CHOICES = "'minority' (classes smaller than the mean class size), 'all', 'none' or comma-separated labels"


def derived_seed(*parts: Any) -> int:
    """A 63-bit seed from any parts (the run seed, a name, a post id…), stable across processes."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


@contextmanager
def reseedable_globals() -> Iterator[Callable[[int], None]]:
    """Yield ``reseed(seed)``, which seeds Python's and NumPy's global generators (the ones nlpaug
    and TextAttack draw from); on exit, put back whatever state they had before.

    The states are saved and restored once per call, not once per post: NumPy's get_state +
    set_state costs ~50 µs, more than a fast nlpaug augmenter spends on a post, while a reseed
    costs ~4 µs. Each post is still generated from its own seed alone."""
    import numpy as np

    py_state, np_state = random.getstate(), np.random.get_state()

    def reseed(seed: int) -> None:
        random.seed(seed)
        np.random.seed(seed % 2**32)

    try:
        yield reseed
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


@dataclass(frozen=True)
class Normalised:
    text: str
    mentions: tuple[str, ...]
    had_amp: bool


def normalise(text: str) -> Normalised:
    """ALEX's pre-processing: ``&amp;`` → ``&``; each ``@name`` → a placeholder restored afterwards."""
    had_amp = "&amp;" in text
    text = text.replace("&amp;", "&")
    mentions = tuple(_MENTION.findall(text))
    return Normalised(_MENTION.sub("@" + MENTION_PLACEHOLDER, text), mentions, had_amp)


def restore(text: str, norm: Normalised) -> str | None:
    """Put the mentions back in order (None when the augmenter damaged a placeholder)."""
    if len(_PLACEHOLDER.findall(text)) != len(norm.mentions):
        return None
    names = iter(norm.mentions)
    text = _PLACEHOLDER.sub(lambda _: next(names), text)
    return text.replace("&", "&amp;") if norm.had_amp else text


def grow_labels(grow: str, counts: Counter[str], labels: Sequence[str]) -> list[str]:
    """Which classes to augment."""
    spec = grow.strip()
    if spec == "none":
        return []
    if spec == "all":
        return list(labels)
    if spec == "minority":
        present = [counts[label] for label in labels if counts.get(label, 0) > 0]
        mean = sum(present) / len(present) if present else 0
        return [label for label in labels if 0 < counts.get(label, 0) < mean]
    chosen = [part.strip() for part in spec.split(",") if part.strip()]
    unknown = [c for c in chosen if c not in labels]
    if unknown or not chosen:
        raise ValueError(f"grow={grow!r}: {unknown or 'empty'} not among the task's labels {list(labels)}; "
                         f"use {GROW_CHOICES}")
    return chosen


@dataclass(frozen=True)
class BalancePlan:
    """After growing: ``oversample_to`` (copies up to this fraction of the largest class, 0 = off),
    then ``balance``: ``ratio`` (cap each class at ``ratio`` × the smallest), ``count`` (cap each
    class at ``target_count``) or ``none``. ``prefer_originals`` keeps original posts first when a
    class is cut."""

    balance: str = "none"
    ratio: float = 1.0
    target_count: int = 0
    oversample_to: float = 0.0
    prefer_originals: bool = True

    def check(self) -> None:
        """The rule between parameters (each one's type and range is checked by the host)."""
        if self.balance == "count" and self.target_count < 1:
            raise ValueError("balance='count' needs target_count >= 1")


def rebalance(pools: dict[str, list[Post]], plan: BalancePlan, rng: random.Random, name: str,
              given: set[str] | None = None) -> tuple[dict[str, list[Post]], dict[str, Any]]:
    """Random over-sampling (verbatim copies, ``meta["copy"]``) then under-sampling, per class.

    With ``prefer_originals``, a class that is cut keeps its original rows first (the rows whose id
    is in ``given``, the rows the augmenter was given; without ``given``, rows with no
    ``source_id``), sampled with ``rng`` if even they are too many, then the first of its other
    rows: the caller passes those in a random order (generated rows in their seeded order, then the
    copies in the order they were drawn), so the first k are a uniform sample of k, and the rows
    that survive are known before they are made (see :mod:`alexbench_augment.supply`)."""
    report: dict[str, Any] = {"oversampled": {}, "undersampled": {}}
    sizes = {label: len(rows) for label, rows in pools.items() if rows}
    if not sizes:
        return pools, report
    out = {label: list(rows) for label, rows in pools.items()}
    if plan.oversample_to > 0:
        goal = math.ceil(plan.oversample_to * max(sizes.values()))
        for label, rows in out.items():
            if rows and len(rows) < goal:
                extra = goal - len(rows)
                picks = [rows[rng.randrange(len(rows))] for _ in range(extra)]
                copies = [p.replace(id=f"{p.id}#copy-{k + 1}", line=None, meta={
                    "source_id": p.meta.get("source_id", p.id), "copy_of": p.id, "augmenter": name, "copy": True})
                    for k, p in enumerate(picks)]
                out[label] = rows + copies
                report["oversampled"][label] = extra
    cap: int | None = None
    if plan.balance == "ratio":
        cap = math.ceil(plan.ratio * min(len(r) for r in out.values() if r))
    elif plan.balance == "count":
        cap = plan.target_count
    if cap is not None:
        for label, rows in out.items():
            if len(rows) > cap:
                if plan.prefer_originals:
                    is_original = ((lambda p: p.id in given) if given is not None
                                   else (lambda p: "source_id" not in p.meta))
                    originals = [p for p in rows if is_original(p)]
                    others = [p for p in rows if not is_original(p)]
                    if len(originals) >= cap:
                        keep_idx = set(rng.sample(range(len(originals)), cap))
                        kept = [p for i, p in enumerate(originals) if i in keep_idx]
                    else:
                        kept = originals + others[:cap - len(originals)]
                else:
                    keep_idx = set(rng.sample(range(len(rows)), cap))
                    kept = [p for i, p in enumerate(rows) if i in keep_idx]
                report["undersampled"][label] = len(rows) - len(kept)
                out[label] = kept
    return out, report


def summary_line(name: str, report: dict[str, Any]) -> str:
    """One log line (stored in provenance.json's "log") with the augmenter's own counts."""
    return f"augmenter {name}: " + json.dumps(report, sort_keys=True)
