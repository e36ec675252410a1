"""Studies: a grid of tasks × variants × seeds, as data (a TOML file with a ``[study]`` table).

A study file may define its own ``[variants.*]`` (with ``extends``, also of built-in variants),
and may extend another study file (``[study] extends = "other.toml"``, relative to this file): it
takes the other study's fields and variants, and gives its own name and what it changes (e.g. more
seeds). It may declare sweep axes (``[study.sweep]``, :mod:`alexbench.config.sweeps`). Finished
runs are reused, a failing run is recorded and the grid goes on. Empty or repeated task, variant
and seed lists are refused (a study that runs nothing, or a variant twice, is a mistake).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alexbench.config.seeds import seed_problem
from alexbench.config.sweeps import Axis, parse_sweep
from alexbench.config.tomlfile import Table, read_toml
from alexbench.config.variants import VariantCatalog, VariantSpec, parse_variants
from alexbench.errors import TaskFileError
from alexbench.fsio import NAME_RULE, is_name


@dataclass(frozen=True)
class StudySpec:
    name: str
    path: Path
    tasks: tuple[str, ...]
    variants: tuple[VariantSpec, ...]
    seeds: tuple[int, ...]
    description: str = ""
    baseline: str | None = None
    #: Sweep axes (``[study.sweep]``, :mod:`alexbench.config.sweeps`); empty: no sweep.
    sweep: tuple[Axis, ...] = ()
    #: Variants of a swept study run at the reference point only (``[study.sweep] fixed``).
    fixed: tuple[str, ...] = ()


def load_study(path: Path, catalog: VariantCatalog) -> StudySpec:
    return _load(path, catalog, ())[0]


def _load(path: Path, catalog: VariantCatalog, chain: tuple[Path, ...]) -> tuple[StudySpec, dict[str, Any]]:
    """The study and its data with what it extends filled in (for a study that extends it)."""
    data = read_toml(path)
    own = set(data["variants"]) if isinstance(data.get("variants"), dict) else set()
    data, parent = _with_parent(path, data, catalog, chain)
    root = Table(path, data)
    root.reject_unknown({"study", "variants"})
    study = root.table("study", required=True)
    study.reject_unknown({"name", "description", "tasks", "variants", "seeds", "baseline", "extends", "sweep"})
    local: dict[str, VariantSpec] = {}
    if "variants" in data:
        # Local variants may extend built-in ones: resolve against a merged table.
        merged: dict[str, Any] = {"variants": {}}
        for name in catalog.names():
            merged["variants"][name] = _as_table(catalog.get(name))
        merged["variants"].update(data["variants"])
        resolved = parse_variants(path, merged)
        local = {name: resolved[name] for name in data["variants"]}
    if parent is not None:  # an inherited variant keeps the file that defines it
        local.update({v.name: v for v in parent.variants if v.name not in own})
    names = study.str_list("variants")
    variants = tuple(local[name] if name in local else catalog.get(name) for name in names)
    seeds = study.get("seeds", list, [0])
    for i, seed in enumerate(seeds):
        problem = seed_problem(seed)
        if problem:
            raise TaskFileError(path, f"study.seeds[{i}]", problem)
        if seed in seeds[:i]:
            raise TaskFileError(path, f"study.seeds[{i}]", f"seed {seed} is given twice")
    baseline = study.get("baseline", str, None)
    if baseline is not None and baseline not in names:
        raise study.error("baseline", f"{baseline!r} is not one of the study's variants {names}")
    name = study.get("name", str)
    if not is_name(name):
        raise study.error("name", f"must be a name of {NAME_RULE}, got {name!r}")
    tasks = study.str_list("tasks")
    if not tasks:
        raise study.error("tasks", "lists no task: a study runs at least one")
    if not names:
        raise study.error("variants", "lists no variant: a study runs at least one")
    if not seeds:
        raise study.error("seeds", "lists no seed: a study runs at least one (e.g. seeds = [1])")
    for field_, values in (("tasks", tasks), ("variants", names)):
        repeated = next((v for i, v in enumerate(values) if v in values[:i]), None)
        if repeated is not None:
            raise study.error(field_, f"{repeated!r} is listed twice")
    sweep, fixed = parse_sweep(study.table("sweep"), names) if "sweep" in study.data else ((), ())
    return StudySpec(name, path, tuple(tasks), variants, tuple(seeds),
                     study.get("description", str, ""), baseline, sweep, fixed), data


def _with_parent(path: Path, data: dict[str, Any], catalog: VariantCatalog,
                 chain: tuple[Path, ...]) -> tuple[dict[str, Any], StudySpec | None]:
    """``data`` with the study it extends filled in (the parent's ``[study]`` fields under the
    child's, its ``[variants.*]`` tables under the child's: a table of the same name replaces the
    parent's), and the parent study. The parent is loaded (read once) on its own first, so its
    errors name its own file."""
    study = data.get("study")
    if not isinstance(study, dict) or "extends" not in study:
        return data, None
    table = Table(path, study, "study")
    ref = table.get("extends", str)
    parent_path = (path.parent / ref).resolve()
    here = path.resolve()
    if parent_path == here or parent_path in chain:
        raise table.error("extends", f"{ref!r} extends this study again (a cycle)")
    if not parent_path.is_file():
        raise table.error("extends", f"no study file {parent_path} (the path is relative to this file)")
    if "name" not in study:
        raise table.error("name", "is required in a study that extends another (it names its leaderboard folder)")
    spec, parent = _load(parent_path, catalog, (*chain, here))
    merged: dict[str, Any] = {"study": {**parent["study"], **study}}
    merged["study"].pop("extends")
    variants = {**parent.get("variants", {}), **data.get("variants", {})}
    if variants:
        merged["variants"] = variants
    return {**data, **merged}, spec


def _as_table(spec: VariantSpec) -> dict[str, Any]:
    table: dict[str, Any] = {"description": spec.description, "classifier": spec.classifier.to_dict(),
                             "augmenters": [a.to_dict() for a in spec.augmenters]}
    if spec.explainer is not None:
        table["explainer"] = spec.explainer.to_dict()
    return table
