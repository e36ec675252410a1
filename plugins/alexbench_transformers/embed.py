"""``embed_logreg``: frozen sentence embeddings + logistic regression, the cheap rival of fine-tuning.

Each post (with the task's extra inputs as a second segment, as the transformer classifier reads
them) is embedded once by a local sentence-transformers model — the bundled all-MiniLM-L6-v2 by
default, or any folder holding one — with mean pooling over the tokens (or the first token) and
L2 normalisation; a seeded logistic regression (balanced class weights optional; one vs rest on
a multi-label task: :class:`alexbench_baselines.head.LogRegHead`) is fitted on the train posts'
embeddings. Nothing is fine-tuned.

Embeddings are cached per (model, settings, post) in ``results/cache/embeddings/`` (SQLite,
float32): a post is embedded the first time a run needs it, in a length-sorted batch, and every
later run takes that vector, so runs that share posts (seeds, sweeps, variants) embed them once.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from alexbench.fsio import set_aside_damaged, sqlite_damaged
from alexbench.interfaces import Classifier, Context, Post, Prediction

from . import __version__
from .params import BUNDLED_MODEL

EXECUTION_ONLY = {"affects_output": False}


@dataclass(frozen=True)
class EmbedParams:
    #: A local sentence-transformers model folder, or the bundled all-MiniLM-L6-v2.
    model: Annotated[str, Field(pattern=r"\S")] = BUNDLED_MODEL
    pooling: Literal["mean", "cls"] = "mean"
    normalize: bool = True
    max_length: Annotated[int, Field(ge=8)] = 128
    #: The task's extra inputs as a second segment: "auto" (all), "none", or one column.
    text_pair: str = "auto"
    C: Annotated[float, Field(gt=0)] = 1.0
    class_weight: Literal["none", "balanced"] = "none"
    max_iter: Annotated[int, Field(ge=1)] = 2000
    batch_size: Annotated[int, Field(ge=1)] = field(default=64, metadata=EXECUTION_ONLY)
    cache: bool = field(default=True, metadata=EXECUTION_ONLY)
    device: str = field(default="auto", metadata=EXECUTION_ONLY)
    num_threads: Annotated[int, Field(ge=0)] = field(default=0, metadata=EXECUTION_ONLY)


class EmbeddingCache:
    """Vectors by key in one SQLite file (WAL: several processes may share it). A damaged file
    (not a database, or corrupt) is moved aside with a warning naming both paths, and a new cache
    is started: its vectors are computed again, nothing fails."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._inode: int | None = None  # the file's when opened: a file set aside by another process is left alone
        try:
            self._open()
        except sqlite3.DatabaseError as exc:
            if not sqlite_damaged(exc):
                raise
            self._set_aside(exc)

    def _open(self) -> None:
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=60)
        self._inode = os.stat(self.path).st_ino if self.path.exists() else None
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, dim INTEGER, data BLOB)")
        self._db.commit()
        self._inode = os.stat(self.path).st_ino

    def _set_aside(self, exc: BaseException) -> None:
        """Move the damaged file aside (unless another process already did) and start a new cache."""
        import sys

        if self._db is not None:
            self._db.close()
        aside = set_aside_damaged(self.path, self._inode)
        if aside is not None:
            print(f"warning: the embedding cache {self.path} is damaged ({type(exc).__name__}: {exc}); it was set "
                  f"aside as {aside} and a new cache started, so its posts are embedded again (delete {aside} when "
                  "you no longer need it)", file=sys.stderr, flush=True)
        self._open()

    def _guarded(self, action: Any) -> Any:
        with self._lock:
            assert self._db is not None
            try:
                return action(self._db)
            except sqlite3.DatabaseError as exc:
                if not sqlite_damaged(exc):
                    raise
                self._set_aside(exc)
                return action(self._db)

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        def read(db: sqlite3.Connection) -> dict[str, bytes]:
            out: dict[str, bytes] = {}
            for start in range(0, len(keys), 500):
                chunk = list(keys[start:start + 500])
                out.update(db.execute(f"SELECT key, data FROM vectors WHERE key IN ({','.join('?' * len(chunk))})",
                                      chunk).fetchall())
            return out

        return self._guarded(read)

    def put_many(self, items: Sequence[tuple[str, int, bytes]]) -> None:
        def write(db: sqlite3.Connection) -> None:
            db.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?, ?)", items)
            db.commit()

        self._guarded(write)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


