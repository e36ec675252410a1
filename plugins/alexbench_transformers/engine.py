"""The training and inference loops (plain torch), kept free of alexbench plumbing so that the
benchmarks can time exactly what the classifier runs."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from .batching import Encoded, collate, length_sorted_batches
from .runtime import autocast

Track = Callable[[Iterable[Any], str, int | None], Iterator[Any]]


def no_track(items: Iterable[Any], description: str, total: int | None = None) -> Iterator[Any]:
    yield from items


def predict_probs(model: Any, encoded: Encoded, *, batch_size: int, device: str, pad_id: int,
                  amp_dtype: torch.dtype | None = None, left_pad: bool = False,
                  track: Track = no_track, description: str = "predicting", multi_label: bool = False) -> torch.Tensor:
    """Class probabilities (N, K) in input order, from length-sorted, dynamically padded batches:
    a softmax over the classes, or (``multi_label``) a sigmoid per label."""
    n = len(encoded)
    num_labels = model.config.num_labels
    out = torch.empty((n, num_labels), dtype=torch.float32)
    if n == 0:
        return out
    batches = length_sorted_batches(encoded.lengths(), batch_size)
    model.eval()
    with torch.inference_mode():
        for indices in track(batches, description, len(batches)):
            batch = collate([encoded.features[i] for i in indices], pad_id, left_pad)
            batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
            with autocast(device, amp_dtype):
                logits = model(**batch).logits
            scores = torch.sigmoid(logits.float()) if multi_label else torch.softmax(logits.float(), dim=-1)
            out[torch.tensor(indices)] = scores.cpu()
    return out


@dataclass
class Optimisation:
    """Optimizer, schedule and (fp16) gradient scaler for a run of ``total_steps`` updates."""

    optimizer: torch.optim.Optimizer
    scheduler: Any
    scaler: Any | None
    grad_accum: int
    max_grad_norm: float


def make_optimisation(model: Any, *, lr: float, weight_decay: float, warmup: float, total_steps: int,
                      grad_accum: int, max_grad_norm: float, amp_dtype: torch.dtype | None) -> Optimisation:
    """AdamW without decay on biases and LayerNorm weights; linear warm-up then linear decay."""
    from transformers import get_linear_schedule_with_warmup

    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        (no_decay if param.ndim < 2 or "LayerNorm" in name or "layer_norm" in name else decay).append(param)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=lr)
    scheduler = get_linear_schedule_with_warmup(optimizer, math.floor(warmup * total_steps), max(1, total_steps))
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None
    return Optimisation(optimizer, scheduler, scaler, grad_accum, max_grad_norm)


def updates_per_epoch(n_batches: int, grad_accum: int) -> int:
    return math.ceil(n_batches / grad_accum)


def train_epoch(model: Any, encoded: Encoded, targets: torch.Tensor, batches: Sequence[Sequence[int]], *,
                opt: Optimisation, loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], device: str,
                pad_id: int, amp_dtype: torch.dtype | None = None, left_pad: bool = False,
                track: Track = no_track, description: str = "training") -> float:
    """One pass over ``batches`` (lists of row indices); returns the mean training loss.
    ``targets`` holds one row per post: a class index (long, single-label) or a 0/1 float row
    per label (multi-label); ``loss_fn`` takes a batch's logits and its rows of ``targets``."""
    model.train()
    total, count = 0.0, 0
    opt.optimizer.zero_grad(set_to_none=True)
    for step, indices in enumerate(track(batches, description, len(batches)), start=1):
        batch = collate([encoded.features[i] for i in indices], pad_id, left_pad)
        batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
        target = targets[torch.tensor(list(indices))].to(device)
        with autocast(device, amp_dtype):
            logits = model(**batch).logits
        loss = loss_fn(logits, target)
        scaled = loss / opt.grad_accum
        (opt.scaler.scale(scaled) if opt.scaler is not None else scaled).backward()
        total, count = total + float(loss.detach()), count + 1
        if step % opt.grad_accum == 0 or step == len(batches):
            _update(model, opt)
    return total / max(1, count)


def _update(model: Any, opt: Optimisation) -> None:
    if opt.scaler is not None:
        opt.scaler.unscale_(opt.optimizer)
    if opt.max_grad_norm > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), opt.max_grad_norm)
    if opt.scaler is not None:
        opt.scaler.step(opt.optimizer)
        opt.scaler.update()
    else:
        opt.optimizer.step()
    opt.scheduler.step()
    opt.optimizer.zero_grad(set_to_none=True)
