"""Mistake: Params defaults of the wrong type (they would fail later, inside scikit-learn)."""

from dataclasses import dataclass

from alexbench import hookimpl

from .majority import Majority


@dataclass(frozen=True)
class SvmParams:
    C: float = "1.0"
    fit_intercept: bool = 1


class BadDefaults(Majority):
    name = "svm_bad_defaults"
    Params = SvmParams


@hookimpl
def alexbench_register_classifiers(registry):
    registry.add(BadDefaults)
