"""Canonical JSON, hashing and atomic file writes: nothing half-written survives a crash."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

#: The longest file or folder name the common file systems allow, in bytes (UTF-8).
NAME_MAX = 255

#: A task's or study's longest name (UTF-8 bytes): it names folders (``results/runs/<task>/``,
#: ``leaderboards/<study>/``) and, with suffixes, files (``<task>_per_class_f1.png``).
MAX_NAME_BYTES = 128
NAME_RULE = f"letters, digits, _ - . not starting with '.', at most {MAX_NAME_BYTES} bytes"


def is_name(text: str) -> bool:
    """Whether ``text`` follows the task and study name rule, :data:`NAME_RULE`."""
    return (bool(text) and not text.startswith(".") and len(text.encode("utf-8")) <= MAX_NAME_BYTES
            and all(c.isalnum() or c in "_-." for c in text))


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot become one folder name as it is (None when it can): it is empty, ``.``
    or ``..`` (which name a folder itself or its parent), holds a path separator or a control
    character, or is longer than :data:`NAME_MAX` bytes."""
    if name in ("", ".", ".."):
        return f"must not be empty, '.' or '..' (it names a folder), got {name!r}"
    if any(c in "/\\" or ord(c) < 32 or ord(c) == 127 for c in name):
        return f"must not contain '/', '\\' or control characters (it names a folder), got {name!r}"
    size = len(name.encode("utf-8"))
    if size > NAME_MAX:
        return f"is {size} bytes long (UTF-8), over the {NAME_MAX} a folder name may have"
    return None


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace variance: the input of every content hash."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_obj(obj: Any) -> str:
    return sha256_text(canonical_json(obj))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fresh(parent: Path, prefix: str, create: Callable[[Path], T]) -> tuple[Path, T]:
    """``create(path)`` on a new random name ``<prefix><hex>.tmp`` in ``parent``, retried on the
    rare clash (``create`` must fail with FileExistsError, as mkdir and O_EXCL do)."""
    while True:
        path = Path(parent) / f"{prefix}{secrets.token_hex(6)}.tmp"
        try:
            return path, create(path)
        except FileExistsError:
            continue


def make_temp_dir(parent: Path, prefix: str) -> Path:
    """A temporary folder to be renamed into place. Made by a plain mkdir, so the umask applies
    (mkdtemp's 0700 would make shared results unreadable to the rest of a team or a cluster)."""
    return _fresh(parent, prefix, lambda p: os.mkdir(p, 0o777))[0]


def move_dir_into_place(tmp: Path, final: Path) -> bool:
    """Rename the finished folder ``tmp`` to ``final``. When another process put ``final`` in
    place first (content-addressed: the same content), ``tmp`` is deleted and False returned; a
    concurrent writer never makes this fail, and the folder in place is never touched."""
    try:
        os.rename(tmp, final)  # atomic; fails when final is a non-empty folder
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not Path(final).is_dir():
            raise
        shutil.rmtree(tmp, ignore_errors=True)
        return False
    return True


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over ``path``. The file is
    created with mode 0666 less the umask, as open() would (mkstemp's 0600 would not be shared)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp, fd = _fresh(path.parent, f".{path.name}.", lambda p: os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n")


def atomic_write_jsonl(path: Path, rows: Iterable[Any]) -> None:
    atomic_write_text(path, "".join(canonical_json(row) + "\n" for row in rows))


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def read_jsonl(path: Path) -> list[Any]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


#: SQLite's result codes for a damaged file: SQLITE_CORRUPT and SQLITE_NOTADB (primary codes).
_SQLITE_DAMAGED = (11, 26)


def sqlite_damaged(exc: BaseException) -> bool:
    """Whether an ``sqlite3`` error says the database file is damaged (not "locked", "full" or
    "read-only"): a cache in that state is set aside (:func:`set_aside_damaged`), never trusted."""
    import sqlite3

    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _SQLITE_DAMAGED
    return type(exc) is sqlite3.DatabaseError


def set_aside_damaged(path: Path, inode: int | None) -> Path | None:
    """Move a damaged SQLite file and its ``-wal``/``-shm`` aside as ``<name>.damaged-<time>-<pid>``
    and return that path; ``inode`` is the file's when it was opened (None: not known). When
    ``path`` is no longer that file, another process has already set it aside and started a new
    one: nothing is moved (None)."""
    try:
        if inode is not None and os.stat(path).st_ino != inode:
            return None
    except FileNotFoundError:
        return None
    aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{path}{suffix}")
        if src.exists():
            src.replace(Path(f"{aside}{suffix}"))
    return aside
