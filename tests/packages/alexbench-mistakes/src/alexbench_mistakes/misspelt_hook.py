"""Mistake: a hook name with a typo (singular 'classifier')."""

from alexbench import hookimpl


@hookimpl
def alexbench_register_classifier(registry):
    pass
