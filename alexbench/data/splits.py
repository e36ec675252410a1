"""Loading a task's splits into :class:`Post` lists, with line-precise errors.

Nothing is dropped silently: a BOM or CRLF endings are accepted and counted; unlabelled rows
are an error unless the split says ``unlabeled = "skip"``, in which case they are counted;
every other defect (wrong field count, bad quoting, bad bytes, missing or duplicate id,
empty, duplicate or missing column name, empty post, a NUL character, unknown label) raises
:class:`DataError` naming file, line and field. What is kept but unusual is counted: posts with
control characters (ESC, ...) or Unicode line separators, label cells with spaces (NBSP too)
around the label; and a held-out post with a training post's id or text (a leak) is reported.
"""

from __future__ import annotations

import csv
import functools
import io
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alexbench.config.labels import LabelSpace
from alexbench.config.tasks import Columns, FileFormat, SplitSpec, TaskSpec
from alexbench.errors import DataError
from alexbench.fsio import sha256_obj
from alexbench.interfaces import Post

_BOM = b"\xef\xbb\xbf"


@dataclass
class LoadReport:
    """What the loader fixed or skipped in one split, recorded in each run's provenance."""

    rows: int = 0
    bom_stripped: bool = False
    crlf_lines: int = 0
    skipped_unlabeled: int = 0
    renamed_duplicate_ids: int = 0
    truncated_long_posts: int = 0
    #: posts whose text holds a control character other than tab and line breaks (ESC, ...)
    control_char_posts: int = 0
    #: posts whose text holds U+2028 or U+2029 (Unicode line and paragraph separators)
    line_separator_posts: int = 0
    #: label cells with whitespace (spaces, tabs, NBSP, ...) around the label, trimmed
    trimmed_labels: int = 0
    label_counts: dict[str, int] = field(default_factory=dict)


@dataclass
class SplitData:
    name: str
    posts: list[Post]
    sha256: str
    source: str
    report: LoadReport

    @functools.cached_property
    def fingerprint(self) -> str:
        """The posts as components see them (ids, texts, labels, extra inputs): part of a run's identity."""
        return posts_fingerprint(self.posts)


@dataclass
class Dataset:
    task: TaskSpec
    splits: dict[str, SplitData]
    #: When the training split was subsampled to a sweep point (:mod:`alexbench.data.transforms`):
    #: what was done, with the counts before and after; None for the task's own data.
    transform: dict[str, Any] | None = None
    #: dev and test posts that share an id or a text with a training post (:func:`train_overlap`).
    overlap: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def train(self) -> list[Post]:
        return self.splits["train"].posts

    @property
    def dev(self) -> list[Post]:
        return self.splits["dev"].posts

    @property
    def test(self) -> list[Post]:
        return self.splits["test"].posts

    def provenance(self) -> dict[str, Any]:
        return {**({"transform": dict(self.transform)} if self.transform else {}), **{
            name: {"source": s.source, "sha256": s.sha256, "rows": s.report.rows,
                   "label_counts": s.report.label_counts, "bom_stripped": s.report.bom_stripped,
                   "crlf_lines": s.report.crlf_lines, "skipped_unlabeled": s.report.skipped_unlabeled,
                   "renamed_duplicate_ids": s.report.renamed_duplicate_ids,
                   "truncated_long_posts": s.report.truncated_long_posts,
                   "control_char_posts": s.report.control_char_posts,
                   "line_separator_posts": s.report.line_separator_posts,
                   "trimmed_labels": s.report.trimmed_labels,
                   **({"train_overlap": self.overlap[name]} if name in self.overlap else {})}
            for name, s in self.splits.items()
        }}


#: Control characters a post may not hold (a NUL: a binary file or the wrong encoding), and those
#: it may hold but that are counted (everything in Unicode's Cc but tab and line breaks).
_NUL = "\x00"
_CONTROL = frozenset(chr(c) for c in (*range(0x01, 0x20), *range(0x7F, 0xA0))) - frozenset("\t\n\r")
_LINE_SEPARATORS = frozenset("\u2028\u2029")


