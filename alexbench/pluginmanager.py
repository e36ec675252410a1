"""The plugin host: a typed façade over ``pluggy.PluginManager``.

Plugins come only from the ``alexbench`` entry-point group (built-ins included) or from
:meth:`PluginHost.register` (tests, notebooks). A plugin that fails to import, implements an
unknown hook, or raises inside a registrar is reported by name in :attr:`PluginHost.broken`
and left out; the rest keep working.

Environment switches:
``ALEXBENCH_DISABLE_PLUGINS=a,b`` blocks the named plugins before loading;
``ALEXBENCH_TRACE_PLUGINS=1`` writes every hook call to stderr.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pluggy

from . import hookspecs
from .errors import PluginError
from .interfaces import COMPONENT_KINDS, Component
from .registry import Registry

GROUP = hookspecs.PROJECT
DISABLE_ENV = "ALEXBENCH_DISABLE_PLUGINS"
TRACE_ENV = "ALEXBENCH_TRACE_PLUGINS"
TASK_PATH_ENV = "ALEXBENCH_TASK_PATH"


@dataclass(frozen=True)
class PluginInfo:
    name: str
    distribution: str | None
    version: str | None
    module: str


@dataclass(frozen=True)
class BrokenPlugin:
    name: str
    distribution: str | None
    error: str


def _env_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _validate_component(kind: str) -> Callable[[str, Any], None]:
    base = COMPONENT_KINDS[kind]

    def validate(name: str, target: Any) -> None:
        if not (inspect.isclass(target) and issubclass(target, base)):
            raise PluginError(f"{kind} {name!r}: {target!r} is not a subclass of alexbench.interfaces.{base.__name__}")
        for attr in ("name", "version"):
            if not isinstance(getattr(target, attr, None), str):
                raise PluginError(f"{kind} {name!r}: class {target.__name__} must set a string {attr!r}")
        if target.name != name:
            raise PluginError(f"{kind} registered as {name!r} but its class says name={target.name!r}")

    return validate


class PluginHost:
    """Loads plugins, builds the registries, and answers the host's questions about them."""

    def __init__(
        self,
        *,
        load_entrypoints: bool = True,
        disabled: Iterable[str] | None = None,
        trace: bool | None = None,
        plugins: Iterable[tuple[str, object]] = (),
    ) -> None:
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self._broken: list[BrokenPlugin] = []
        self.disabled = list(disabled) if disabled is not None else _env_list(os.environ.get(DISABLE_ENV))
        for name in self.disabled:
            self.pm.set_blocked(name)
        self.trace = bool(os.environ.get(TRACE_ENV)) if trace is None else trace
        if self.trace:
            self.pm.trace.root.setwriter(sys.stderr.write)
            self.pm.enable_tracing()
        if load_entrypoints:
            self._load_entrypoints()
        for name, plugin in plugins:
            self.register(plugin, name)

    # -- loading -----------------------------------------------------------------------------
    def _entrypoints(self) -> Iterator[tuple[importlib.metadata.EntryPoint, str]]:
        seen: set[str] = set()
        for dist in importlib.metadata.distributions():
            for ep in dist.entry_points:
                if ep.group == GROUP and ep.name not in seen:
                    seen.add(ep.name)
                    yield ep, dist.metadata["Name"]

    def _load_entrypoints(self) -> None:
        for ep, dist_name in self._entrypoints():
            if self.pm.is_blocked(ep.name) or self.pm.get_plugin(ep.name) is not None:
                continue
            try:
                self.pm.load_setuptools_entrypoints(GROUP, name=ep.name)
            except Exception as exc:  # a third-party import error must not break the host
                self._drop(ep.name, dist_name, f"could not be loaded from {ep.value!r}: {type(exc).__name__}: {exc}")
        self._check_unknown_hooks()

    def register(self, plugin: object, name: str | None = None) -> str:
        """Register a plugin object in-process; raises :class:`PluginError` if it is invalid."""
        name = name or getattr(plugin, "__name__", None) or repr(plugin)
        try:
            registered = self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            self._unregister_quietly(name)
            raise PluginError(f"plugin {name!r} is invalid: {exc}") from exc
        if registered is None:
            raise PluginError(f"plugin {name!r} is blocked or already registered")
        self._check_unknown_hooks(raise_for=name)
        self.__dict__.pop("_registries", None)
        return registered

    def _check_unknown_hooks(self, raise_for: str | None = None) -> None:
        """pluggy's check_pending, per plugin: a misspelt hook name makes that plugin broken."""
        for hook_name in list(vars(self.pm.hook)):
            if not hook_name.startswith("alexbench_") or hook_name in hookspecs.__dict__:
                continue
            caller = getattr(self.pm.hook, hook_name)
            if caller.has_spec():
                continue
            for impl in caller.get_hookimpls():
                message = f"implements unknown hook {hook_name!r} (known: {', '.join(self.hook_names())})"
                if impl.plugin_name == raise_for:
                    self._unregister_quietly(impl.plugin_name)
                    raise PluginError(f"plugin {impl.plugin_name!r} {message}")
                self._drop(impl.plugin_name, self._dist_of(impl.plugin), message)
        self.pm.check_pending()

    def _drop(self, name: str, distribution: str | None, message: str) -> None:
        self._unregister_quietly(name)
        self._broken.append(BrokenPlugin(name, distribution, message))

    def _unregister_quietly(self, name: str) -> None:
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(name=name)

    # -- introspection ----------------------------------------------------------------------
    @property
    def broken(self) -> list[BrokenPlugin]:
        """Plugins left out: import errors, unknown hooks, and registrars that raised (which
        is why reading this builds the registries)."""
        self._registries  # noqa: B018
        return list(self._broken)

    @staticmethod
    def hook_names() -> list[str]:
        return sorted(name for name in vars(hookspecs) if name.startswith("alexbench_"))

    def _dist_of(self, plugin: object) -> str | None:
        for plug, dist in self.pm.list_plugin_distinfo():
            if plug is plugin:
                return dist.project_name
        return None

    def plugins(self) -> list[PluginInfo]:
        dists = {id(plugin): dist for plugin, dist in self.pm.list_plugin_distinfo()}
        infos = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:  # pluggy keeps blocked names with no plugin
                continue
            dist = dists.get(id(plugin))
            module = getattr(plugin, "__name__", type(plugin).__module__)
            infos.append(PluginInfo(name, dist.project_name if dist else None, dist.version if dist else None, module))
        return sorted(infos, key=lambda info: info.name)

    # -- hook calls -------------------------------------------------------------------------
    def _call_one(self, hook_name: str, impl: Any, **kwargs: Any) -> Any:
        """Call one plugin's implementation, so each result and error is attributed to it."""
        if self.trace:
            sys.stderr.write(f"alexbench: {hook_name} -> plugin {impl.plugin_name}\n")
        try:
            return impl.function(**kwargs)
        except Exception as exc:
            raise PluginError(
                f"plugin {impl.plugin_name!r} raised in {hook_name}: {type(exc).__name__}: {exc}"
            ) from exc

    def _fill(self, registry: Registry[Any], hook_name: str) -> None:
        """Run a registrar hook plugin by plugin (registration order); a plugin that raises is
        reported in :attr:`broken` and its entries are withdrawn, the others stay."""
        caller = getattr(self.pm.hook, hook_name)
        for impl in caller.get_hookimpls():  # registration order
            registry.current_plugin = impl.plugin_name
            try:
                self._call_one(hook_name, impl, registry=registry)
            except PluginError as exc:
                registry.discard_plugin(impl.plugin_name)
                self._broken.append(BrokenPlugin(impl.plugin_name, self._dist_of(impl.plugin), str(exc)))
        registry.current_plugin = None

    @cached_property
    def _registries(self) -> dict[str, Registry[Any]]:
        from .metrics import Metric

        def validate_metric(name: str, target: Any) -> None:
            if not isinstance(target, Metric):
                raise PluginError(f"metric {name!r}: {target!r} is not an alexbench.metrics.Metric")

        registries: dict[str, Registry[Any]] = {
            kind: Registry(kind, _validate_component(kind)) for kind in COMPONENT_KINDS
        }
        registries["metric"] = Registry("metric", validate_metric)
        for kind, hook_name in (
            ("augmenter", "alexbench_register_augmenters"),
            ("classifier", "alexbench_register_classifiers"),
            ("explainer", "alexbench_register_explainers"),
            ("metric", "alexbench_register_metrics"),
        ):
            self._fill(registries[kind], hook_name)
        return registries

    @property
    def augmenters(self) -> Registry[Any]:
        return self._registries["augmenter"]

    @property
    def classifiers(self) -> Registry[Any]:
        return self._registries["classifier"]

    @property
    def explainers(self) -> Registry[Any]:
        return self._registries["explainer"]

    @property
    def metrics(self) -> Registry[Any]:
        return self._registries["metric"]

    def registry(self, kind: str) -> Registry[Any]:
        return self._registries[kind]

    def component_class(self, kind: str, name: str) -> type[Component]:
        """Load (importing lazily registered classes now) and validate one component class."""
        registry = self.registry(kind)
        entry = registry.entry(name)
        cls = entry.load()
        _validate_component(kind)(name, cls)
        return cls

    def build(self, kind: str, name: str, params: dict[str, Any] | None = None) -> Component:
        return self.component_class(kind, name).from_params(params)

    def task_dirs(self) -> list[Path]:
        """Folders from ``ALEXBENCH_TASK_PATH`` first, then from plugins, de-duplicated."""
        dirs = [Path(p) for p in os.environ.get(TASK_PATH_ENV, "").split(os.pathsep) if p]
        caller = self.pm.hook.alexbench_task_dirs
        for impl in caller.get_hookimpls():  # registration order
            dirs.extend(Path(p) for p in (self._call_one("alexbench_task_dirs", impl) or []))
        unique: list[Path] = []
        for d in dirs:
            resolved = d.resolve()
            if resolved not in unique:
                unique.append(resolved)
        return unique
