"""Task definitions: TOML files describing data files, columns, labels, metric and submission.

A task file has a ``[task]`` table; see ``alexbench_tasks/tasks/demo/task.toml`` (package data of
the built-in plugin) for a commented example and docs/tasks.md for every field. Paths resolve against the task file's folder; ``{data_root}``
expands to ``--data-root`` / ``$ALEXBENCH_DATA_ROOT`` (default ``./data``). Data files are
confined to the task's data folder.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alexbench.config import placeholders
from alexbench.config.fileformat import (
    Columns,
    FileFormat,
    SubmissionSpec,
    check_column_numbers,
    read_columns,
    read_format,
    read_submission,
)
from alexbench.config.labels import LabelSpace, read_labels
from alexbench.config.tomlfile import Table, read_toml
from alexbench.errors import AlexbenchError, DataMissingError, TaskFileError, UnknownNameError
from alexbench.fsio import NAME_RULE, is_name

DATA_ROOT_ENV = "ALEXBENCH_DATA_ROOT"
SPLITS = ("train", "dev", "test")


def default_data_root() -> Path:
    return Path(os.environ.get(DATA_ROOT_ENV) or "data")


@dataclass(frozen=True)
class Carve:
    """Make a split by a stratified, seeded cut of another split (e.g. dev from train)."""

    source: str
    fraction: float
    seed: int


@dataclass(frozen=True)
class SplitSpec:
    name: str
    file: str | None
    columns: Columns
    format: FileFormat
    carve: Carve | None = None
    unlabeled: str = "error"  # error | skip (skipped rows are counted in the load report)
    duplicate_ids: str = "error"  # error | rename (a repeated id gets "#2", "#3"…, counted)


@dataclass(frozen=True)
class Reference:
    """A published result on the task, shown beside its runs (never scored, compared or ranked):
    ``score`` is the task's official metric on ``split``, ``source`` the citation (paper, table or
    page), ``note`` e.g. "participant-reported" or "organisers' baseline"."""

    name: str
    score: float
    source: str
    split: str = "test"
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "score": self.score, "split": self.split, "source": self.source, "note": self.note}


@dataclass(frozen=True)
class TaskSpec:
    name: str
    title: str
    version: str
    description: str
    path: Path
    data_dir: Path
    obtain: str  # how to get the data, its {data_dir} already filled in
    splits: dict[str, SplitSpec]
    labels: tuple[str, ...]
    positive: str | None
    official_metric: str
    metric_params: dict[str, Any] = field(default_factory=dict)
    submission: SubmissionSpec | None = None
    columns: Columns | None = None
    references: tuple[Reference, ...] = ()
    #: Multi-label (``labels.multi_label = true``): a post has a set of labels, written in a data
    #: cell joined by ``separator``; ``empty`` is the cell meaning "none of the labels" (None:
    #: every post has one). ``Post.label`` holds a canonical string (alexbench/config/labels.py).
    multi_label: bool = False
    separator: str = " "
    empty: str | None = None

    @property
    def label_space(self) -> LabelSpace:
        """Reading, writing and checking labels and label sets (alexbench/config/labels.py)."""
        return LabelSpace(self.labels, self.multi_label, self.separator, self.empty)

    def label_set(self, label: str | None) -> tuple[str, ...]:
        """A post's (or prediction's) labels in the task's order: a multi-label canonical
        string's labels, the one label otherwise (none when unlabelled)."""
        return self.label_space.label_set(label)

    @property
    def extra_keys(self) -> tuple[str, ...]:
        return self.columns.extra_keys if self.columns else ()

    def split_path(self, split: str) -> Path:
        spec = self.splits[split]
        if spec.file is None:
            raise ValueError(f"split {split!r} of task {self.name!r} is carved, it has no file")
        return self.data_dir / spec.file

    def check_data(self) -> None:
        """Raise :class:`DataMissingError` listing every missing file and how to obtain them."""
        missing = [
            str(self.split_path(name)) for name, s in self.splits.items() if s.file and not self.split_path(name).is_file()
        ]
        if missing:
            raise DataMissingError(
                f"task {self.name!r}: data files not found: {', '.join(missing)}.\n"
                f"{self.obtain}\n"
                f"(the data folder is {self.data_dir}; set --data-root or ${DATA_ROOT_ENV} to move it)"
            )


