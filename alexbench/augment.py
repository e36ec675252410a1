"""Applying an augmenter chain to the train split, with the host's guarantees.

The host (not each plugin) enforces: labels stay in the task's label set; generated rows name
their source post; generated rows that repeat a (text, label) already kept, or whose text
appears in dev or test, are dropped and counted (resampling copies, ``meta["copy"] = True``,
repeat texts on purpose and are kept); each step's output is cached by
(augmenter name, version, params, seed, input fingerprint).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .data import posts_fingerprint
from .errors import PluginError
from .fsio import atomic_write_jsonl, read_jsonl, sha256_obj
from .interfaces import Augmenter, Context, Post


@dataclass
class AugmentReport:
    before: dict[str, int]
    after: dict[str, int] = field(default_factory=dict)
    generated: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"before": self.before, "after": self.after, "generated": self.generated,
                "dropped": self.dropped, "steps": self.steps}


def _counts(posts: Sequence[Post]) -> dict[str, int]:
    return dict(sorted(Counter(str(p.label) for p in posts).items()))


def _to_row(post: Post) -> dict[str, Any]:
    return {"id": post.id, "text": post.text, "label": post.label, "extra": dict(post.extra), "meta": dict(post.meta)}


def _from_row(row: dict[str, Any]) -> Post:
    return Post(row["id"], row["text"], row["label"], row["extra"], row["meta"])


def _check(augmenter: Augmenter, rows: Sequence[Post], labels: set[str], known_ids: set[str]) -> None:
    for row in rows:
        if not isinstance(row, Post):
            raise PluginError(f"augmenter {augmenter.name!r} returned {type(row).__name__}, not Post")
        if row.label not in labels:
            raise PluginError(f"augmenter {augmenter.name!r} produced label {row.label!r}, not one of {sorted(labels)}")
        if row.id not in known_ids and "source_id" not in row.meta:
            raise PluginError(f"augmenter {augmenter.name!r} generated row {row.id!r} without meta['source_id']")


def apply_chain(
    augmenters: Sequence[Augmenter],
    train: Sequence[Post],
    held_out_texts: set[str],
    ctx: Context,
    cache_dir: Path | None,
) -> tuple[list[Post], AugmentReport]:
    report = AugmentReport(before=_counts(train))
    current = list(train)
    labels = set(ctx.task.labels)
    for augmenter in augmenters:
        key = sha256_obj({"augmenter": augmenter.describe(), "seed": ctx.seed,
                          "input": posts_fingerprint(current), "task": ctx.task.name})
        cache_file = cache_dir / "augment" / f"{key}.jsonl" if cache_dir else None
        cached = cache_file is not None and cache_file.is_file()
        if cached:
            out = [_from_row(r) for r in read_jsonl(cache_file)]
        else:
            out = list(augmenter.augment(list(current), ctx))
            _check(augmenter, out, labels, {p.id for p in current})
            if cache_file is not None:
                atomic_write_jsonl(cache_file, [_to_row(p) for p in out])
        known_ids = {p.id for p in current}
        report.generated += sum(1 for p in out if p.id not in known_ids)
        report.steps.append({"augmenter": augmenter.describe(), "cache_key": key, "cached": cached,
                             "rows_in": len(current), "rows_out": len(out), "counts_out": _counts(out)})
        current = out
    if augmenters:
        kept: list[Post] = []
        seen: set[tuple[str, str | None]] = set()
        dropped: Counter[str] = Counter()
        original_ids = {p.id for p in train}
        for post in current:
            # Resampling copies (meta["copy"]) repeat a text on purpose and are never de-duplicated.
            generated = post.id not in original_ids and not post.meta.get("copy")
            if generated and post.text in held_out_texts:
                dropped["same_text_as_dev_or_test"] += 1
                continue
            key2 = (post.text, post.label)
            if key2 in seen and generated:
                dropped["exact_duplicate"] += 1
                continue
            seen.add(key2)
            kept.append(post)
        report.dropped = dict(sorted(dropped.items()))
        current = kept
    report.after = _counts(current)
    return current, report
