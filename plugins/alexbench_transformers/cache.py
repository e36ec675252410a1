"""The trained-model cache: ``<cache_dir>/models/<key>/`` holds safetensors weights, the
tokenizer and the fit report. The key covers everything that determines the weights, so
variants that differ only downstream (e.g. in the explainer) reuse one trained model.

A cached folder is checked before it is used: its weights file must be a whole safetensors file
(its header read, every tensor's bytes present: a copy or a disk cut short is not), and its JSON
files must parse. A damaged folder is set aside as ``<key>.damaged-<time>`` (beside the others,
never read again) and the model is trained again, saying so on stderr: a cache only saves work,
so one bad file no longer fails every later run that needs it."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alexbench.config.tasks import TaskSpec
from alexbench.data.splits import posts_fingerprint
from alexbench.fsio import atomic_write_json, make_temp_dir, move_dir_into_place, sha256_obj
from alexbench.interfaces import Post
from alexbench.run.provenance import package_version

from . import __version__
from .model_source import ModelSource
from .params import TransformerParams

REPORT = "fit_report.json"
#: How a multi-label model's thresholds are tuned (part of its key: a change retrains, since the
#: cached report holds the thresholds that its predictions use).
THRESHOLD_TUNING = "dev_f1/1"
WEIGHTS = "model.safetensors"


def model_key(source: ModelSource, params: TransformerParams, seed: int, train: list[Post], dev: list[Post],
              task: TaskSpec, device_kind: str) -> str:
    """Hash of (model files, training params, seed, train and dev data, labels, selection metric,
    device kind, software versions; on a multi-label task also its "none" value and how thresholds
    are tuned). ``device`` itself is replaced by the kind actually used."""
    training = {k: v for k, v in dataclasses.asdict(params).items() if k not in ("device", "model")}
    # A multi-label model's fit also tunes its thresholds (kept in the report) and picks its epoch
    # by label sets, which depend on the task's "none" value; single-label keys stay as they were.
    label_sets = {"label_sets": {"empty": task.empty, "thresholds": THRESHOLD_TUNING}} if task.multi_label else {}
    return sha256_obj({
        "plugin": __version__,
        "model_sha256": source.sha256,
        "params": training,
        "seed": seed,
        "train": posts_fingerprint(train),
        "dev": posts_fingerprint(dev),
        "labels": list(task.labels),
        "selection": [task.official_metric, task.metric_params, task.positive],
        "device": device_kind,
        "versions": {d: package_version(d) for d in ("torch", "transformers", "tokenizers")},
        **label_sets,
    })[:24]


#: Bytes per element of each safetensors dtype (an unknown dtype is not checked for size).
_DTYPE_BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "U16": 2, "I16": 2, "F16": 2, "BF16": 2,
                "U32": 4, "I32": 4, "F32": 4, "U64": 8, "I64": 8, "F64": 8}


def safetensors_problem(path: Path) -> str | None:
    """Why ``path`` is not a whole safetensors file (its 8-byte header length, its JSON header,
    and every tensor's bytes up to the end of the file), or None. Reads the header only."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) < 8:
            return f"{size} bytes: too short for a safetensors header"
        length = int.from_bytes(head, "little")
        if length > size - 8:
            return f"its header says {length} bytes but the file has {size}"
        try:
            header = json.loads(f.read(length))
        except (UnicodeDecodeError, ValueError):
            return "its header is not JSON"
    if not isinstance(header, dict):
        return "its header is not a JSON object"
    end = 0
    for name, tensor in header.items():
        if name == "__metadata__":
            continue
        try:
            begin, stop = (int(x) for x in tensor["data_offsets"])
            per = _DTYPE_BYTES.get(tensor["dtype"])
            count = math.prod(int(d) for d in tensor["shape"])
        except (KeyError, TypeError, ValueError):
            return f"tensor {name!r} has no valid dtype, shape and data_offsets"
        if not 0 <= begin <= stop or (per is not None and stop - begin != per * count):
            return f"tensor {name!r} has data_offsets {[begin, stop]} for its shape and dtype"
        end = max(end, stop)
    if 8 + length + end != size:
        return f"truncated: its tensors need {8 + length + end} bytes, the file has {size}"
    return None


def folder_problem(folder: Path) -> str | None:
    """Why a complete-looking cached model folder cannot be used, or None."""
    try:
        problem = safetensors_problem(folder / WEIGHTS)
        if problem:
            return f"{WEIGHTS}: {problem}"
        for path in sorted(folder.glob("*.json")):
            try:
                json.loads(path.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                return f"{path.name} is not valid JSON ({exc})"
    except OSError as exc:
        return f"cannot be read ({exc})"
    return None


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cached_dir(cache_dir: Path | None, key: str, warn: Callable[[str], None] | None = None) -> Path | None:
    """The cached model folder for ``key`` when it is complete and whole, else None. A damaged
    folder (:func:`folder_problem`) is set aside as ``<key>.damaged-<time>``, said with ``warn``
    (default: stderr), and None is returned, so the model is trained again."""
    if cache_dir is None:
        return None
    folder = Path(cache_dir) / "models" / key
    if not ((folder / WEIGHTS).is_file() and (folder / REPORT).is_file() and (folder / "config.json").is_file()):
        return None
    problem = folder_problem(folder)
    if problem is None:
        return folder
    aside = folder.with_name(f"{key}.damaged-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
    try:
        folder.rename(aside)
    except FileNotFoundError:  # another process set it aside first
        return None
    (warn or _to_stderr)(f"warning: the cached model {folder} is damaged ({problem}); it was set aside as {aside} "
                         f"and the model is trained again (delete {aside} when you no longer need it)")
    return None


def read_report(folder: Path) -> dict[str, Any]:
    return json.loads((folder / REPORT).read_text(encoding="utf-8"))


def save(cache_dir: Path, key: str, model: Any, tokenizer: Any, report: dict[str, Any]) -> Path:
    """Write into a temporary folder then rename it into place (a crash leaves no half model)."""
    root = Path(cache_dir) / "models"
    root.mkdir(parents=True, exist_ok=True)
    final = root / key
    tmp = make_temp_dir(root, f".{key}.")
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        atomic_write_json(tmp / REPORT, report)
        move_dir_into_place(tmp, final)  # another process that finished the same model first keeps its folder
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
