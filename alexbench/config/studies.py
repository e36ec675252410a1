"""Studies: a grid of tasks × variants × seeds, as data (a TOML file with a ``[study]`` table).

A study file may define its own ``[variants.*]`` (with ``extends``, also of built-in variants);
finished runs are reused, a failing run is recorded and the grid goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alexbench.config.tasks import is_name
from alexbench.config.tomlfile import Table, read_toml
from alexbench.config.variants import VariantCatalog, VariantSpec, parse_variants
from alexbench.errors import TaskFileError
from alexbench.run.seeding import seed_problem


@dataclass(frozen=True)
class StudySpec:
    name: str
    path: Path
    tasks: tuple[str, ...]
    variants: tuple[VariantSpec, ...]
    seeds: tuple[int, ...]
    description: str = ""
    baseline: str | None = None


def load_study(path: Path, catalog: VariantCatalog) -> StudySpec:
    data = read_toml(path)
    root = Table(path, data)
    root.reject_unknown({"study", "variants"})
    study = root.table("study", required=True)
    study.reject_unknown({"name", "description", "tasks", "variants", "seeds", "baseline"})
    local: dict[str, VariantSpec] = {}
    if "variants" in data:
        # Local variants may extend built-in ones: resolve against a merged table.
        merged: dict[str, Any] = {"variants": {}}
        for name in catalog.names():
            merged["variants"][name] = _as_table(catalog.get(name))
        merged["variants"].update(data["variants"])
        resolved = parse_variants(path, merged)
        local = {name: resolved[name] for name in data["variants"]}
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
        raise study.error("name", f"must be a name of letters, digits, _ - . not starting with '.', got {name!r}")
    return StudySpec(name, path, tuple(study.str_list("tasks")), variants, tuple(seeds),
                     study.get("description", str, ""), baseline)


def _as_table(spec: VariantSpec) -> dict[str, Any]:
    table: dict[str, Any] = {"description": spec.description, "classifier": spec.classifier.to_dict(),
                             "augmenters": [a.to_dict() for a in spec.augmenters]}
    if spec.explainer is not None:
        table["explainer"] = spec.explainer.to_dict()
    return table
