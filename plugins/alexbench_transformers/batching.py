"""From posts to padded tensors: tokenisation (with an optional text pair), dynamic padding,
seeded training order, and length-sorted inference batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from alexbench.config.tasks import TaskSpec
from alexbench.errors import ParamError
from alexbench.interfaces import Post

PAD_KEYS = ("input_ids", "attention_mask", "token_type_ids")


def pair_keys(setting: str, task: TaskSpec) -> tuple[str, ...]:
    """The extra columns fed as the second segment: all of the task's (``auto``), none, or one."""
    if setting == "none":
        return ()
    if setting == "auto":
        return tuple(task.extra_keys)
    if setting not in task.extra_keys:
        raise ParamError(f"classifier 'transformer': text_pair {setting!r} is not an extra column of task "
                         f"{task.name!r} (extra columns: {list(task.extra_keys) or 'none'}); use auto, none or one of them")
    return (setting,)


def pair_text(post: Post, keys: Sequence[str]) -> str:
    return " ; ".join(post.extra.get(key, "") for key in keys)


@dataclass(frozen=True)
class Encoded:
    """Token ids (unpadded) of a list of posts, in input order."""

    features: list[dict[str, list[int]]]

    def __len__(self) -> int:
        return len(self.features)

    def lengths(self) -> list[int]:
        return [len(f["input_ids"]) for f in self.features]


def encode(tokenizer: Any, posts: Sequence[Post], keys: Sequence[str], max_length: int) -> Encoded:
    """Tokenise in one call (fast tokenizers batch internally); truncate, do not pad."""
    if not posts:
        return Encoded([])
    texts = [p.text for p in posts]
    pairs = [pair_text(p, keys) for p in posts] if keys else None
    enc = tokenizer(texts, pairs, truncation=True, max_length=max_length, padding=False)
    names = [k for k in PAD_KEYS if k in enc]
    return Encoded([{k: enc[k][i] for k in names} for i in range(len(posts))])


def collate(features: Sequence[dict[str, list[int]]], pad_id: int, left: bool = False) -> dict[str, torch.Tensor]:
    """Pad a batch to its longest member (dynamic padding)."""
    width = max(len(f["input_ids"]) for f in features)
    out: dict[str, torch.Tensor] = {}
    for key in features[0]:
        fill = pad_id if key == "input_ids" else 0
        tensor = torch.full((len(features), width), fill, dtype=torch.long)
        for row, f in enumerate(features):
            values = torch.tensor(f[key], dtype=torch.long)
            if left:
                tensor[row, width - len(values):] = values
            else:
                tensor[row, : len(values)] = values
        out[key] = tensor
    return out


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length (longest first): little padding."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return [order[i: i + batch_size] for i in range(0, len(order), batch_size)]


def training_order(n: int, batch_size: int, generator: torch.Generator,
                   sample_weights: Sequence[float] | None = None) -> list[list[int]]:
    """One epoch of batches: a seeded shuffle, or class-balanced sampling with replacement."""
    if sample_weights is None:
        order = torch.randperm(n, generator=generator).tolist()
    else:
        weights = torch.tensor(sample_weights, dtype=torch.double)
        order = torch.multinomial(weights, n, replacement=True, generator=generator).tolist()
    return [order[i: i + batch_size] for i in range(0, n, batch_size)]
