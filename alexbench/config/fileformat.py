"""How a task's files are written: the ``[format]`` and ``[columns]`` tables of a task file (and
a split's own ``format`` and ``columns``) and its ``[submission]`` format, each field checked
when the file is read (docs/tasks.md). :mod:`alexbench.config.tasks` assembles them into a
:class:`~alexbench.config.tasks.TaskSpec`."""

from __future__ import annotations

from dataclasses import dataclass

from alexbench.config.tomlfile import Table
from alexbench.errors import TaskFileError

#: What no delimiter may be: a line break ends a row, and a quote opens a quoted field.
_NOT_DELIMITERS = {"\n": "a line break", "\r": "a line break", '"': "the quote character"}


@dataclass(frozen=True)
class FileFormat:
    kind: str = "tsv"  # tsv | csv
    delimiter: str = "\t"
    quoting: str = "none"  # none | minimal
    encoding: str = "utf-8"
    header: bool = True
    max_chars: int = 20000  # longer posts are truncated to this many characters and counted


@dataclass(frozen=True)
class Columns:
    """Column names; ``extra`` maps each extra input's key (as plugins see it in
    ``Post.extra``) to its column name in this file."""

    id: str
    text: str
    label: str
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def extra_keys(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.extra)

    @property
    def all(self) -> tuple[str, ...]:
        return (self.id, self.text, self.label, *(column for _, column in self.extra))

    def fields(self) -> tuple[tuple[str, str], ...]:
        """(field, column) for every column: ``("id", "tweet_id")``, ``("extra.claim", "Claim")``."""
        return (("id", self.id), ("text", self.text), ("label", self.label),
                *((f"extra.{key}", column) for key, column in self.extra))


@dataclass(frozen=True)
class SubmissionSpec:
    file: str
    id_column: str
    label_column: str
    delimiter: str = "\t"
    header: bool = True
    zip: bool = True


def delimiter(table: Table, key: str, default: str) -> str:
    """A field separator: one character, neither a line break nor a quote (the csv module would
    take them, and then read or write rows that are not the rows meant)."""
    value = table.get(key, str, default)
    if len(value) != 1:
        raise table.error(key, f"must be one character, got {value!r}")
    if value in _NOT_DELIMITERS:
        raise table.error(key, f"must not be {_NOT_DELIMITERS[value]}, got {value!r}")
    return value


def read_format(table: Table, base: FileFormat | None = None) -> FileFormat:
    table.reject_unknown({"type", "delimiter", "quoting", "encoding", "header", "max_chars"})
    base = base or FileFormat()
    kind = table.choice("type", ("tsv", "csv"), base.kind)
    default_delim = base.delimiter if "type" not in table.data else ("\t" if kind == "tsv" else ",")
    delim = delimiter(table, "delimiter", default_delim)
    default_quoting = base.quoting if "type" not in table.data else ("none" if kind == "tsv" else "minimal")
    quoting = table.choice("quoting", ("none", "minimal"), default_quoting)
    encoding = table.get("encoding", str, base.encoding)
    try:
        "".encode(encoding)
    except LookupError:
        raise table.error("encoding", f"unknown encoding {encoding!r}") from None
    max_chars = table.get("max_chars", int, base.max_chars)
    if max_chars < 1:
        raise table.error("max_chars", f"must be a positive number of characters, got {max_chars}")
    return FileFormat(kind, delim, quoting, encoding, table.get("header", bool, base.header), max_chars)


def _extra(table: Table, base: Columns | None) -> tuple[tuple[str, str], ...]:
    """``extra = ["therapy"]`` (key = column) or ``extra = { claim = "Claim" }`` (key → column)."""
    if "extra" not in table.data:
        return base.extra if base else ()
    value = table.data["extra"]
    if isinstance(value, dict):
        for key, column in value.items():
            if not isinstance(column, str):
                raise table.error(f"extra.{key}", f"expected a column name, got {column!r}")
        pairs = tuple(value.items())
    else:
        pairs = tuple((name, name) for name in table.str_list("extra"))
    if base is not None and {k for k, _ in pairs} != set(base.extra_keys):
        raise table.error("extra", f"must give the same keys as the task's [columns].extra {list(base.extra_keys)}")
    return pairs


def read_columns(table: Table, base: Columns | None = None) -> Columns:
    table.reject_unknown({"id", "text", "label", "extra"})
    if base is None:
        columns = Columns(table.get("id", str), table.get("text", str), table.get("label", str), _extra(table, None))
    else:
        columns = Columns(table.get("id", str, base.id), table.get("text", str, base.text),
                          table.get("label", str, base.label), _extra(table, base))
    for field, column in columns.fields():
        if not column.strip():
            raise table.error(field, f"must name a column, got {column!r}")
    return columns


def check_column_numbers(table: Table, columns: Columns, split: str) -> None:
    """A split read without a header (``format.header = false``) names its columns by number:
    each must be a whole number from 0 (``"-1"`` or ``"٣"`` would silently read another column
    or none). ``table`` is the split's own table: a column it sets is named there, else in
    ``[columns]``."""
    own = table.data.get("columns", {}) if isinstance(table.data.get("columns"), dict) else {}
    for field, column in columns.fields():
        if column.isascii() and column.isdigit():
            continue
        key = field.split(".")[0]
        where = (f"splits.{split}.columns.{field}" if key in own else f"columns.{field}")
        raise TaskFileError(table.path, where, f"{column!r} is not a column number: the {split} file has no header "
                                               f"(format.header = false), so its columns are numbered from 0 "
                                               '(e.g. id = "0", text = "1", label = "2")')


def read_submission(table: Table, columns: Columns) -> SubmissionSpec:
    """``[submission]``: what ``alexbench submit`` writes and ``alexbench score`` reads."""
    table.reject_unknown({"file", "id_column", "label_column", "delimiter", "header", "zip"})
    file_name = table.get("file", str)
    if "/" in file_name or "\\" in file_name or file_name in ("", ".", ".."):
        raise table.error("file", f"must be a plain file name, got {file_name!r}")
    return SubmissionSpec(
        file_name, table.get("id_column", str, columns.id), table.get("label_column", str, "label"),
        delimiter(table, "delimiter", "\t"), table.get("header", bool, True), table.get("zip", bool, True),
    )
