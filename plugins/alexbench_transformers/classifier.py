"""The ``transformer`` classifier: fine-tunes a BERT-style encoder for the task's labels.

Fixes over the original ALEX code: the best epoch on dev (by the task's official metric) is
kept instead of the last; everything is seeded; inference is batched with dynamic padding
and length-sorted batches; nothing is pushed to or pulled from a hub; extra input columns
(Task 2's therapy, the stance stand-in's claim) are used as the second segment of a text pair.

On a multi-label task the head has one logit per label, read through a sigmoid; the loss is
binary cross-entropy (or sigmoid focal loss) with a per-label pos_weight, and each label gets a
decision threshold tuned on dev for its F1, at every epoch, the chosen epoch's thresholds being
kept with the model (labelsets.py).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from .model_source import force_offline

force_offline()  # before transformers / huggingface_hub read their settings

import torch  # noqa: E402
from transformers import AutoModelForSequenceClassification, AutoTokenizer  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

from alexbench.config.tasks import TaskSpec  # noqa: E402
from alexbench.errors import AlexbenchError, ParamError  # noqa: E402
from alexbench.interfaces import Classifier, Context, Post, Prediction  # noqa: E402
from alexbench.run.device import select_device  # noqa: E402
from alexbench.scoring.metrics import BUILTIN_METRICS, Metric, ScoreInput  # noqa: E402

from . import __version__, cache  # noqa: E402
from .batching import encode, pair_keys, training_order  # noqa: E402
from .engine import make_optimisation, predict_probs, train_epoch, updates_per_epoch  # noqa: E402
from .labelsets import (  # noqa: E402
    DEFAULT_THRESHOLD,
    DEV_F1,
    by_label,
    label_matrix,
    sample_weights,
    thresholds_from_report,
    tune_thresholds,
)
from .losses import label_pos_weights, make_loss, resolve_class_weights  # noqa: E402
from .model_source import ModelSource, resolve_model  # noqa: E402
from .params import TransformerParams  # noqa: E402
from .runtime import autocast_dtype, seed_all, torch_settings  # noqa: E402


def official_metric(task: TaskSpec) -> Metric:
    """The task's official metric: a built-in one, else looked up among the plugins' metrics."""
    for metric in BUILTIN_METRICS:
        if metric.name == task.official_metric:
            return metric
    from alexbench.plugin.host import PluginHost

    return PluginHost().metrics.get(task.official_metric)


def dev_score(task: TaskSpec, metric: Metric, posts: Sequence[Post], pred: Sequence[str]) -> float | None:
    value = metric(ScoreInput([str(p.label) for p in posts], list(pred), list(task.labels), task.positive,
                              [p.extra for p in posts], task.metric_params, task.multi_label))
    return None if value is None else float(value)


def better(metric: Metric, score: float, best: float | None) -> bool:
    """Whether ``score`` beats ``best`` (None: nothing yet) in the metric's direction."""
    return best is None or (score > best if metric.higher_is_better else score < best)


def _load(path: str, **kwargs: Any) -> tuple[Any, Any]:
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # "newly initialized classifier weights" is expected here
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True, **kwargs)
    except OSError as exc:
        raise AlexbenchError(f"could not load the model from {path}: {exc}") from exc
    finally:
        hf_logging.set_verbosity(level)
    return tokenizer, model


