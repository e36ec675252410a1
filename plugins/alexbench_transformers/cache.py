"""The trained-model cache: ``<cache_dir>/models/<key>/`` holds safetensors weights, the
tokenizer and the fit report. The key covers everything that determines the weights, so
variants that differ only downstream (e.g. in the explainer) reuse one trained model."""

from __future__ import annotations

import dataclasses
import json
import shutil
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


def cached_dir(cache_dir: Path | None, key: str) -> Path | None:
    """The cached model folder for ``key`` when it is complete, else None."""
    if cache_dir is None:
        return None
    folder = Path(cache_dir) / "models" / key
    if (folder / WEIGHTS).is_file() and (folder / REPORT).is_file() and (folder / "config.json").is_file():
        return folder
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
