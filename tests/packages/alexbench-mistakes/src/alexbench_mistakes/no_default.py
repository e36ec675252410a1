"""Mistake: a Params field without a default."""

from dataclasses import dataclass

from alexbench import hookimpl

from .majority import Majority


@dataclass(frozen=True)
class SvmParams:
    C: float
    max_iter: int = 1000


class NoDefault(Majority):
    name = "svm_no_default"
    Params = SvmParams


@hookimpl
def alexbench_register_classifiers(registry):
    registry.add(NoDefault)
