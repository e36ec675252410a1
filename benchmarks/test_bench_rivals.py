"""The rivals of issue 28, measured side by side in one run:

* the ``llm`` classifier's local label scoring on the demo (bundled Gemma-3-270M, llama.cpp in its
  child process, prefix state reused): seconds per post and per (post, label), zero-shot and
  4-shot (2 examples per class); goal ≤ 0.3 s per post per label zero-shot; and the wall time per
  post against the model's own time for it (goal ≤ 1.2×: the harness adds little to the model);
* ``embed_logreg``'s embedding throughput (posts/s) on CONSTRAINT 2021's 6,420 train posts
  against a hand-written torch loop over the same model, tokens and batch size (goal ≥ 0.9×), and
  the whole run (embed train + dev + test, fit, predict) from an empty cache.

    python -m pytest benchmarks/test_bench_rivals.py -m bench

CONSTRAINT comes from ``../shared/data`` (or ``ALEXBENCH_DATA_ROOT``); the test skips without it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from alexbench.config.tasks import load_task
from alexbench.data.splits import load_dataset
from alexbench.interfaces import Context

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plugins"))
from alexbench_llm.classifier import LLMClassifier  # noqa: E402

pytestmark = pytest.mark.bench
DEMO = REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml"
STANDINS = REPO / "plugins" / "alexbench_tasks" / "tasks" / "standins"
DATA_ROOT = Path(os.environ.get("ALEXBENCH_DATA_ROOT", REPO.parent / "shared" / "data"))
N_POSTS = 40


@pytest.mark.parametrize("shots", [0, 2], ids=["zero-shot", "4-shot"])
def test_local_label_scoring_seconds_per_post(benchmark, shots: int, record_ratio) -> None:
    task = load_task(DEMO)
    data = load_dataset(task)
    posts = data.test[:N_POSTS]
    ctx = Context(task=task, seed=1)  # no cache_dir: every post goes to the model
    clf = LLMClassifier.from_params({"shots": shots, "calibrate": False, "cache": False})
    clf.fit(data.train, [], ctx)
    clf.predict(posts[:2], ctx)  # the child process started, the prefix state saved

    pred = benchmark.pedantic(lambda: clf.predict(posts, ctx), rounds=2, iterations=1)
    per_post = benchmark.stats.stats.min / len(posts)
    per_label = per_post / len(task.labels)
    benchmark.extra_info.update(seconds_per_post=per_post, seconds_per_post_per_label=per_label,
                                model_p50_s=pred.usage["latency_p50_s"])
    record_ratio(f"llm classifier, local, {shots * len(task.labels)}-shot: s per post per label", per_label,
                 goal="<= 0.3", unit="s", detail=f"{per_post:.3f} s/post; {len(posts)} demo posts, prefix reused")
    # Against the limit: the model's own time for a post (one request, every label scored from the
    # saved prefix state) is what a post must cost; the rest is the harness. Before the local model's
    # hash was remembered it was 2x (0.23 s of file hashing a post).
    model_s = pred.usage["latency_p50_s"]
    record_ratio(f"llm classifier, local, {shots * len(task.labels)}-shot: wall per post vs the model's own time",
                 per_post / model_s, goal="<= 1.2",
                 detail=f"{per_post:.3f} s/post wall, model p50 {model_s:.3f} s/post (the engine's child, IPC included)")


@pytest.mark.skipif(not (DATA_ROOT / "constraint2021_covid_fakenews").is_dir(),
                    reason=f"CONSTRAINT 2021 is not under {DATA_ROOT}")
def test_embedding_throughput_vs_a_hand_written_loop(benchmark, record_ratio, tmp_path) -> None:
    import torch
    from alexbench_transformers.embed import Embedder, EmbedLogReg, EmbedParams
    from alexbench_transformers.runtime import torch_settings
    from transformers import AutoModel, AutoTokenizer

    task = load_task(STANDINS / "constraint2021.toml", data_root=DATA_ROOT)
    data = load_dataset(task)
    posts = data.train
    ctx = Context(task=task, seed=1, device="cpu")
    params = EmbedParams(cache=False)
    embedder = Embedder(params, task, "cpu")

    def plugin() -> None:
        with torch_settings("cpu", 0):
            embedder.compute(posts, ctx)

    tokenizer = AutoTokenizer.from_pretrained(embedder.source.path, local_files_only=True)
    model = AutoModel.from_pretrained(embedder.source.path, local_files_only=True).eval()
    texts = [p.text for p in posts]

    def hand_written() -> None:  # what a user would write: tokenizer batches in input order
        with torch_settings("cpu", 0), torch.inference_mode():
            for start in range(0, len(texts), params.batch_size):
                batch = tokenizer(texts[start:start + params.batch_size], padding=True, truncation=True,
                                  max_length=params.max_length, return_tensors="pt")
                hidden = model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9), dim=-1)

    plugin()  # warm-up: the model loaded, the threads started
    hand_written()
    start = time.perf_counter()
    hand_written()
    hand_s = time.perf_counter() - start
    benchmark.pedantic(plugin, rounds=1, iterations=1)
    plugin_s = benchmark.stats.stats.min
    ratio = hand_s / plugin_s  # throughput ratio: plugin posts/s over the loop's
    benchmark.extra_info.update(plugin_posts_per_s=len(posts) / plugin_s, loop_posts_per_s=len(posts) / hand_s,
                                throughput_ratio=ratio)
    record_ratio("embed_logreg embedding throughput vs hand-written loop", ratio, goal=">= 0.9",
                 detail=f"{len(posts) / plugin_s:.0f} vs {len(posts) / hand_s:.0f} posts/s, CONSTRAINT train")

    clf = EmbedLogReg.from_params({"cache": True})
    run_ctx = Context(task=task, seed=1, device="cpu", cache_dir=tmp_path)
    start = time.perf_counter()
    clf.fit(data.train, data.dev, run_ctx)
    clf.predict(data.dev, run_ctx)
    clf.predict(data.test, run_ctx)
    whole = time.perf_counter() - start
    benchmark.extra_info["whole_run_s"] = whole
    record_ratio("embed_logreg whole run on CONSTRAINT, empty cache", whole, unit="s",
                 detail=f"{len(data.train) + len(data.dev) + len(data.test)} posts embedded, fit, predicted")
