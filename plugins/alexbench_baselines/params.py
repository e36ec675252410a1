"""Parameters of the TF-IDF classifier, in a module of their own: ``alexbench plugins`` reads them
from here without importing scikit-learn (the entry is registered with ``params=``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field

Positive = Annotated[int, Field(ge=1)]


@dataclass(frozen=True)
class TfidfParams:
    C: Annotated[float, Field(gt=0)] = 4.0
    max_ngram: Positive = 2
    min_df: Positive = 1
    max_features: Positive = 50000
    sublinear_tf: bool = True
    class_weight: Literal["none", "balanced"] = "none"
    max_iter: Positive = 2000
