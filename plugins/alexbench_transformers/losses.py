"""Balanced-training losses and class weights.

``focal_loss`` is the multi-class focal loss of Lin et al. (2017),
FL = -alpha_y * (1 - p_y)^gamma * log p_y, normalised like ``torch.nn.functional.cross_entropy``
(by the sum of alpha_y over the batch), so that gamma = 0 gives exactly (weighted) cross-entropy
for any number of classes.

On a multi-label task each label is its own yes/no decision: ``binary_focal_loss`` (sigmoid
focal loss per label) and binary cross-entropy with a per-label ``pos_weight``
(:func:`label_pos_weights`).
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


def label_pos_weights(setting: Any, loss: str, counts: Sequence[int], n: int,
                      labels: Sequence[str]) -> tuple[list[float] | None, list[str]]:
    """Multi-label: the per-label ``pos_weight`` the loss will use (None: unweighted), and the
    labels whose ``"auto"`` weight fell back to 1 (no positive, or no negative, post in train).

    ``"auto"`` is the balanced variant, negatives_j / positives_j over the ``n`` train posts
    (``counts[j]`` of them carry label j); a list gives one pos_weight per label (its length is
    checked); ``"positive:W"`` is refused (a multi-label task has no positive label), whatever the
    loss, since the setting cannot mean what its author wanted."""
    from .params import positive_weight

    if isinstance(setting, str) and positive_weight(setting) is not None:
        raise ParamError(f"classifier 'transformer': parameter 'class_weights' = {setting!r} weights the task's "
                         "positive label, and a multi-label task has none (each label is its own yes/no decision); "
                         "give 'auto' (pos_weight = negatives / positives of each label in train), 'none', or a "
                         f"list with one pos_weight per label {list(labels)}")
    if loss == "ce" or setting == "none":
        return None, []
    if setting == "auto":
        fallback = [label for label, c in zip(labels, counts) if c == 0 or c == n]
        return [(n - c) / c if 0 < c < n else 1.0 for c in counts], fallback
    weights = [float(w) for w in setting]
    if len(weights) != len(labels):
        raise ParamError(f"classifier 'transformer': class_weights has {len(weights)} values but the task has "
                         f"{len(labels)} labels {list(labels)}; give one pos_weight per label, in that order")
    return weights, []


def binary_focal_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float,
                      pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    """Sigmoid focal loss per label (Lin et al. 2017) over ``logits`` and a 0/1 ``target``, both (N, K).

    With p = sigmoid(logit) and w_j the label's pos_weight (1 when unweighted):

        FL = mean over i, j of -[w_j * y_ij * (1 - p_ij)^gamma * log p_ij
                                 + (1 - y_ij) * p_ij^gamma * log(1 - p_ij)]

    This is Lin et al.'s alpha-balanced form with alpha_j = w_j / (1 + w_j), scaled by (1 + w_j),
    so that gamma = 0 gives exactly ``torch.nn.BCEWithLogitsLoss(pos_weight=w)`` (mean reduction).
    """
    x, y = logits.float(), target.float()
    log_p, log_not_p = F.logsigmoid(x), F.logsigmoid(-x)
    if gamma != 0:
        p = torch.sigmoid(x)
        pos_mod, neg_mod = (1.0 - p).clamp(min=0.0).pow(gamma), p.pow(gamma)
    else:
        pos_mod = neg_mod = torch.ones_like(x)
    positive = y * pos_mod * log_p
    if pos_weight is not None:
        positive = positive * pos_weight.to(x.dtype)
    return -(positive + (1.0 - y) * neg_mod * log_not_p).mean()


def make_loss(loss: str, weights: list[float] | None, gamma: float, device: Any, multi_label: bool = False):
    """A function (logits, target) -> scalar loss for the configured training objective. On a
    multi-label task ``weights`` are per-label pos_weights and ``target`` is a 0/1 float matrix."""
    weight = torch.tensor(weights, dtype=torch.float32, device=device) if weights is not None else None
    if multi_label:
        if loss == "focal":
            return lambda logits, target: binary_focal_loss(logits, target, gamma, weight)
        return lambda logits, target: F.binary_cross_entropy_with_logits(logits.float(), target, pos_weight=weight)
    if loss == "focal":
        return lambda logits, target: focal_loss(logits, target, gamma, weight)
    return lambda logits, target: F.cross_entropy(logits.float(), target, weight=weight)