def _count_unusual(body: str, report: LoadReport) -> None:
    chars = set(body)
    report.control_char_posts += bool(chars & _CONTROL)
    report.line_separator_posts += bool(chars & _LINE_SEPARATORS)


def _check_header(path: Path, line: int, header: list[str]) -> None:
    """A header names each column once, and no name is empty."""
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if not name:
            raise DataError(path, line, "", f"column {i + 1} of the header {header} has no name; name every column "
                            "(a stray delimiter at the end of the line?)")
        if name in seen:
            raise DataError(path, line, name, f"column name {name!r} is in the header twice (columns {seen[name] + 1} "
                            f"and {i + 1}); name every column once")
        seen[name] = i


def train_overlap(train: Sequence[Post], held_out: Sequence[Post]) -> dict[str, Any]:
    """How many ``held_out`` posts have the id or the text of a training post (a leak: the model
    was trained on what it is scored on), with up to five of their ids; empty when none."""
    ids = {p.id for p in train}
    texts = {p.text for p in train}
    same_id = [p.id for p in held_out if p.id in ids]
    same_text = [p.id for p in held_out if p.text in texts]
    if not same_id and not same_text:
        return {}
    return {"same_id": len(same_id), "same_text": len(same_text),
            "examples": list(dict.fromkeys(same_id + same_text))[:5]}


def posts_fingerprint(posts: Sequence[Post]) -> str:
    """Content hash of a split as the classifier sees it (ids, texts, labels, extra inputs)."""
    return sha256_obj([[p.id, p.text, p.label, dict(p.extra)] for p in posts])


def _decode(path: Path, raw: bytes, encoding: str, report: LoadReport) -> str:
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig") and raw.startswith(_BOM):
        raw = raw[len(_BOM):]
        report.bom_stripped = True
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(path, line, "", f"bytes {raw[exc.start:exc.end]!r} are not valid {encoding} ({exc.reason})") from None
    report.crlf_lines = text.count("\r\n")
    return text


#: The csv module refuses fields over 131,072 characters by default; a post may be longer (it is
#: truncated to the task's max_chars and counted), so the limit is raised to what C's long allows.
_FIELD_SIZE_LIMIT = 2**31 - 1


def _valid(parse: Callable[[str], str], label: str) -> bool:
    try:
        parse(label)
    except ValueError:
        return False
    return True


def _row_by_itself(line: str, fmt: FileFormat, width: int, index: dict[str, int], cols: Columns,
                   parse: Callable[[str], str], unlabeled_ok: bool) -> bool:
    """Whether one physical line, read with quotes as plain characters, is a complete row: the
    header's number of fields, an id and a valid label (a line swallowed by a stray quote)."""
    parts = next(csv.reader([line.rstrip("\r\n")], delimiter=fmt.delimiter, quoting=csv.QUOTE_NONE))
    if len(parts) != width or not parts[index[cols.id]].strip():
        return False
    label = parts[index[cols.label]].strip()
    return _valid(parse, label) if label else unlabeled_ok


def _opening_quote_field(line: str, fmt: FileFormat, header: list[str]) -> str:
    """The column whose field opens a quote on this physical line ('' when unknown)."""
    parts = next(csv.reader([line.rstrip("\r\n")], delimiter=fmt.delimiter, quoting=csv.QUOTE_NONE))
    for i, part in enumerate(parts):
        if part.lstrip().startswith('"') and i < len(header):
            return header[i]
    return ""


def count_labels(posts: Sequence[Post], task: TaskSpec | None = None) -> dict[str, int]:
    """Posts per label (sorted by label). On a multi-label task: posts carrying each label (every
    label of the task, also at 0) and, under the task's ``empty`` value, posts with none."""
    if task is None or not task.multi_label:
        return dict(sorted(Counter(p.label for p in posts).items()))
    counts = Counter(label for p in posts for label in task.label_set(p.label))
    out = {label: counts.get(label, 0) for label in sorted(task.labels)}
    none = sum(1 for p in posts if not task.label_set(p.label))
    if none or task.empty is not None:
        out[task.empty or ""] = none
    return out


