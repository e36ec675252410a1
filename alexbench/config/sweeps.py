"""Sweep axes of a study (issue 27): ``[study.sweep]``, one axis per key, swept one at a time.

.. code-block:: toml

    [study.sweep]
    minority_share = ["natural", 0.2, 0.1, 0.05]   # a task transform (alexbench.data.transforms)
    train_size = ["all", 500, 2000]                 # a task transform: learning curves
    "explainer.catch_rate" = [0.2, 0.5, 0.9]        # a component parameter: COMPONENT.KEY

Every study runs its *reference point*: its variants as defined, on the unchanged tasks. Each
axis then varies one thing from there (one factor at a time, the others at the reference): every
other value of the axis is run for every task × variant × seed that it applies to, as a variant of
its own named ``NAME[AXIS=VALUE]`` (``minilm[minority_share=0.1]``,
``minilm+oracle[explainer.catch_rate=0.5]``), so its runs are stored apart and never mix with
the reference's on a leaderboard. The reference value (``"natural"``, ``"all"``, or a parameter's
value as the variant already has it) names the reference runs themselves: they keep their names
and run ids, so a sweep of a study that ran before reuses them. For a grid of two parameters,
give the study one variant per value of the second and sweep the first.

A transform axis applies to every variant but those listed in ``fixed = [...]`` (run at the
reference point only, e.g. an expensive judge whose measured flip precision is compared with a
simulated one's). A parameter axis applies to each variant (not fixed) whose
component at that place (``classifier``, ``explainer``, ``augmenter``, ``augmenter1``… as in
``alexbench run -p``) declares that parameter; the others are not swept and are shown at their
reference runs. An axis that applies to no variant, an unknown axis, a value of the wrong type
or out of range, an empty or repeated value list: an error naming the file and the field. Values
that depend on the data (a ``train_size`` above the training posts) are checked when the data is
read, before any run.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alexbench.config.overrides import Override, apply_overrides, component_at
from alexbench.config.tomlfile import Table
from alexbench.config.variants import VariantSpec
from alexbench.errors import AlexbenchError, TaskFileError, did_you_mean

#: The transform axes (applied by :mod:`alexbench.data.transforms`) and the value of each that
#: leaves the task unchanged.
AXES = {"minority_share": "natural", "train_size": "all"}


@dataclass(frozen=True)
class TaskTransform:
    """One point of a transform axis: ``TaskTransform("minority_share", 0.1)``."""

    axis: str
    value: float | int

    @property
    def label(self) -> str:
        """How the point names a variant's runs: ``minority_share=0.1``."""
        return f"{self.axis}={self.value:g}" if isinstance(self.value, float) else f"{self.axis}={self.value}"

    def to_dict(self) -> dict[str, Any]:
        return {self.axis: self.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskTransform:
        ((axis, value),) = data.items()
        return cls(axis, value)


@dataclass(frozen=True)
class Axis:
    """One axis: its name (a transform, or ``COMPONENT.KEY``) and its values in the listed order."""

    name: str
    values: tuple[Any, ...]

    @property
    def is_transform(self) -> bool:
        return self.name in AXES

    @property
    def reference(self) -> str | None:
        """The value naming the unchanged task (transform axes only)."""
        return AXES.get(self.name)

    def label(self, value: Any) -> str:
        """A value as points are named: ``0.1``, ``natural``, ``true``."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            return f"{value:g}"
        return value if isinstance(value, str) else json.dumps(value)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "values": list(self.values), "kind": "transform" if self.is_transform else "parameter"}


@dataclass(frozen=True)
class Cell:
    """One run definition of a swept study (seeds aside): a variant at one point of one axis."""

    variant: VariantSpec
    #: The variant's name in the study (the row it belongs to in the sweep's outputs).
    base: str
    #: The axis and its value; None for the reference point.
    axis: str | None = None
    value: Any = None
    transform: TaskTransform | None = None

    @property
    def is_reference(self) -> bool:
        return self.axis is None


#: The key of ``[study.sweep]`` that is not an axis: variants run at the reference point only.
FIXED = "fixed"


def parse_sweep(table: Table, variants: Sequence[str]) -> tuple[tuple[Axis, ...], tuple[str, ...]]:
    """The axes of ``[study.sweep]`` (``table``), checked on their own (no data, no plugins), and
    its ``fixed`` variants (names of ``variants``, the study's, run at the reference point only)."""
    fixed = tuple(table.str_list(FIXED, []))
    for i, name in enumerate(fixed):
        if name not in variants:
            raise table.error(f"{FIXED}[{i}]", f"{name!r} is not one of the study's variants {list(variants)}")
    axes = []
    for name in table.data:
        if name == FIXED:
            continue
        values = table.get(name, list)
        field_ = name if "." not in name else f'"{name}"'
        if not values:
            raise table.error(field_, "lists no values")
        if name in AXES:
            values = [_transform_value(table, field_, name, i, v) for i, v in enumerate(values)]
        else:
            place, dot, key = name.rpartition(".")
            if not dot or not place or not key:
                raise table.error(field_, f"unknown axis.{did_you_mean(name, [*AXES, FIXED])} An axis is a task "
                                          "transform or COMPONENT.KEY, a component parameter (COMPONENT: classifier, "
                                          "explainer, augmenter, augmenter1, … or a component's name). Allowed: "
                                          + ", ".join([*AXES, FIXED, "COMPONENT.KEY"]))
        seen: list[Any] = []
        for i, value in enumerate(values):
            if any(value == s and type(value) is type(s) for s in seen):
                raise table.error(f"{field_}[{i}]", f"{value!r} is listed twice")
            seen.append(value)
        axes.append(Axis(name, tuple(values)))
    if not axes:
        raise TaskFileError(table.path, table.prefix, "declares no axis (e.g. minority_share = [\"natural\", 0.1])")
    return tuple(axes), fixed


def _transform_value(table: Table, field_: str, name: str, i: int, value: Any) -> Any:
    where = f"{field_}[{i}]"
    if value == AXES[name]:
        return value
    if name == "minority_share":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1 \
                or not math.isfinite(value):
            raise table.error(where, f"expected \"natural\" or a share between 0 and 1 (e.g. 0.1), got {value!r}")
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise table.error(where, f"expected \"all\" or a whole number of training posts from 1, got {value!r}")
    return value


def _text(value: Any) -> str:
    """A parameter value as ``-p`` reads it back (TOML, or the text of a string parameter)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value)


@dataclass(frozen=True)
class SweepPlan:
    """What a swept study runs: its cells, and where each variant's reference runs sit on each
    axis (``positions[(axis, variant)]``: the axis's reference value for a transform, the
    variant's own parameter value for a parameter axis; absent where the axis does not apply)."""

    axes: tuple[Axis, ...]
    cells: tuple[Cell, ...]
    positions: dict[tuple[str, str], Any]

    def applies(self, axis: str, variant: str) -> bool:
        return (axis, variant) in self.positions

    def to_dict(self) -> dict[str, Any]:
        return {"axes": [a.to_dict() for a in self.axes]}


def expand(path: Path, axes: Sequence[Axis], variants: Sequence[VariantSpec],
           params_class: Callable[[str, str], type], fixed: Sequence[str] = ()) -> SweepPlan:
    """The study's cells: the reference point of every variant, then each axis's other values
    for the variants not ``fixed``. ``params_class(kind, name)`` gives a component's Params (to
    find who declares a parameter and read values with its type)."""
    cells = [Cell(v, v.name) for v in variants]
    variants = [v for v in variants if v.name not in fixed]
    positions: dict[tuple[str, str], Any] = {}
    for axis in axes:
        field_ = axis.name if axis.is_transform else f'"{axis.name}"'
        if axis.is_transform:
            positions.update(((axis.name, v.name), axis.reference) for v in variants)
            for value in axis.values:
                if value == axis.reference:
                    continue
                transform = TaskTransform(axis.name, value)
                cells += [Cell(dataclasses.replace(v, name=f"{v.name}[{transform.label}]",
                                                   description=f"{v.description} ({transform.label})".lstrip()),
                               v.name, axis.name, value, transform) for v in variants]
            continue
        place, _, key = axis.name.rpartition(".")
        applies = []
        for variant in variants:
            try:
                spec = component_at(variant, place)
            except AlexbenchError as exc:
                raise TaskFileError(path, f"study.sweep.{field_}", str(exc)) from None
            if spec is None:
                continue
            kind = "augmenter" if place.startswith("augmenter") else place
            fields = {f.name: f for f in dataclasses.fields(params_class(kind, spec.name))}
            if key in fields:
                applies.append((variant, spec, fields[key]))
        if not applies:
            declared = sorted({f.name for v in variants if (s := _safe_at(v, place)) is not None
                               for f in dataclasses.fields(params_class("augmenter" if place.startswith("augmenter")
                                                                        else place, s.name))})
            hint = did_you_mean(key, declared) if declared else ""
            raise TaskFileError(path, f"study.sweep.{field_}",
                                f"no variant of the study has a {place} with the parameter {key!r}.{hint}"
                                + (f" Its {place}s declare: {', '.join(declared)}" if declared else
                                   f" No variant has a {place}."))
        for variant, spec, field in applies:
            positions[(axis.name, variant.name)] = spec.params.get(
                key, field.default if field.default is not dataclasses.MISSING else None)
        for i, value in enumerate(axis.values):
            for variant, _, _ in applies:
                if _same(value, positions[(axis.name, variant.name)]):
                    continue  # the variant's own value: its reference runs
                try:
                    (swept,) = apply_overrides([variant], [Override(place, key, _text(value))], params_class)
                except AlexbenchError as exc:
                    raise TaskFileError(path, f"study.sweep.{field_}[{i}]", str(exc)) from None
                cells.append(Cell(swept, variant.name, axis.name, value))
    return SweepPlan(tuple(axes), tuple(cells), positions)


def validate_values(plan: SweepPlan, build: Callable[[VariantSpec], Any]) -> None:
    """Build every swept variant's components once (``build``, e.g. the runner's), so a value of
    the wrong type or out of range is reported before any run, naming the axis."""
    for cell in plan.cells:
        if cell.axis is not None and cell.transform is None:
            try:
                build(cell.variant)
            except AlexbenchError as exc:
                raise AlexbenchError(f"sweep axis {cell.axis} = {cell.value!r} for variant {cell.base!r}: {exc}") \
                    from None


def _safe_at(variant: VariantSpec, place: str) -> Any:
    try:
        return component_at(variant, place)
    except AlexbenchError:
        return None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return bool(a == b)