class TransformerClassifier(Classifier):
    """Fine-tuned transformer encoder with balanced-training options (ALEX stage 2)."""

    name = "transformer"
    version = __version__
    Params = TransformerParams
    multi_label = True

    def __init__(self, params: TransformerParams | None = None) -> None:
        super().__init__(params)
        self._model: Any = None
        self._tokenizer: Any = None
        self._device = "cpu"
        self._amp: torch.dtype | None = None
        self._keys: tuple[str, ...] = ()
        self._thresholds: list[float] | None = None  # multi-label: one decision threshold per label

    # -- helpers -----------------------------------------------------------------------------
    def _resolve_device(self, ctx: Context) -> str:
        wanted = self.params.device if self.params.device != "auto" else (ctx.device or "auto")
        try:
            return select_device(wanted)
        except ValueError as exc:
            raise ParamError(f"classifier 'transformer': {exc} (set device = 'cpu' or run with --device cpu)") from None

    def _probs(self, posts: Sequence[Post], ctx: Context, description: str) -> torch.Tensor:
        p: TransformerParams = self.params
        encoded = encode(self._tokenizer, posts, self._keys, p.max_length)
        return predict_probs(self._model, encoded, batch_size=p.eval_batch_size, device=self._device,
                             pad_id=self._tokenizer.pad_token_id or 0, amp_dtype=self._amp,
                             left_pad=self._tokenizer.padding_side == "left",
                             track=lambda items, desc, total: ctx.track(items, desc, total), description=description,
                             multi_label=ctx.task.multi_label)

    def _labels(self, probs: torch.Tensor, labels: Sequence[str]) -> list[str]:
        return [labels[i] for i in probs.argmax(dim=-1).tolist()]

    def _decide(self, probs: torch.Tensor, task: TaskSpec, thresholds: list[float] | None) -> list[str]:
        """Predicted labels: the most probable class, or (multi-label) the labels at or above their thresholds."""
        if not task.multi_label:
            return self._labels(probs, list(task.labels))
        return task.label_space.decide(probs.tolist(), thresholds)

    # -- Classifier ----------------------------------------------------------------------------
    def fit(self, train: Sequence[Post], dev: Sequence[Post], ctx: Context) -> dict[str, Any]:
        p: TransformerParams = self.params
        task, labels = ctx.task, list(ctx.task.labels)
        if not train:
            raise AlexbenchError("classifier 'transformer': the train split is empty")
        if task.multi_label:
            unknown = sorted({label for post in train for label in task.label_set(post.label)} - set(labels))
        else:
            unknown = sorted({str(post.label) for post in train} - set(labels))
        if unknown:
            raise AlexbenchError(f"classifier 'transformer': train labels {unknown} are not task labels {labels}")
        self._device = self._resolve_device(ctx)
        self._amp = autocast_dtype(self._device, p.precision)
        self._keys = pair_keys(p.text_pair, task)
        if task.multi_label:
            weights = self._pos_weights(train, ctx)
        else:
            weights = resolve_class_weights(p.class_weights, p.loss, [str(x.label) for x in train], labels,
                                            task.positive)
        if (not task.multi_label and p.class_weights == "auto" and weights is not None
                and max(weights) - min(weights) < 0.01 * max(weights)):
            ctx.log(f"WARNING transformer: class_weights='auto' on a train split whose classes are balanced gives "
                    f"equal weights {[round(w, 3) for w in weights]}, so loss={p.loss!r} weights nothing here (an "
                    "augmenter or resampling balanced the split); give explicit class_weights to weight classes")
        source = resolve_model(p.model)
        device_kind = "cuda" if self._device.startswith("cuda") else "cpu"
        key = cache.model_key(source, p, ctx.seed, list(train), list(dev), task, device_kind)

        with torch_settings(self._device, p.num_threads):
            folder = cache.cached_dir(ctx.cache_dir, key)
            if folder is not None:
                self._tokenizer, self._model = _load(str(folder), use_safetensors=True)
                self._model.to(self._device)
                report = cache.read_report(folder)
                self._thresholds = thresholds_from_report(report, labels) if task.multi_label else None
                ctx.log(f"transformer: model {key} served from the cache ({folder})")
                return {**report, "cached": True, "cache_key": key, "device": self._device}
            report = self._train(train, dev, ctx, source, weights)
            report.update(cache_key=key, cached=False)
            if ctx.cache_dir is not None:
                saved = cache.save(ctx.cache_dir, key, self._model, self._tokenizer, report)
                ctx.log(f"transformer: trained model cached in {saved}")
        return report

    def _pos_weights(self, train: Sequence[Post], ctx: Context) -> list[float] | None:
        """Multi-label: the per-label pos_weight of the loss (logging the labels 'auto' cannot weight)."""
        p: TransformerParams = self.params
        labels = list(ctx.task.labels)
        counts = label_matrix([str(x.label) for x in train], labels).sum(0).tolist()
        weights, fallback = label_pos_weights(p.class_weights, p.loss, counts, len(train), labels)
        if fallback:
            ctx.log(f"WARNING transformer: labels {fallback} have no positive (or no negative) post in train, so "
                    f"class_weights='auto' gives them pos_weight 1 (train label counts: "
                    f"{dict(zip(labels, counts))})")
        return weights

    def _train(self, train: Sequence[Post], dev: Sequence[Post], ctx: Context, source: ModelSource,
               weights: list[float] | None) -> dict[str, Any]:
        p: TransformerParams = self.params
        task, labels = ctx.task, list(ctx.task.labels)
        multi = task.multi_label
        start = time.perf_counter()
        seed_all(ctx.seed)  # the new classification head is drawn from torch's global generator
        self._tokenizer, self._model = _load(
            str(source.path), num_labels=len(labels), id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)}, ignore_mismatched_sizes=True,
            **({"problem_type": "multi_label_classification"} if multi else {}))
        model, tokenizer = self._model.to(self._device), self._tokenizer
        pad_id, left = tokenizer.pad_token_id or 0, tokenizer.padding_side == "left"

        encoded = encode(tokenizer, train, self._keys, p.max_length)
        if multi:
            y = label_matrix([str(post.label) for post in train], labels)
            targets = torch.tensor(y, dtype=torch.float32)
            dev_gold = label_matrix([str(post.label) for post in dev], labels)
        else:
            index = {label: i for i, label in enumerate(labels)}
            targets = torch.tensor([index[str(post.label)] for post in train], dtype=torch.long)
        post_weights = None
        if p.sampler == "weighted" and multi:
            post_weights = sample_weights(y)
        elif p.sampler == "weighted":
            per_class = resolve_class_weights("auto", "weighted_ce", [str(x.label) for x in train], labels)
            post_weights = [per_class[t] for t in targets.tolist()]
        generator = torch.Generator().manual_seed(ctx.seed)
        n_batches = -(-len(train) // p.batch_size)
        opt = make_optimisation(model, lr=p.lr, weight_decay=p.weight_decay, warmup=p.warmup,
                                total_steps=updates_per_epoch(n_batches, p.grad_accum) * p.epochs,
                                grad_accum=p.grad_accum, max_grad_norm=p.max_grad_norm, amp_dtype=self._amp)
        loss_fn = make_loss(p.loss, weights, p.focal_gamma, self._device, multi_label=multi)
        metric = official_metric(task)
        track = lambda items, desc, total: ctx.track(items, desc, total)  # noqa: E731

        history: list[dict[str, Any]] = []
        best_score, best_epoch, best_state, stale, stopped_early = None, 0, None, 0, False
        thresholds: dict[int, list[float]] = {}  # multi-label: the thresholds tuned on dev at each epoch
        for epoch in ctx.track(range(1, p.epochs + 1), "fine-tuning: epochs", p.epochs):
            t0 = time.perf_counter()
            batches = training_order(len(train), p.batch_size, generator, post_weights)
            loss = train_epoch(model, encoded, targets, batches, opt=opt, loss_fn=loss_fn, device=self._device,
                               pad_id=pad_id, amp_dtype=self._amp, left_pad=left, track=track,
                               description=f"epoch {epoch}/{p.epochs}: batches")
            row: dict[str, Any] = {"epoch": epoch, "train_loss": round(loss, 6),
                                   "train_time_s": round(time.perf_counter() - t0, 3)}
            score = None
            if dev:
                probs = self._probs(dev, ctx, f"epoch {epoch}/{p.epochs}: dev")
                if multi:
                    thresholds[epoch] = tune_thresholds(probs.numpy(), dev_gold)
                score = dev_score(task, metric, dev, self._decide(probs, task, thresholds.get(epoch)))
                row[f"dev_{task.official_metric}"] = score
            history.append(row)
            ctx.log(f"transformer: epoch {epoch} loss {loss:.4f} dev {task.official_metric} {score}")
            if score is not None and better(metric, score, best_score):
                best_score, best_epoch, stale = score, epoch, 0
                if p.select_best and epoch < p.epochs:
                    best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
                elif p.select_best:
                    best_state = None  # the current weights are the best: nothing to restore
            else:
                stale += 1
                if p.early_stopping and stale >= p.early_stopping:
                    stopped_early = True
                    break
        last_epoch = history[-1]["epoch"]
        chosen = best_epoch if (p.select_best and best_epoch) else last_epoch
        if chosen != last_epoch and best_state is not None:
            model.load_state_dict(best_state)
        report = {
            "model": p.model,
            "model_dir": str(source.path),
            "model_sha256": source.sha256,
            "device": self._device,
            "precision": str(self._amp).replace("torch.", "") if self._amp else "fp32",
            "threads": torch.get_num_threads(),
            "train_rows": len(train),
            "dev_rows": len(dev),
            "text_pair": list(self._keys),
            "loss": p.loss,
            "class_weights": weights,
            "sampler": p.sampler,
            "selection_metric": task.official_metric,
            "epochs": history,
            "best_epoch": best_epoch or None,
            "chosen_epoch": chosen,
            "best_dev": best_score,
            "early_stopped": stopped_early,
            "train_time_s": round(time.perf_counter() - start, 3),
        }
        if multi:
            self._thresholds = thresholds.get(chosen, [DEFAULT_THRESHOLD] * len(labels))
            del report["class_weights"]
            report.update(train_label_counts={label: int(c) for label, c in zip(labels, y.sum(0))},
                          pos_weight=by_label(weights, labels) if weights is not None else None,
                          thresholds=by_label(self._thresholds, labels),
                          threshold_tuning=DEV_F1 if chosen in thresholds else "none (no dev posts): 0.5")
        return report

    def predict(self, posts: Sequence[Post], ctx: Context) -> Prediction:
        if self._model is None:
            raise AlexbenchError("classifier 'transformer': predict called before fit")
        if not posts:
            return Prediction([], [])
        with torch_settings(self._device, self.params.num_threads):
            probs = self._probs(posts, ctx, "predicting")
        return Prediction(self._decide(probs, ctx.task, self._thresholds), probs.tolist())
