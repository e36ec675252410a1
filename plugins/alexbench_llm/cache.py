"""The response cache: one SQLite file, one row per (model, prompt, generation parameters).

The key is a hash of the model name, the prompt (messages) hash and every parameter that can
change the reply (temperature, seed, max tokens, response format, the local model file). API
keys and the address of an automatically started local server are never part of it. Only
replies are cached, never failures.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


class ResponseCache:
    """Thread-safe (one connection behind a lock); safe across processes (SQLite WAL)."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        """``readonly``: look up only (a dry run); a cache that does not exist yet is empty and is
        not created."""
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if readonly:
            if self.path.is_file():
                self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                           check_same_thread=False, timeout=30)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
            self._db.commit()

    def get(self, key: str) -> CachedReply | None:
        if self._db is None:
            return None
        with self._lock:
            row = self._db.execute(
                "SELECT reply, prompt_tokens, completion_tokens, cost_usd, latency_s FROM responses WHERE key = ?",
                (key,)).fetchone()
        return CachedReply(*row) if row else None

    def put(self, key: str, model: str, prompt_hash: str, params: Mapping[str, Any], reply: CachedReply) -> None:
        if self._db is None:
            raise RuntimeError("this response cache is read-only")
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, model, prompt_hash, json.dumps(dict(params), sort_keys=True), reply.reply,
                 reply.prompt_tokens, reply.completion_tokens, reply.cost_usd, reply.latency_s, time.time()))
            self._db.commit()

    def __len__(self) -> int:
        if self._db is None:
            return 0
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
