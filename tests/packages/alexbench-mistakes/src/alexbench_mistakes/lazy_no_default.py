"""Mistake: a lazily registered class (no params= declared) whose Params lack a default: found
when the class is loaded, e.g. by `alexbench plugins`."""

from alexbench import hookimpl


@hookimpl
def alexbench_register_classifiers(registry):
    registry.add_lazy("lazy_no_default", "alexbench_mistakes.no_default_model:LazyNoDefault")
