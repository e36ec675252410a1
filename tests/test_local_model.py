"""The local model file is hashed once per process and file state (plugins/alexbench_llm/local_model.py).

The label scorer and the paraphraser resolve the model for every question; before this memo each
resolution hashed the 253 MB bundled GGUF again (~0.2 s, more than scoring the post). A file whose
state changes (rewritten, cut short, replaced) is hashed again, so damage is still found."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

from .conftest import REPO

sys.path.insert(0, str(REPO / "plugins"))

from alexbench_llm.local_model import bundled_gguf, gguf_file  # noqa: E402

from alexbench.errors import FailureError  # noqa: E402


def test_a_user_gguf_is_hashed_again_only_when_its_file_changes(tmp_path: Path) -> None:
    model = tmp_path / "model.gguf"
    model.write_bytes(b"first model " * 1000)
    first = gguf_file(str(model))
    assert first.sha256 == hashlib.sha256(model.read_bytes()).hexdigest() and first.path == model.resolve()

    # Rewritten in place with its size and modification time put back: the same file state, so
    # this process does not read it again (what a second question of the same run sees).
    stat = model.stat()
    model.write_bytes(b"other model " * 1000)
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert gguf_file(str(model)).sha256 == first.sha256

    # Any visible change (here the modification time) is hashed again and names the new content.
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert gguf_file(str(model)).sha256 == hashlib.sha256(b"other model " * 1000).hexdigest()


def test_the_bundled_model_is_verified_once_and_damage_is_still_found(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """In a fresh cache folder: assembled and verified on the first call, remembered on the
    second; cut short afterwards, the next call hashes it again and names the damage and the fix."""
    monkeypatch.setenv("HOME", str(tmp_path))
    model = bundled_gguf()
    assert model.path.is_relative_to(tmp_path) and model.path.stat().st_size > 200_000_000
    assert bundled_gguf() == model
    with model.path.open("r+b") as fh:
        fh.truncate(1 << 20)
    with pytest.raises(FailureError, match="is damaged .* delete it"):
        bundled_gguf()
    model.path.unlink()
    assert bundled_gguf() == model  # assembled again, offline
