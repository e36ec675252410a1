"""In-process plugins: components registered without an entry point (tests, notebooks, the kit)."""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from alexbench.interfaces import REGISTRAR_HOOKS
from alexbench.plugin.hookspecs import hookimpl

if TYPE_CHECKING:
    from alexbench.plugin.host import PluginHost


def inline_plugin(*classes: type) -> types.SimpleNamespace:
    """A plugin object registering the given component classes (augmenters, classifiers,
    explainers, renderers in any mix) — what a package's module would do with ``@hookimpl`` hooks."""
    by_hook: dict[str, list[type]] = {}
    for cls in classes:
        kind = getattr(cls, "kind", None)
        if kind not in REGISTRAR_HOOKS:
            raise TypeError(f"{cls!r} is not an alexbench Augmenter, Classifier, Explainer or Renderer subclass")
        by_hook.setdefault(REGISTRAR_HOOKS[kind], []).append(cls)

    def registrar(members: list[type]) -> Callable[[Any], None]:
        def register(registry: Any) -> None:
            for member in members:
                registry.add(member)
        return hookimpl(register)

    return types.SimpleNamespace(**{hook: registrar(members) for hook, members in by_hook.items()})


def named_plugins(plugins: Sequence[Any]) -> list[tuple[str, object]]:
    named: list[tuple[str, object]] = []
    for i, plugin in enumerate(plugins):
        if isinstance(plugin, tuple):
            named.append(plugin)
        elif inspect.isclass(plugin):
            named.append((f"inline-{getattr(plugin, 'name', plugin.__name__)}", inline_plugin(plugin)))
        else:
            named.append((getattr(plugin, "__name__", None) or f"inline-{i}", plugin))
    return named


def make_host(*plugins: Any, load_entrypoints: bool = True) -> PluginHost:
    """A real :class:`~alexbench.plugin.host.PluginHost` (installed plugins included unless
    ``load_entrypoints=False``) plus in-process plugins: component classes, plugin objects or
    ``(name, plugin)`` pairs. An invalid plugin raises :class:`~alexbench.errors.PluginError`."""
    from alexbench.plugin.host import PluginHost

    return PluginHost(load_entrypoints=load_entrypoints, trace=False, plugins=named_plugins(plugins))


# -- fixtures ---------------------------------------------------------------------------------

