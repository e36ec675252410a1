"""Variants and run specs: what a run is, as data.

A variant names an augmenter chain (possibly empty), a classifier and an optional explainer,
each with parameters. Variants live in TOML files (``[variants.NAME]`` tables) found in the
task folders; ``extends = "other"`` derives one from another.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alexbench.config.tomlfile import Table, read_toml
from alexbench.errors import TaskFileError, UnknownNameError
from alexbench.fsio import name_problem


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "params": dict(self.params)}


@dataclass(frozen=True)
class VariantSpec:
    name: str
    classifier: ComponentSpec
    augmenters: tuple[ComponentSpec, ...] = ()
    explainer: ComponentSpec | None = None
    description: str = ""
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "augmenters": [a.to_dict() for a in self.augmenters],
            "classifier": self.classifier.to_dict(),
            "explainer": self.explainer.to_dict() if self.explainer else None,
        }


def _component(table: Table, key: str, base: ComponentSpec | None) -> ComponentSpec:
    t = table.table(key)
    t.reject_unknown({"name", "params"})
    params = t.get("params", dict, {})
    if "name" not in t.data:
        if base is None:
            raise t.error("name", "is required")
        return ComponentSpec(base.name, {**base.params, **params})
    name = t.get("name", str)
    if base is not None and base.name == name:
        params = {**base.params, **params}
    return ComponentSpec(name, params)


def _augmenters(table: Table) -> tuple[ComponentSpec, ...]:
    items = table.get("augmenters", list)
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise table.error(f"augmenters[{i}]", f"expected a table {{name = ..., params = {{...}}}}, got {item!r}")
        out.append(_component(Table(table.path, {"x": item}, table.field(f"augmenters[{i}]")), "x", None))
    return tuple(out)


def parse_variants(path: Path, data: dict[str, Any] | None = None) -> dict[str, VariantSpec]:
    """All variants of one file, ``extends`` resolved within the file (cycles are errors)."""
    return parse_variant_files([(path, data)])


def parse_variant_files(files: list[tuple[Path, dict[str, Any] | None]]) -> dict[str, VariantSpec]:
    """All variants of several files; ``extends`` may name a variant of any of them (cycles and
    a name defined in two files are errors)."""
    raws: dict[str, Table] = {}  # variant name -> the [variants] table of the file defining it
    for path, data in files:
        raw_table = Table(path, data if data is not None else read_toml(path)).table("variants", required=True)
        for name in raw_table.data:
            problem = name_problem(name)  # it names the runs' folder: results/runs/<task>/<variant>/
            if problem:
                key = name if name.replace("-", "").replace("_", "").isalnum() else json.dumps(name)
                raise raw_table.error(key, f"the variant name {problem}")
            if name in raws:
                raise TaskFileError(path, f"variants.{name}", f"already defined in {raws[name].path}")
            raws[name] = raw_table
    resolved: dict[str, VariantSpec] = {}

    def resolve(name: str, chain: tuple[str, ...]) -> VariantSpec:
        if name in resolved:
            return resolved[name]
        if name in chain:
            raise raws[name].error(name, f"'extends' cycle: {' -> '.join((*chain, name))}")
        if name not in raws:
            raise UnknownNameError("variant", name, raws)
        raw = raws[name]
        t = raw.table(name)
        t.reject_unknown({"description", "extends", "augmenters", "classifier", "explainer"})
        base = resolve(t.get("extends", str), (*chain, name)) if "extends" in t.data else None
        if "classifier" in t.data:
            classifier = _component(t, "classifier", base.classifier if base else None)
        elif base is not None:
            classifier = base.classifier
        else:
            raise t.error("classifier", "is required (or 'extends' a variant that has one)")
        augmenters = _augmenters(t) if "augmenters" in t.data else (base.augmenters if base else ())
        explainer = base.explainer if base else None
        if "explainer" in t.data:
            if t.data["explainer"] is False:
                explainer = None
            else:
                explainer = _component(t, "explainer", explainer)
        spec = VariantSpec(name, classifier, augmenters, explainer,
                           t.get("description", str, base.description if base else ""), str(raw.path))
        resolved[name] = spec
        return spec

    for variant_name in raws:
        resolve(variant_name, ())
    return resolved


@dataclass
class VariantCatalog:
    files: list[Path]
    note: str = ""  # added to an unknown-name error (e.g. the task folders' unreadable files)
    _variants: dict[str, VariantSpec] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        # One resolution over all files, so a variant may extend one defined in another file.
        self._variants = parse_variant_files([(file, None) for file in self.files])

    def names(self) -> list[str]:
        return sorted(self._variants)

    def get(self, name: str) -> VariantSpec:
        if name not in self._variants:
            raise UnknownNameError("variant", name, self._variants, note=self.note)
        return self._variants[name]

    def from_file(self, path: Path) -> list[VariantSpec]:
        """Every variant a variants file defines, in its order (``alexbench run -v FILE``); its
        ``extends`` may name the catalogue's variants. The file need not be in a task folder."""
        data = read_toml(path)
        resolved = path.resolve()
        others = [(file, None) for file in self.files if file.resolve() != resolved]
        variants = parse_variant_files([*others, (path, data)])
        names = list(Table(path, data).table("variants", required=True).data)
        if not names:
            raise TaskFileError(path, "variants", "defines no variant: add a [variants.NAME] table")
        return [variants[name] for name in names]
