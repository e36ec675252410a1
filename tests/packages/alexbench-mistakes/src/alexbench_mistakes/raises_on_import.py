"""Mistake: the module raises while it is imported."""

from alexbench import hookimpl

SETTINGS = {"C": 1.0}
DEFAULT_C = SETTINGS["c"]  # KeyError: the key is "C"


@hookimpl
def alexbench_register_classifiers(registry):
    pass