def _confined(table: Table, key: str, data_dir: Path) -> str:
    rel = table.get(key, str)
    candidate = (data_dir / rel).resolve()
    if Path(rel).is_absolute() or not candidate.is_relative_to(data_dir.resolve()):
        raise table.error(key, f"{rel!r} must be a path inside the task's data folder {data_dir}")
    return rel


def load_task(path: Path | str, data_root: Path | None = None) -> TaskSpec:
    """Parse and validate one task file."""
    path = Path(path)
    root = Table(path, read_toml(path))
    if "task" not in root.data:
        raise TaskFileError(path, "task", "is required: a task file has a [task] table")
    root.reject_unknown({"task", "format", "columns", "splits", "labels", "metric", "submission", "references"})
    task = root.table("task", required=True)
    task.reject_unknown({"name", "title", "version", "description", "data_dir", "obtain"})
    name = task.get("name", str)
    if not is_name(name):
        raise task.error("name", f"must be a name of {NAME_RULE}, got {name!r}")
    data_root = (Path(data_root) if data_root is not None else default_data_root()).resolve()  # relative to cwd
    data_dir_text = placeholders.parse(task.get("data_dir", str), {"data_root"}, path=path, field="task.data_dir")
    data_dir = Path(data_dir_text.fill({"data_root": data_root}))
    if not data_dir.is_absolute():
        data_dir = path.parent / data_dir
    data_dir = data_dir.resolve()

    # User-written text: only plain {name} fields, checked now (see alexbench.config.placeholders).
    obtain = placeholders.parse(task.get("obtain", str, "Put the data files in {data_dir}."), {"data_dir"},
                                path=path, field="task.obtain")

    fmt = read_format(root.table("format"))
    columns = read_columns(root.table("columns", required=True))

    splits_table = root.table("splits", required=True)
    splits: dict[str, SplitSpec] = {}
    for split_name in splits_table.data:
        if split_name not in SPLITS:
            raise splits_table.error(split_name, f"unknown split; splits are {', '.join(SPLITS)}")
    for split_name in SPLITS:
        st = splits_table.table(split_name, required=True)
        st.reject_unknown({"file", "from", "fraction", "seed", "columns", "format", "unlabeled", "duplicate_ids"})
        carve = None
        file = None
        if "from" in st.data:
            source = st.choice("from", tuple(s for s in SPLITS if s != split_name))
            fraction = st.get("fraction", float)
            if not 0 < fraction < 1:
                raise st.error("fraction", f"must be between 0 and 1, got {fraction}")
            carve = Carve(source, float(fraction), st.get("seed", int, 0))
            if "file" in st.data:
                raise st.error("file", "a carved split ('from') has no file")
        else:
            file = _confined(st, "file", data_dir)
        split = SplitSpec(
            split_name, file, read_columns(st.table("columns"), columns), read_format(st.table("format"), fmt), carve,
            st.choice("unlabeled", ("error", "skip"), "error"), st.choice("duplicate_ids", ("error", "rename"), "error"),
        )
        if split.file is not None and not split.format.header:
            check_column_numbers(st, split.columns, split_name)
        splits[split_name] = split
    for split_name, spec in splits.items():
        if spec.carve and splits[spec.carve.source].carve:
            raise splits_table.error(split_name, f"cannot be carved from {spec.carve.source!r}, which is carved too")

    space, positive = read_labels(root.table("labels", required=True))

    metric_t = root.table("metric", required=True)
    metric_t.reject_unknown({"official", "params"})
    official = metric_t.get("official", str)
    metric_params = metric_t.get("params", dict, {})

    submission = read_submission(root.table("submission"), columns) if "submission" in root.data else None

    references = _references(root)

    return TaskSpec(
        name=name,
        title=task.get("title", str, name),
        version=str(task.get("version", (str, int), "1")),
        description=task.get("description", str, ""),
        path=path.resolve(),
        data_dir=data_dir,
        obtain=obtain.fill({"data_dir": data_dir}),
        splits=splits,
        labels=space.values,
        positive=positive,
        official_metric=official,
        metric_params=metric_params,
        submission=submission,
        columns=columns,
        references=references,
        multi_label=space.multi_label,
        separator=space.separator,
        empty=space.empty,
    )


