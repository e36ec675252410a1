"""The components' parameters: dataclasses only, so that listing plugins imports nothing heavy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class SvmParams:
    """C: inverse regularisation; loss: LinearSVC's loss; class_weight: "balanced" weighs classes
    by inverse frequency; max_ngram: word n-grams 1..max_ngram; max_features: vocabulary cap."""

    C: float = 1.0
    loss: Literal["hinge", "squared_hinge"] = "squared_hinge"
    class_weight: Literal["none", "balanced"] = "balanced"
    max_ngram: int = 2
    max_features: int | None = None

    def __post_init__(self) -> None:
        if self.C <= 0:
            raise ValueError(f"C must be > 0, got {self.C}")
        if self.max_ngram < 1:
            raise ValueError(f"max_ngram must be >= 1, got {self.max_ngram}")
        if self.max_features is not None and self.max_features < 1:
            raise ValueError(f"max_features must be >= 1 (or left out), got {self.max_features}")


@dataclass(frozen=True)
class ShuffleParams:
    """copies: shuffled copies per post; grow: "minority" (classes smaller than the largest) or
    "all"; min_sentences: posts with fewer distinct sentences are left alone."""

    copies: int = 1
    grow: Literal["minority", "all"] = "minority"
    min_sentences: int = 2

    def __post_init__(self) -> None:
        if self.copies < 0:
            raise ValueError(f"copies must be >= 0, got {self.copies}")
        if self.min_sentences < 2:
            raise ValueError(f"min_sentences must be >= 2 (one sentence cannot be shuffled), got {self.min_sentences}")
