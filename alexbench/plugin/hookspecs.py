"""The hooks a plugin may implement. Each is documented in docs/hooks.md and exercised by a test.

A plugin is a module (or object) registered under the ``alexbench`` entry-point group and
implementing any of these with ``@alexbench.hookimpl``. Built-in plugins use exactly the same
path. Registrar hooks receive a :class:`~alexbench.plugin.registry.Registry` and call ``add`` or
``add_lazy`` on it; they return nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from alexbench.interfaces import Augmenter, Classifier, Explainer
    from alexbench.plugin.registry import Registry
    from alexbench.scoring.metrics import Metric

PROJECT = "alexbench"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def alexbench_register_augmenters(registry: Registry[type[Augmenter]]) -> None:
    """Register augmenter classes (subclasses of :class:`alexbench.interfaces.Augmenter`).

    ``registry.add(MyAugmenter)`` or ``registry.add_lazy("name", "pkg.module:MyAugmenter",
    params="pkg.params:MyParams", version="1.0")`` (the last two let ``alexbench plugins`` list it
    without importing ``pkg.module``). Augmenters see the train split only and must be
    deterministic under the context's seed; the host checks their labels and sources on every run.
    """


@hookspec
def alexbench_register_classifiers(registry: Registry[type[Classifier]]) -> None:
    """Register classifier classes (subclasses of :class:`alexbench.interfaces.Classifier`)."""


@hookspec
def alexbench_register_explainers(registry: Registry[type[Explainer]]) -> None:
    """Register explainer classes (subclasses of :class:`alexbench.interfaces.Explainer`)."""


@hookspec
def alexbench_register_metrics(registry: Registry[Metric]) -> None:
    """Register extra scalar metrics (:class:`alexbench.scoring.metrics.Metric`) that task files may name
    as their official metric and that every run then reports."""


@hookspec
def alexbench_task_dirs() -> list[str | Path]:
    """Return folders holding task definition files (``*.toml`` with a ``[task]`` table) and
    variant files (``*.toml`` with a ``[variants]`` table). Results of all plugins are merged."""


@hookspec
def alexbench_register_commands(cli: click.Group) -> None:
    """Add subcommands to the ``alexbench`` command line (datasette's ``register_commands``)."""