def _references(root: Table) -> tuple[Reference, ...]:
    """``[[references]]``: published results, each checked field by field."""
    entries = root.get("references", list, [])
    out: list[Reference] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise root.error(f"references[{i}]", f"expected a table ([[references]] with name, score, source), "
                                                 f"got {entry!r}")
        ref = Table(root.path, entry, f"references[{i}]")
        ref.reject_unknown({"name", "score", "split", "source", "note"})
        name = ref.get("name", str).strip()
        if not name:
            raise ref.error("name", "must not be empty")
        if name in {r.name for r in out}:
            raise ref.error("name", f"{name!r} is listed twice")
        score = float(ref.get("score", float))
        if not math.isfinite(score):
            raise ref.error("score", f"must be a finite number (the task's official metric), got {score}")
        source = ref.get("source", str).strip()
        if not source:
            raise ref.error("source", "must cite where the score is published (paper, table or page)")
        out.append(Reference(name, score, source, ref.choice("split", SPLITS, "test"), ref.get("note", str, "").strip()))
    return tuple(out)


def validate_metric(task: TaskSpec, known_metrics: list[str]) -> None:
    if task.official_metric not in known_metrics:
        err = UnknownNameError("metric", task.official_metric, known_metrics)
        raise TaskFileError(task.path, "metric.official", str(err))


@dataclass
class TaskCatalog:
    """Every task file found in the plugin-provided folders, by name (first folder wins). A file
    that cannot be read (not TOML, not UTF-8, unreadable) is skipped and kept in ``problems``, so
    it blocks nothing but a lookup of a name it might have defined, which then names it."""

    dirs: list[Path]
    data_root: Path | None = None
    _paths: dict[str, Path] = field(default_factory=dict, init=False)
    variant_files: list[Path] = field(default_factory=list, init=False)
    study_files: dict[str, Path] = field(default_factory=dict, init=False)
    problems: list[TaskFileError] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        for folder in self.dirs:
            for file in sorted(folder.rglob("*.toml")):
                try:
                    data = read_toml(file)
                except TaskFileError as exc:
                    self.problems.append(exc)
                    continue
                if "task" in data and isinstance(data["task"], dict):
                    name = data["task"].get("name")
                    if isinstance(name, str) and name not in self._paths:
                        self._paths[name] = file
                elif isinstance(data.get("study"), dict):
                    name = data["study"].get("name")
                    if isinstance(name, str) and name not in self.study_files:
                        self.study_files[name] = file
                elif "variants" in data:
                    self.variant_files.append(file)

    def names(self) -> list[str]:
        return sorted(self._paths)

    def unreadable_note(self) -> str:
        """' (N files in the task folders could not be read: …)', or ''."""
        if not self.problems:
            return ""
        return f" ({len(self.problems)} file(s) in the task folders could not be read: " + "; ".join(
            str(p) for p in self.problems) + ")"

    def path(self, name: str) -> Path:
        if name not in self._paths:
            raise UnknownNameError("task", name, self._paths, note=self.unreadable_note())
        return self._paths[name]

    def for_run(self, name: str, task_file: str | None, ref: str | None = None) -> TaskSpec:
        """The task a stored run of task ``name`` was made from: ``ref`` (a name or a task file)
        when given, else the task of that name in the task folders, else the task file the run
        recorded (``task_file``: a task given by path need not be in any folder)."""
        if ref is not None:
            task = self.load(ref)
            if task.name != name:
                raise AlexbenchError(f"--task {ref}: is task {task.name!r}, but the run is a run of task {name!r}")
            return task
        if name in self._paths:
            return self.load(name)
        if task_file and Path(task_file).is_file():
            return load_task(Path(task_file), self.data_root)
        where = f"its task file {task_file} is not there" if task_file else "the run does not record its task file"
        raise AlexbenchError(f"task {name!r} is not in the task folders and {where}: give it with "
                             "--task path/to/task.toml")

    def load(self, name_or_path: str) -> TaskSpec:
        """A task by name, or by the path of a task file."""
        candidate = Path(name_or_path)
        if name_or_path.endswith(".toml") or candidate.is_file():
            return load_task(candidate, self.data_root)
        return load_task(self.path(name_or_path), self.data_root)
