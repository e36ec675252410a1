"""The response cache: one SQLite file, one row per (model, prompt, generation parameters).

The key is a hash of the model name, the prompt (messages) hash and every parameter that can
change the reply (temperature, seed, max tokens, response format, the local model file). API
keys and the address of an automatically started local server are never part of it. Only
replies are cached, never failures.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alexbench.fsio import set_aside_damaged, sqlite_damaged

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    params TEXT NOT NULL,
    reply TEXT NOT NULL,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    cost_usd REAL,
    latency_s REAL,
    created REAL NOT NULL
)
"""


def cache_key(model: str, prompt_hash: str, params: Mapping[str, Any]) -> str:
    blob = json.dumps({"model": model, "prompt": prompt_hash, "params": dict(params)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class CachedReply:
    reply: str
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None
    latency_s: float | None


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class ResponseCache:
    """Thread-safe (one connection behind a lock); safe across processes (SQLite WAL)."""

    def __init__(self, path: Path, *, readonly: bool = False, warn: Callable[[str], None] | None = None) -> None:
        """``readonly``: look up only (a dry run); a cache that does not exist yet is empty and is
        not created. ``warn`` says that a damaged cache was set aside (default: stderr)."""
        self.path = Path(path)
        self.readonly = readonly
        self.warn = warn or _to_stderr
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._inode: int | None = None
        if readonly:
            if self.path.is_file():
                self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                           check_same_thread=False, timeout=30)
                try:
                    self._db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
                except sqlite3.DatabaseError as exc:
                    if not sqlite_damaged(exc):
                        raise
                    self._read_only_damaged(exc)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            try:
                self._open()
            except sqlite3.DatabaseError as exc:
                if not sqlite_damaged(exc):
                    raise
                self._set_aside(exc)

    def _read_only_damaged(self, exc: BaseException) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        self.warn(f"warning: the LLM response cache {self.path} is damaged ({exc}): counted as empty here; the next "
                  "run sets it aside and starts a new one")

    def _open(self) -> None:
        """Connect (creating the file and its table when new); called with the lock held."""
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        self._inode = os.stat(self.path).st_ino if self.path.exists() else None
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)
        self._db.commit()
        self._inode = os.stat(self.path).st_ino

    def _set_aside(self, exc: BaseException) -> None:
        """The file is damaged: move it (and its -wal and -shm) aside, unless another process has
        already done so, say so, and start a new cache; called with the lock held."""
        if self._db is not None:
            self._db.close()
            self._db = None
        aside = set_aside_damaged(self.path, self._inode)
        if aside is not None:
            self.warn(f"warning: the LLM response cache {self.path} is damaged ({type(exc).__name__}: {exc}); it was "
                      f"set aside as {aside} and a new cache started, so the replies it held are asked again (delete "
                      f"{aside} when you no longer need it)")
        self._open()

    def _guarded(self, action: Callable[[sqlite3.Connection], object], *, retry: bool) -> object:
        """``action(connection)`` under the lock; a damaged file is set aside and (``retry``) the
        action is done again on the new cache, else it gives None."""
        with self._lock:
            if self._db is None:
                return None
            try:
                return action(self._db)
            except sqlite3.DatabaseError as exc:
                if not sqlite_damaged(exc):
                    raise
                if self.readonly:  # a dry run moves nothing: the cache counts as empty from here on
                    self._read_only_damaged(exc)
                    return None
                self._set_aside(exc)
                return action(self._db) if retry else None  # type: ignore[arg-type]

    def get(self, key: str) -> CachedReply | None:
        row = self._guarded(lambda db: db.execute(
            "SELECT reply, prompt_tokens, completion_tokens, cost_usd, latency_s FROM responses WHERE key = ?",
            (key,)).fetchone(), retry=False)
        return CachedReply(*row) if row else None  # type: ignore[misc]

    def put(self, key: str, model: str, prompt_hash: str, params: Mapping[str, Any], reply: CachedReply) -> None:
        if self.readonly or self._db is None:
            raise RuntimeError("this response cache is read-only")

        def insert(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, model, prompt_hash, json.dumps(dict(params), sort_keys=True), reply.reply,
                 reply.prompt_tokens, reply.completion_tokens, reply.cost_usd, reply.latency_s, time.time()))
            db.commit()

        self._guarded(insert, retry=True)

    def __len__(self) -> int:
        row = self._guarded(lambda db: db.execute("SELECT COUNT(*) FROM responses").fetchone(), retry=True)
        return int(row[0]) if row else 0  # type: ignore[index]

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
