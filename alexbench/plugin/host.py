"""The plugin host: a typed façade over ``pluggy.PluginManager``.

Plugins come only from the ``alexbench`` entry-point group (built-ins included) or from
:meth:`PluginHost.register` (tests, notebooks). A plugin that fails to import, implements an
unknown hook (or a hook without ``@hookimpl``), raises inside a registrar, or registers a
component whose ``Params`` break the rules (:func:`alexbench.config.params.check_params_class`) is
reported by name in :attr:`PluginHost.broken`, with the file and line at fault and the
traceback, and left out; the rest keep working, and a lookup of an unknown name says which
plugins were left out and why.

Environment switches:
``ALEXBENCH_DISABLE_PLUGINS=a,b`` blocks the named plugins before loading;
``ALEXBENCH_TRACE_PLUGINS=1`` writes every hook call to stderr (``alexbench: <hook> -> plugin
<name>``, one line per plugin called), and the CLI then prints the traceback of each broken plugin.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, overload

import pluggy

from alexbench.config.params import check_params_class
from alexbench.errors import PluginError, did_you_mean
from alexbench.faults import BrokenPlugin, PluginInfo, broken_plugin, defined_at
from alexbench.interfaces import COMPONENT_KINDS, REGISTRAR_HOOKS, Augmenter, Classifier, Component, Explainer, Metric
from alexbench.plugin import hookspecs
from alexbench.plugin.registry import Registry
from alexbench.renderer import Renderer, check_renderer

GROUP = hookspecs.PROJECT
DISABLE_ENV = "ALEXBENCH_DISABLE_PLUGINS"
TRACE_ENV = "ALEXBENCH_TRACE_PLUGINS"
TASK_PATH_ENV = "ALEXBENCH_TASK_PATH"


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', repr(obj))}"


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
        check_params_class(f"{kind} {name!r}", target.Params)

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
        # The host calls each plugin's implementation itself (_call_one), never through
        # pm.hook, so pluggy's own tracing would see nothing: _call_one writes the trace.
        self.trace = bool(os.environ.get(TRACE_ENV)) if trace is None else trace
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
                self._mark_broken(ep.name, dist_name,
                                  f"could not be loaded from {ep.value!r}: {type(exc).__name__}: {exc}", exc)
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
        for cached in ("_registries", "_commands"):
            self.__dict__.pop(cached, None)
        return registered

    def _check_unknown_hooks(self, raise_for: str | None = None) -> None:
        """pluggy's check_pending, per plugin: a misspelt hook name, or a hook function without
        ``@hookimpl`` (which pluggy would silently ignore), makes that plugin broken."""
        problems: list[tuple[str, object, str, str | None]] = []
        for hook_name in list(vars(self.pm.hook)):
            if not hook_name.startswith("alexbench_") or hook_name in hookspecs.__dict__:
                continue
            caller = getattr(self.pm.hook, hook_name)
            if caller.has_spec():
                continue
            for impl in caller.get_hookimpls():
                problems.append((impl.plugin_name, impl.plugin,
                                 f"implements unknown hook {hook_name!r}.{did_you_mean(hook_name, self.hook_names())} "
                                 f"Known: {', '.join(self.hook_names())}", defined_at(impl.function)))
        for name, plugin in self.pm.list_name_plugin():
            for hook_name in self.hook_names() if plugin is not None else ():
                function = getattr(plugin, hook_name, None)
                if callable(function) and not hasattr(function, f"{GROUP}_impl"):
                    problems.append((name, plugin, f"defines {hook_name} without @alexbench.hookimpl, so it would "
                                     "never be called; decorate it", defined_at(function)))
        for name, plugin, message, where in problems:
            if self.pm.get_plugin(name) is None:
                continue  # already dropped for an earlier problem
            if name == raise_for:
                self._unregister_quietly(name)
                raise PluginError(f"plugin {name!r} {message}" + (f" (at {where})" if where else ""))
            self._mark_broken(name, self._dist_of(plugin), message, where=where)
        self.pm.check_pending()

    def _mark_broken(self, name: str, distribution: str | None, message: str | None = None,
                     exc: BaseException | None = None, where: str | None = None, *, unregister: bool = True) -> None:
        """The one way a plugin is left out: recorded in :attr:`broken` with why (``message``, by
        default the error's, without its ``plugin 'name': `` prefix since the record names the
        plugin) and where, and unregistered unless ``unregister`` is False (a registrar that failed
        while its hook is still being called: the caller withdraws what it registered)."""
        if unregister:
            self._unregister_quietly(name)
        if message is None:
            message = str(exc).removeprefix(f"plugin {name!r}: ")
        self._broken.append(broken_plugin(name, distribution, message, exc, where))

    def _unregister_quietly(self, name: str) -> None:
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(name=name)

    # -- introspection ----------------------------------------------------------------------
    @property
    def broken(self) -> list[BrokenPlugin]:
        """Plugins left out: import errors, unknown hooks, and registrars (commands included)
        that raised (which is why reading this builds the registries and collects the commands)."""
        self._registries  # noqa: B018
        self._commands  # noqa: B018
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
        except PluginError as exc:  # the host refused what the plugin registered: the message says why
            raise PluginError(f"plugin {impl.plugin_name!r}: {exc}") from exc
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
                self._mark_broken(impl.plugin_name, self._dist_of(impl.plugin), exc=exc, unregister=False)
        registry.current_plugin = None

    @cached_property
    def _registries(self) -> dict[str, Registry[Any]]:
        def validate_metric(name: str, target: Any) -> None:
            if not isinstance(target, Metric):
                raise PluginError(f"metric {name!r}: {target!r} is not an alexbench.interfaces.Metric")

        registries: dict[str, Registry[Any]] = {
            kind: Registry(kind, _validate_component(kind), check_params_class) for kind in COMPONENT_KINDS
        }
        registries["metric"] = Registry("metric", validate_metric)
        registries["renderer"] = Registry("renderer", check_renderer)
        for kind, hook_name in REGISTRAR_HOOKS.items():
            self._fill(registries[kind], hook_name)
            registries[kind].unknown_note = self.left_out_note
        return registries

    def left_out_note(self, name: str | None = None) -> str:
        """For an unknown-name error: the plugins that were left out (a name someone expects
        may be registered by one of them), with the reason for those whose error names ``name``
        (or for all, without a name), and those disabled by the environment."""
        named = [b for b in self._broken if name is None or repr(name) in b.error]
        others = [b.name for b in self._broken if b not in named]
        parts = [f"plugin {b.name!r} ({b.distribution or '?'}): {b.error}" for b in named]
        if others:
            parts.append(f"{'also ' if named else ''}plugin(s) {', '.join(others)}")
        if self.disabled:
            parts.append(f"disabled by {DISABLE_ENV}: {', '.join(self.disabled)}")
        return (" Left out: " + "; ".join(parts) + " (see 'alexbench plugins').") if parts else ""

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

    @property
    def renderers(self) -> Registry[Any]:
        return self._registries["renderer"]

    def renderer(self, name: str) -> Renderer:
        """An instance of the renderer registered as ``name`` (a lazy one imported and checked now);
        an unknown name is an error listing the registered ones."""
        cls = self.renderers.get(name)
        check_renderer(name, cls)
        return cls()

    def registry(self, kind: str) -> Registry[Any]:
        return self._registries[kind]

    def component_class(self, kind: str, name: str) -> type[Component]:
        """Load (importing lazily registered classes now) and validate one component class. A
        class that fails the checks (its Params included) leaves its plugin out."""
        registry = self.registry(kind)
        entry = registry.entry(name)
        cls = entry.load()
        if entry.lazy:
            try:
                _validate_component(kind)(name, cls)
                if entry.params is not None and cls.Params is not entry.params:
                    raise PluginError(f"{kind} {name!r} was registered with params {_qualname(entry.params)} but "
                                      f"{_qualname(cls)}.Params is {_qualname(cls.Params)}; name the class's own "
                                      "Params in add_lazy")
                if entry.version is not None and cls.version != entry.version:
                    raise PluginError(f"{kind} {name!r} was registered with version {entry.version!r} but "
                                      f"{_qualname(cls)}.version is {cls.version!r}; register the class's own "
                                      "version (e.g. the package's __version__ in both places)")
                if entry.multi_label is not None and bool(getattr(cls, "multi_label", False)) != entry.multi_label:
                    raise PluginError(f"{kind} {name!r} was registered with multi_label={entry.multi_label} but "
                                      f"{_qualname(cls)}.multi_label is {getattr(cls, 'multi_label', False)}; "
                                      "register what the class declares")
            except PluginError as exc:  # checked when loaded (a lazy entry): its plugin is left out
                if entry.plugin is not None:
                    info = next((p for p in self.plugins() if p.name == entry.plugin), None)
                    for registry in self._registries.values():
                        registry.discard_plugin(entry.plugin)
                    self._mark_broken(entry.plugin, info.distribution if info else None, str(exc), exc)
                raise
        return cls

    def component_info(self, kind: str, name: str) -> tuple[str, type]:
        """A component's version and Params class, without importing a lazy entry's module
        when the entry declared both (``add_lazy(..., params=..., version=...)``)."""
        entry = self.registry(kind).entry(name)
        if entry.lazy and entry.params is not None and entry.version is not None:
            return entry.version, entry.params
        cls = self.component_class(kind, name)
        return cls.version, cls.Params

    def plugin_of(self, kind: str, name: str) -> dict[str, Any]:
        """Which plugin (entry-point name), distribution and version provide a registered name:
        recorded in each run's provenance."""
        plugin = self.registry(kind).entry(name).plugin
        info = next((p for p in self.plugins() if p.name == plugin), None)
        return {"kind": kind, "name": name, "plugin": plugin,
                "distribution": info.distribution if info else None, "version": info.version if info else None}

    @overload
    def build(self, kind: Literal["augmenter"], name: str, params: dict[str, Any] | None = None) -> Augmenter: ...
    @overload
    def build(self, kind: Literal["classifier"], name: str, params: dict[str, Any] | None = None) -> Classifier: ...
    @overload
    def build(self, kind: Literal["explainer"], name: str, params: dict[str, Any] | None = None) -> Explainer: ...

    def build(self, kind: str, name: str, params: dict[str, Any] | None = None) -> Component:
        """An instance of a component, from a variant file's ``params`` table (typed by ``kind``:
        registration checked that the class is that kind's subclass)."""
        return self.component_class(kind, name).from_params(params)

    @cached_property
    def _commands(self) -> dict[str, tuple[str, Any]]:
        """Each plugin's ``alexbench_register_commands`` adds to a click group of its own; a plugin
        that raises, adds something that is not a click command, or a name an earlier plugin took,
        is reported in :attr:`broken` and none of its commands are kept."""
        import click

        commands: dict[str, tuple[str, Any]] = {}
        for impl in self.pm.hook.alexbench_register_commands.get_hookimpls():  # registration order
            group = click.Group(GROUP)
            try:
                self._call_one("alexbench_register_commands", impl, cli=group)
                for name, command in group.commands.items():
                    if not isinstance(command, click.Command):
                        raise PluginError(f"command {name!r}: {command!r} is not a click command")
                    if name in commands:
                        raise PluginError(f"command {name!r} registered twice: by plugin {commands[name][0]} "
                                          f"and by plugin {impl.plugin_name}")
            except PluginError as exc:
                self._mark_broken(impl.plugin_name, self._dist_of(impl.plugin), exc=exc, unregister=False)
                continue
            commands.update((name, (impl.plugin_name, command)) for name, command in group.commands.items())
        return commands

    def commands(self) -> dict[str, tuple[str, Any]]:
        """The command-line commands plugins add: name → (plugin, ``click.Command``)."""
        return dict(self._commands)

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

    def self_tests(self) -> list[tuple[str, Any]]:
        """(plugin, :class:`~alexbench.selftest.SelfTest`) of every plugin's native parts; for a
        hook that raises or returns something else, (plugin, the :class:`PluginError`), which
        ``alexbench doctor`` reports as a failed self-test of that plugin."""
        from alexbench.selftest import SelfTest

        out: list[tuple[str, Any]] = []
        for impl in self.pm.hook.alexbench_self_tests.get_hookimpls():  # registration order
            try:
                tests = self._call_one("alexbench_self_tests", impl)
                if not isinstance(tests, list) or not all(isinstance(t, SelfTest) for t in tests):
                    raise PluginError(f"alexbench_self_tests must return a list of alexbench.selftest.SelfTest, "
                                      f"got {tests!r}")
            except PluginError as exc:
                out.append((impl.plugin_name, exc))
                continue
            out.extend((impl.plugin_name, test) for test in tests)
        return out
