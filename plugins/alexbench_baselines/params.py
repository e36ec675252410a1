"""Parameters of the TF-IDF classifier, in a module of their own: ``alexbench plugins`` reads them
from here without importing scikit-learn (the entry is registered with ``params=``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TfidfParams:
    C: float = 4.0
    max_ngram: int = 2
    min_df: int = 1
    max_features: int = 50000
    sublinear_tf: bool = True
    class_weight: str = "none"  # none | balanced
    max_iter: int = 2000

    def __post_init__(self) -> None:
        if self.class_weight not in ("none", "balanced"):
            raise ValueError(f"class_weight must be 'none' or 'balanced', got {self.class_weight!r}")
        if self.C <= 0 or self.max_ngram < 1 or self.min_df < 1:
            raise ValueError("C must be > 0, max_ngram and min_df >= 1")
