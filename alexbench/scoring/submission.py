"""Competition files: writing a run's SMM4H submission, and a CodaLab-style scorer that reads it
back with precise errors and scores it with the same metric module as the leaderboard.

On a multi-label task a cell holds a post's label set in the task's own spelling (its labels
joined by ``labels.separator``, ``labels.empty`` for none: :meth:`LabelSpace.cell`), and a
submission's cells are read back with :meth:`LabelSpace.parse` (an unknown or repeated label,
an empty part, "none" beside labels: the file and line say so); scoring uses the label-set
metrics."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alexbench.config.tasks import SubmissionSpec, TaskSpec
from alexbench.data.splits import load_dataset, read_split_file
from alexbench.errors import AlexbenchError, DataMissingError, FailureError
from alexbench.fsio import atomic_write_bytes, atomic_write_text
from alexbench.plugin.registry import Registry
from alexbench.scoring.metrics import Metric, score


class SubmissionError(AlexbenchError):
    """A malformed submission: names the file, the line and what was expected."""


def _spec(task: TaskSpec) -> SubmissionSpec:
    if task.submission is None:
        raise AlexbenchError(f"task {task.name!r} ({task.path}) defines no [submission] format")
    return task.submission


def submission_text(task: TaskSpec, predictions: Mapping[str, str]) -> str:
    spec = _spec(task)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=spec.delimiter, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    space = task.label_space
    if spec.header:
        writer.writerow([spec.id_column, spec.label_column])
    for post_id, label in predictions.items():
        writer.writerow([post_id, space.cell(label)])
    return buf.getvalue()


def _shown(ids: list[str]) -> str:
    return ", ".join(repr(i) for i in ids[:5]) + (" …" if len(ids) > 5 else "")


def check_test_ids(source: str, task: TaskSpec, predicted: list[str]) -> None:
    """When the task's test data is here, ``source`` (``run <path>``) must predict exactly its
    posts: a run made on other data (the file changed since) would otherwise give a submission
    that misses posts or names posts the organisers do not have."""
    spec = task.splits["test"]
    try:
        if spec.file is not None and not task.split_path("test").is_file():
            raise DataMissingError(str(task.split_path("test")))
        posts = load_dataset(task).test if spec.file is None else \
            read_split_file(task.split_path("test"), spec, task.labels, task=task)[0]
    except DataMissingError:
        return  # checked against the run's own record only (check_predictions)
    want, have = [p.id for p in posts], set(predicted)
    missing = [i for i in want if i not in have]
    extra = [i for i in predicted if i not in set(want)]
    if missing or extra:
        parts = ([f"{len(missing)} of its {len(want)} posts have no prediction ({_shown(missing)})"] if missing else []) + (
            [f"{len(extra)} predictions are for posts it does not have ({_shown(extra)})"] if extra else [])
        raise FailureError(f"{source} does not match the test split of task {task.name!r} "
                           f"({task.splits['test'].file or 'carved'}): {'; '.join(parts)}. Was the run made on other "
                           "data? Rerun it on this data")


def write_submission_file(task: TaskSpec, predictions: Mapping[str, str], out_dir: Path) -> Path:
    """``predictions`` (test post id -> label, checked by the caller: a stored run's are by
    :func:`alexbench.run.rescoring.write_submission`) in the task's submission format; zipped
    (file at the archive's root, no folder) when the task says so. Returns the written path."""
    spec = _spec(task)
    text = submission_text(task, predictions)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not spec.zip:
        path = out_dir / spec.file
        atomic_write_text(path, text)
        return path
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(spec.file, date_time=(2023, 1, 1, 0, 0, 0))  # fixed: same run → same bytes
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, text)
    path = out_dir / f"{Path(spec.file).stem}.zip"
    atomic_write_bytes(path, buf.getvalue())
    return path


def _submission_bytes(path: Path, spec: SubmissionSpec) -> tuple[bytes, str]:
    """The submission file's bytes, from a plain file or a zip (the named file, or its only file)."""
    if not path.is_file():
        raise SubmissionError(f"{path}: submission file not found")
    if not zipfile.is_zipfile(path):
        return path.read_bytes(), str(path)
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if not n.endswith("/")]
        chosen = [n for n in names if Path(n).name == spec.file] or (names if len(names) == 1 else [])
        if len(chosen) != 1:
            raise SubmissionError(f"{path}: expected {spec.file!r} in the zip, found {names}")
        return archive.read(chosen[0]), f"{path}!{chosen[0]}"


def read_submission(path: Path, task: TaskSpec, gold_ids: list[str]) -> dict[str, str]:
    spec = _spec(task)
    raw, where = _submission_bytes(path, spec)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SubmissionError(f"{where}:{line}: not UTF-8 ({exc.reason})") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=spec.delimiter)
    space = task.label_space
    gold = set(gold_ids)
    found: dict[str, str] = {}
    first: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if spec.header and line == 1:
            if [c.strip() for c in row] != [spec.id_column, spec.label_column]:
                raise SubmissionError(f"{where}:1: header must be {spec.id_column!r}{spec.delimiter!r}{spec.label_column!r}, found {row}")
            continue
        if not row:
            continue
        if len(row) != 2:
            raise SubmissionError(f"{where}:{line}: expected 2 fields ({spec.id_column}, {spec.label_column}), found {len(row)}")
        post_id, label = row[0].strip(), row[1].strip()
        if post_id in first:
            raise SubmissionError(f"{where}:{line}: duplicate id {post_id!r} (first on line {first[post_id]})")
        if post_id not in gold:
            raise SubmissionError(f"{where}:{line}: id {post_id!r} is not in the gold test set")
        try:
            found[post_id] = space.parse(label)  # single-label: the label; multi-label: the canonical set
        except ValueError as exc:
            raise SubmissionError(f"{where}:{line}: {exc}") from None
        first[post_id] = line
    missing = [i for i in gold_ids if i not in found]
    if missing:
        shown = ", ".join(repr(m) for m in missing[:5]) + (" …" if len(missing) > 5 else "")
        raise SubmissionError(f"{where}: {len(missing)} of {len(gold_ids)} gold ids have no prediction: {shown}")
    return found


def score_files(task: TaskSpec, gold_path: Path, pred_path: Path, metrics: Registry[Metric]) -> dict[str, Any]:
    """Score a submission against a gold file in the task's test-split format."""
    gold_posts, _ = read_split_file(gold_path, task.splits["test"], task.labels, task=task)
    ids = [p.id for p in gold_posts]
    pred = read_submission(pred_path, task, ids)
    return score(task, [str(p.label) for p in gold_posts], [pred[i] for i in ids], metrics, [p.extra for p in gold_posts])


def scores_txt(result: Mapping[str, Any]) -> str:
    """CodaLab ``scores.txt``: ``key:value`` lines, the official metric first."""
    lines = [f"{result['official']['name']}:{result['official']['value']:.6f}"]
    lines += [f"{k}:{v:.6f}" for k, v in sorted(result["scalars"].items()) if k != result["official"]["name"]]
    lines += [f"f1_{label}:{v['f1']:.6f}" for label, v in result["per_class"].items()]
    return "\n".join(lines) + "\n"