def read_split_file(path: Path, spec: SplitSpec, labels: Sequence[str], *,
                    task: TaskSpec | None = None) -> tuple[list[Post], LoadReport]:
    """Read one split file according to its :class:`SplitSpec`. With ``task``, a label cell is
    read by :meth:`TaskSpec.parse_label` (a multi-label task's label sets); else it must be one of
    ``labels``."""
    parse = (task.label_space if task is not None else LabelSpace(tuple(labels))).parse
    missing_hint = ""
    if task is not None and task.multi_label:
        missing_hint = (f" (a post with none of the labels is written {task.empty!r})" if task.empty is not None
                        else " (a post with none of the labels needs labels.empty in the task file, e.g. "
                             "empty = \"none\")")
    report = LoadReport()
    if not path.is_file():
        raise DataError(path, None, "", "file not found")
    text = _decode(path, path.read_bytes(), spec.format.encoding, report)
    fmt, cols = spec.format, spec.columns
    quoting = csv.QUOTE_NONE if fmt.quoting == "none" else csv.QUOTE_MINIMAL
    if csv.field_size_limit() < _FIELD_SIZE_LIMIT:
        csv.field_size_limit(_FIELD_SIZE_LIMIT)
    physical = io.StringIO(text, newline="").readlines()  # the lines as the csv reader counts them
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=fmt.delimiter, quoting=quoting, strict=True)
    label_set = set(labels)
    posts: list[Post] = []
    first_line: dict[str, int] = {}
    header: list[str] | None = None
    index: dict[str, int] = {}
    start = 1  # the physical line on which the record being read starts
    try:
        for row in reader:
            line, end = start, reader.line_num
            start = end + 1
            if header is None:
                if fmt.header:
                    header = [h.strip() for h in row]
                    _check_header(path, line, header)
                    for needed in cols.all:
                        if needed not in header:
                            raise DataError(path, line, needed, f"column missing from the header {header}")
                    index = {name: header.index(name) for name in cols.all}
                    continue
                header = [str(i) for i in range(len(row))]
                for field, column in cols.fields():  # numbers from 0 (checked when the task file is read)
                    if not (column.isascii() and column.isdigit()):
                        raise DataError(path, line, "", f"columns.{field} = {column!r}: a file without a header "
                                        "names its columns by number from 0")
                    if int(column) >= len(row):
                        raise DataError(path, line, "", f"columns.{field} = {column!r}: there is no column {column}, "
                                        f"the row has {len(row)} fields (columns 0 to {len(row) - 1}; no header)")
                index = {name: int(name) for name in cols.all}
            if end > line and quoting == csv.QUOTE_MINIMAL:  # a quoted field runs over several lines
                for number in range(line, end):  # every line but the last, where such a field ends
                    if _row_by_itself(physical[number - 1], fmt, len(header), index, cols, parse,
                                      spec.unlabeled == "skip"):
                        column = _opening_quote_field(physical[line - 1], fmt, header)
                        raise DataError(path, line, column, f"a quote opens a field here and closes only on line {end}, "
                                        f"swallowing line {number}, which is a whole row by itself (a stray quote?); "
                                        'write a quote inside a quoted field as "", or quote the whole field')
            if not row or (len(row) == 1 and not row[0].strip()):
                raise DataError(path, line, "", "empty line")
            if len(row) != len(header):
                raise DataError(path, line, "", f"expected {len(header)} fields ({fmt.kind}, delimiter {fmt.delimiter!r}), found {len(row)}")
            post_id = row[index[cols.id]].strip()
            if not post_id:
                raise DataError(path, line, cols.id, "missing id")
            if post_id in first_line:
                if spec.duplicate_ids == "error":
                    raise DataError(path, line, cols.id, f"duplicate id {post_id!r} (first on line {first_line[post_id]})")
                n = 2
                while f"{post_id}#{n}" in first_line:
                    n += 1
                post_id = f"{post_id}#{n}"
                report.renamed_duplicate_ids += 1
            first_line[post_id] = line
            body = row[index[cols.text]].strip()
            if not body:
                raise DataError(path, line, cols.text, "empty post")
            if _NUL in body:
                raise DataError(path, line, cols.text, "a NUL character (\\x00) in the post: a binary file, or not "
                                f"{fmt.encoding} (format.encoding)?")
            _count_unusual(body, report)
            if len(body) > fmt.max_chars:
                body = body[: fmt.max_chars]
                report.truncated_long_posts += 1
            cell = row[index[cols.label]]
            label = cell.strip()
            report.trimmed_labels += bool(label) and label != cell
            if not label:
                if spec.unlabeled == "skip":
                    report.skipped_unlabeled += 1
                    continue
                raise DataError(path, line, cols.label, f"missing label; expected one of {sorted(label_set)}"
                                + missing_hint)
            try:
                label = parse(label)
            except ValueError as exc:
                raise DataError(path, line, cols.label, str(exc)) from None
            extra = {key: row[index[column]].strip() for key, column in cols.extra}
            posts.append(Post(post_id, body, label, extra, {}, line))
    except csv.Error as exc:
        end = reader.line_num
        column = _opening_quote_field(physical[start - 1], fmt, header or []) if start <= len(physical) else ""
        if "unexpected end of data" in str(exc):
            raise DataError(path, start, column, f"a quote opened on this line is never closed (the file ends on line "
                            f"{end}); write a quote inside a quoted field as \"\", or close it") from None
        where = f" in the row that starts here and runs to line {end}" if end > start else ""
        raise DataError(path, start, column if where else "", f"malformed {fmt.kind} ({exc}){where}") from None
    if header is None:
        raise DataError(path, 1, "", "file is empty")
    if not posts:
        skipped = f" ({report.skipped_unlabeled} unlabelled rows skipped)" if report.skipped_unlabeled else ""
        raise DataError(path, None, "", f"no data rows{skipped}: every split needs at least one labelled post")
    report.rows = len(posts)
    report.label_counts = count_labels(posts, task)
    return posts, report


