"""Name → component registries, filled by plugins' ``alexbench_register_*`` hooks.

Entries may be lazy (``"package.module:Class"``) so that running a TF-IDF baseline never
imports torch or TextAttack; a lazy entry that also names its light ``Params`` class and its
version (``params="package.params:Params", version="1.0"``) is listed by ``alexbench plugins``
without importing its heavy module at all. Lookups of unknown names say "did you mean …?" and
which plugins were left out.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from alexbench.errors import PluginError, UnknownNameError

T = TypeVar("T")


def import_target(target: str) -> Any:
    """The object a ``"package.module:attr"`` string names (imported now)."""
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


@dataclass
class Entry(Generic[T]):
    """One registered object; ``target`` is the object itself or a lazy ``"module:attr"``.

    A lazy component entry may declare ``params`` (its Params class, imported when the entry is
    registered) and ``version``: then listing it needs neither its module nor its imports; and
    ``multi_label`` (whether it handles multi-label tasks), for the listing too.
    """

    name: str
    kind: str
    target: T | str
    description: str = ""
    plugin: str | None = None
    params: type | None = None
    version: str | None = None
    multi_label: bool | None = None
    _loaded: T | None = field(default=None, repr=False)

    @property
    def lazy(self) -> bool:
        return isinstance(self.target, str)

    @property
    def loaded(self) -> bool:
        """Whether the target is at hand (registered directly, or a lazy one already imported)."""
        return not self.lazy or self._loaded is not None

    @property
    def module(self) -> str:
        if isinstance(self.target, str):
            return self.target.partition(":")[0]
        return getattr(self.target, "__module__", "")

    def load(self) -> T:
        """Import a lazy target on first use; errors name the entry and the plugin."""
        if self._loaded is not None:
            return self._loaded
        if not isinstance(self.target, str):
            self._loaded = self.target
            return self.target
        try:
            obj = import_target(self.target)
        except Exception as exc:  # ImportError, AttributeError, or whatever the module raised
            raise PluginError(
                f"{self.kind} {self.name!r} (plugin {self.plugin or '?'}) could not be loaded from "
                f"{self.target!r}: {type(exc).__name__}: {exc}"
            ) from exc
        self._loaded = obj
        return obj


class Registry(Generic[T]):
    """A registry of one kind of object (augmenter, classifier, explainer, metric)."""

    def __init__(self, kind: str, validate: Callable[[str, Any], None] | None = None,
                 validate_params: Callable[[str, Any], None] | None = None) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}
        self._validate = validate
        self._validate_params = validate_params
        #: Set by the plugin host while it calls one plugin's hook, so entries know their plugin.
        self.current_plugin: str | None = None
        #: Added to an unknown-name error (given the name): the plugins that were left out, and why
        #: (set by the host).
        self.unknown_note: Callable[[str], str] = lambda name: ""

    def add(self, target: T, *, name: str | None = None, description: str = "") -> T:
        """Register ``target`` (a component class or a metric); its ``name`` attribute is used
        unless ``name`` is given. Returns ``target`` so it can be used as a decorator."""
        name = name or getattr(target, "name", None)
        if not isinstance(name, str) or not name:
            raise PluginError(f"{self.kind} {target!r} (plugin {self.current_plugin or '?'}) has no name")
        if self._validate is not None:
            self._validate(name, target)
        if not description:
            doc_lines = (getattr(target, "__doc__", None) or "").strip().splitlines()
            description = doc_lines[0] if doc_lines else ""
        self._put(Entry(name, self.kind, target, description, self.current_plugin))
        return target

    def add_lazy(self, name: str, target: str, *, params: str | None = None, version: str | None = None,
                 description: str = "", multi_label: bool | None = None) -> None:
        """Register ``"package.module:attr"`` to be imported only when first used.

        ``params="package.params:Params"`` and ``version="1.0"`` (both, or neither) let
        ``alexbench plugins`` list the component without importing ``target``: the Params class
        is imported (and checked) now, so keep its module light. When the component is loaded,
        its ``Params`` and ``version`` must be the declared ones, and so must its ``multi_label``
        when given here (then ``alexbench plugins`` shows it without the import too).
        """
        label = f"{self.kind} {name!r}"
        for text, what in ((target, "lazy target"), (params, "params")):
            if text is not None and (not isinstance(text, str) or ":" not in text):
                raise PluginError(f"{label}: {what} {text!r} must look like 'package.module:Class'")
        if (params is None) != (version is None):
            raise PluginError(f"{label}: add_lazy needs both params='package.module:Params' and version='...' "
                              "(or neither), so that 'alexbench plugins' can list it without importing "
                              f"{target!r}")
        if version is not None and not isinstance(version, str):
            raise PluginError(f"{label}: version must be a string, got {version!r}")
        params_class = None
        if params is not None:
            try:
                params_class = import_target(params)
            except Exception as exc:
                raise PluginError(f"{label}: its params {params!r} could not be imported: "
                                  f"{type(exc).__name__}: {exc}") from exc
            if self._validate_params is not None:
                self._validate_params(label, params_class)
        if multi_label is not None and not isinstance(multi_label, bool):
            raise PluginError(f"{label}: multi_label must be True or False, got {multi_label!r}")
        self._put(Entry(name, self.kind, target, description, self.current_plugin, params_class, version,
                        multi_label))

    def _put(self, entry: Entry[T]) -> None:
        old = self._entries.get(entry.name)
        if old is not None:
            raise PluginError(
                f"{self.kind} {entry.name!r} is registered twice: by plugin {old.plugin or '?'} "
                f"and by plugin {entry.plugin or '?'}"
            )
        self._entries[entry.name] = entry

    def discard_plugin(self, plugin: str | None) -> None:
        """Withdraw every entry a (broken) plugin registered."""
        for name in [n for n, e in self._entries.items() if e.plugin == plugin]:
            del self._entries[name]

    def entry(self, name: str) -> Entry[T]:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, self._entries, note=self.unknown_note(name)) from None

    def get(self, name: str) -> T:
        return self.entry(name).load()

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(sorted(self._entries.values(), key=lambda e: e.name))

    def __len__(self) -> int:
        return len(self._entries)
