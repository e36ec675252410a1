"""Balanced-training losses and class weights.

``focal_loss`` is the multi-class focal loss of Lin et al. (2017),
FL = -alpha_y * (1 - p_y)^gamma * log p_y, normalised like ``torch.nn.functional.cross_entropy``
(by the sum of alpha_y over the batch), so that gamma = 0 gives exactly (weighted) cross-entropy
for any number of classes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from alexbench.errors import ParamError


def auto_class_weights(train_labels: Sequence[str], labels: Sequence[str]) -> list[float]:
    """Inverse-frequency weights N / (K * n_c) in label order; a label absent from train gets 1."""
    counts = Counter(train_labels)
    total, k = sum(counts.values()), len(labels)
    return [total / (k * counts[label]) if counts.get(label) else 1.0 for label in labels]


def resolve_class_weights(setting: Any, loss: str, train_labels: Sequence[str],
                          labels: Sequence[str], positive: str | None = None) -> list[float] | None:
    """The weights the loss will use (None: unweighted), checking a given list's length."""
    from .params import positive_weight

    if loss == "ce" or setting == "none":
        return None
    if setting == "auto":
        return auto_class_weights(train_labels, labels)
    if isinstance(setting, str):
        weight = positive_weight(setting)
        if positive is None:
            raise ParamError(f"classifier 'transformer': class_weights={setting!r} needs a task with a positive "
                             "label ([labels] positive); give one weight per label instead")
        return [weight if label == positive else 1.0 for label in labels]
    weights = [float(w) for w in setting]
    if len(weights) != len(labels):
        raise ParamError(f"classifier 'transformer': class_weights has {len(weights)} values but the task has "
                         f"{len(labels)} labels {list(labels)}; give one weight per label, in that order")
    return weights


def focal_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float,
               weight: torch.Tensor | None = None) -> torch.Tensor:
    """Multi-class focal loss over ``logits`` of shape (N, K) and integer ``target`` (N,)."""
    log_p = F.log_softmax(logits.float(), dim=-1).gather(1, target.unsqueeze(1)).squeeze(1)
    modulating = (1.0 - log_p.exp()).clamp(min=0.0).pow(gamma) if gamma != 0 else torch.ones_like(log_p)
    alpha = weight.to(log_p.dtype)[target] if weight is not None else torch.ones_like(log_p)
    return -(alpha * modulating * log_p).sum() / alpha.sum()


def make_loss(loss: str, weights: list[float] | None, gamma: float, device: Any):
    """A function (logits, target) -> scalar loss for the configured training objective."""
    weight = torch.tensor(weights, dtype=torch.float32, device=device) if weights is not None else None
    if loss == "focal":
        return lambda logits, target: focal_loss(logits, target, gamma, weight)
    return lambda logits, target: F.cross_entropy(logits.float(), target, weight=weight)