class Embedder:
    """A local model's sentence embeddings of posts, in input order (float32, (N, D))."""

    def __init__(self, params: EmbedParams, task: Any, device: str) -> None:
        from .batching import pair_keys
        from .model_source import resolve_model

        self.params, self.device = params, device
        self.source = resolve_model(params.model)
        self.keys = pair_keys(params.text_pair, task)
        settings = f"{self.source.sha256}\0{params.pooling}\0{params.normalize}\0{params.max_length}\0{self.keys}"
        self.model_key = hashlib.sha256(settings.encode()).hexdigest()[:24]
        self._model: Any = None
        self._tokenizer: Any = None

    def post_key(self, post: Post) -> str:
        from .batching import pair_text

        return hashlib.sha256(f"{post.text}\0{pair_text(post, self.keys)}".encode()).hexdigest()

    def _load(self) -> None:
        if self._model is None:
            from transformers import AutoModel, AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(self.source.path, local_files_only=True)
            self._model = AutoModel.from_pretrained(self.source.path, local_files_only=True).to(self.device).eval()

    def compute(self, posts: Sequence[Post], ctx: Context) -> Any:
        """Embed ``posts`` (no cache), length-sorted batches, in input order."""
        import numpy as np
        import torch

        from .batching import collate, encode, length_sorted_batches

        self._load()
        p = self.params
        encoded = encode(self._tokenizer, posts, self.keys, p.max_length)
        out = np.empty((len(posts), self._model.config.hidden_size), dtype=np.float32)
        batches = length_sorted_batches(encoded.lengths(), p.batch_size)
        pad = self._tokenizer.pad_token_id or 0
        with torch.inference_mode():
            for indices in ctx.track(batches, "embedding posts", len(batches)):
                batch = {k: v.to(self.device) for k, v in collate([encoded.features[i] for i in indices], pad).items()}
                hidden = self._model(**batch).last_hidden_state
                if p.pooling == "mean":
                    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                    vectors = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                else:
                    vectors = hidden[:, 0]
                if p.normalize:
                    vectors = torch.nn.functional.normalize(vectors, dim=-1)
                out[indices] = vectors.float().cpu().numpy()
        return out

    def embed(self, posts: Sequence[Post], ctx: Context) -> tuple[Any, int]:
        """The posts' vectors, from the cache where it has them; and how many were computed."""
        import numpy as np

        if not posts:
            return np.empty((0, 0), dtype=np.float32), 0
        if not self.params.cache or ctx.cache_dir is None:
            return self.compute(posts, ctx), len(posts)
        cache = EmbeddingCache(Path(ctx.cache_dir) / "embeddings" / f"{self.model_key}.sqlite")
        try:
            keys = [self.post_key(p) for p in posts]
            found = cache.get_many(sorted(set(keys)))
            missing = sorted({k for k in keys if k not in found})
            if missing:
                first = {}
                for post, key in zip(posts, keys):
                    first.setdefault(key, post)
                vectors = self.compute([first[k] for k in missing], ctx)
                cache.put_many([(k, int(v.shape[0]), v.astype(np.float32).tobytes()) for k, v in zip(missing, vectors)])
                found.update({k: v.astype(np.float32).tobytes() for k, v in zip(missing, vectors)})
            return np.stack([np.frombuffer(found[k], dtype=np.float32) for k in keys]), len(missing)
        finally:
            cache.close()


class EmbedLogReg(Classifier):
    """Frozen sentence embeddings (mean-pooled all-MiniLM-L6-v2 by default) + logistic regression."""

    name = "embed_logreg"
    version = __version__
    Params = EmbedParams
    params: EmbedParams
    multi_label = True

    def _embedder(self, ctx: Context) -> Embedder:
        embedder = getattr(self, "_emb", None)
        if embedder is None:
            from alexbench.run.device import select_device

            from .model_source import force_offline

            force_offline()
            device = select_device(ctx.device if self.params.device == "auto" else self.params.device)
            embedder = self._emb = Embedder(self.params, ctx.task, device)
        return embedder

    def fit(self, train: Sequence[Post], dev: Sequence[Post], ctx: Context) -> dict[str, Any]:
        from alexbench_baselines.head import LogRegHead

        from .runtime import torch_settings

        embedder = self._embedder(ctx)
        with torch_settings(embedder.device, self.params.num_threads):
            x, computed = embedder.embed(train, ctx)
        p = self.params
        self._head = LogRegHead(p.C, p.max_iter, p.class_weight, ctx.seed)
        report = self._head.fit(x, train, ctx)
        return {"model": str(embedder.source.name), "model_sha256": embedder.source.sha256, "dim": int(x.shape[1]),
                "embedded_now": computed, "from_cache": len(train) - computed, **report}

    def predict(self, posts: Sequence[Post], ctx: Context) -> Prediction:
        from .runtime import torch_settings

        embedder = self._embedder(ctx)
        with torch_settings(embedder.device, self.params.num_threads):
            x, computed = embedder.embed(posts, ctx)
        ctx.log(f"classifier embed_logreg: {len(posts)} posts, {computed} embedded now, "
                f"{len(posts) - computed} from the cache")
        return self._head.predict(x, len(posts), ctx)