def carve(posts: Sequence[Post], fraction: float, seed: int) -> tuple[list[Post], list[Post]]:
    """Stratified, seeded cut: returns (kept, carved). Order within each part follows the input."""
    by_label: dict[str | None, list[int]] = defaultdict(list)
    for i, post in enumerate(posts):
        by_label[post.label].append(i)
    rng = random.Random(seed)
    taken: set[int] = set()
    for label in sorted(by_label, key=str):
        indices = list(by_label[label])
        rng.shuffle(indices)
        taken.update(indices[: round(len(indices) * fraction)])
    kept = [p for i, p in enumerate(posts) if i not in taken]
    cut = [p for i, p in enumerate(posts) if i in taken]
    return kept, cut


def load_dataset(task: TaskSpec) -> Dataset:
    """Load all three splits; carved splits are cut from their source after it is read."""
    from alexbench.fsio import sha256_file

    task.check_data()
    splits: dict[str, SplitData] = {}
    for name, spec in task.splits.items():
        if spec.file is None:
            continue
        path = task.split_path(name)
        posts, report = read_split_file(path, spec, task.labels, task=task)
        splits[name] = SplitData(name, posts, sha256_file(path), str(path), report)
    for name, spec in task.splits.items():
        if spec.carve is None:
            continue
        source = splits[spec.carve.source]
        kept, cut = carve(source.posts, spec.carve.fraction, spec.carve.seed)
        if not kept or not cut:
            raise DataError(source.source, None, "", f"carving {spec.carve.fraction:g} of its {len(source.posts)} rows "
                            f"for the {name} split leaves {len(cut)} rows for {name} and {len(kept)} for "
                            f"{spec.carve.source}: every split needs at least one labelled post")
        source.posts = kept
        source.report.label_counts = count_labels(kept, task)
        source.report.rows = len(kept)
        report = LoadReport(rows=len(cut), label_counts=count_labels(cut, task))
        origin = f"{spec.carve.fraction:g} of {spec.carve.source} (stratified, seed {spec.carve.seed})"
        splits[name] = SplitData(name, cut, posts_fingerprint(cut), origin, report)
    overlap = {name: found for name in ("dev", "test")
               if (found := train_overlap(splits["train"].posts, splits[name].posts))}
    return Dataset(task, {name: splits[name] for name in ("train", "dev", "test")}, overlap=overlap)
