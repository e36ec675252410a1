"""Transformer classifier speed against hand-written torch loops on the same model and posts.

Goals (issue 4): inference posts/s of the plugin >= 0.9x a plain batched loop; a training step
<= 1.1x a raw torch loop doing the same update (AdamW, linear schedule, clipping, CE).
Run: python -m pytest benchmarks/test_bench_transformers.py -m bench
Each test records its ratio (printed at the end, leaderboards/bench_ratios.json) and stores it in
the benchmark's extra_info (leaderboards/benchmarks.json with 'tox -e bench').
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch.nn.functional as F  # noqa: E402
from alexbench_transformers.batching import encode, training_order  # noqa: E402
from alexbench_transformers.classifier import TransformerClassifier  # noqa: E402
from alexbench_transformers.engine import make_optimisation, train_epoch  # noqa: E402
from alexbench_transformers.losses import make_loss  # noqa: E402
from alexbench_transformers.params import TransformerParams  # noqa: E402

from alexbench.config.tasks import load_task  # noqa: E402
from alexbench.data.splits import load_dataset  # noqa: E402
from alexbench.interfaces import Context  # noqa: E402

pytestmark = pytest.mark.bench
DEMO = Path(__file__).resolve().parents[1] / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml"
MAX_LENGTH, EVAL_BATCH, TRAIN_BATCH, ROUNDS = 96, 64, 16, 3


@pytest.fixture(scope="module")
def setup():
    task = load_task(DEMO)
    data = load_dataset(task)
    ctx = Context(task=task, seed=0, device="cpu")
    clf = TransformerClassifier(TransformerParams(max_length=MAX_LENGTH, eval_batch_size=EVAL_BATCH, epochs=1,
                                                  batch_size=TRAIN_BATCH))
    clf.fit(data.train[:32], [], ctx)  # a real fitted model; its weights do not matter for speed
    return task, data, ctx, clf


def best_of(fn, rounds=ROUNDS):
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def test_inference_posts_per_second_vs_plain_batched_loop(benchmark, setup, record_ratio) -> None:
    task, data, ctx, clf = setup
    posts = data.dev + data.test  # 210 posts
    model, tok = clf._model, clf._tokenizer
    texts = [p.text for p in posts]

    def plain_loop():
        out = []
        model.eval()
        with torch.inference_mode():
            for i in range(0, len(texts), EVAL_BATCH):
                batch = tok(texts[i: i + EVAL_BATCH], padding=True, truncation=True, max_length=MAX_LENGTH,
                            return_tensors="pt")
                out.append(torch.softmax(model(**batch).logits.float(), dim=-1))
        return torch.cat(out)

    reference = plain_loop()
    plugin = benchmark.pedantic(lambda: clf.predict(posts, ctx), rounds=ROUNDS, iterations=1, warmup_rounds=1)
    assert torch.allclose(torch.tensor(plugin.probs), reference, atol=1e-4)  # same model, same answers
    t_plugin, t_plain = best_of(lambda: clf.predict(posts, ctx)), best_of(plain_loop)
    ratio = (len(posts) / t_plugin) / (len(posts) / t_plain)
    benchmark.extra_info.update(posts=len(posts), plugin_posts_per_s=len(posts) / t_plugin,
                                plain_posts_per_s=len(posts) / t_plain, speed_ratio=ratio, goal=">= 0.9")
    record_ratio("classifier inference vs plain batched loop", ratio, goal=">= 0.9",
                 detail=f"{len(posts) / t_plugin:.1f} vs {len(posts) / t_plain:.1f} posts/s (MiniLM, CPU)")
    assert ratio > 0.5  # a gross regression (e.g. per-post inference) fails here


def test_training_step_time_vs_raw_torch_loop(benchmark, setup, record_ratio) -> None:
    task, data, ctx, clf = setup
    train = data.train[:96]  # 6 steps of 16
    model, tok = clf._model, clf._tokenizer
    index = {label: i for i, label in enumerate(task.labels)}
    targets = torch.tensor([index[p.label] for p in train])
    encoded = encode(tok, train, (), MAX_LENGTH)
    batches = training_order(len(train), TRAIN_BATCH, torch.Generator().manual_seed(0))
    steps = len(batches)

    def opt():
        return make_optimisation(model, lr=1e-5, weight_decay=0.01, warmup=0.1, total_steps=steps, grad_accum=1,
                                 max_grad_norm=1.0, amp_dtype=None)

    loss_fn = make_loss("ce", None, 0.0, "cpu")

    def plugin_epoch():
        train_epoch(model, encoded, targets, batches, opt=opt(), loss_fn=loss_fn, device="cpu",
                    pad_id=tok.pad_token_id)

    texts = [p.text for p in train]

    def raw_epoch():
        o = opt()
        model.train()
        for indices in batches:
            batch = tok([texts[i] for i in indices], padding=True, truncation=True, max_length=MAX_LENGTH,
                        return_tensors="pt")
            loss = F.cross_entropy(model(**batch).logits, targets[indices])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            o.optimizer.step()
            o.scheduler.step()
            o.optimizer.zero_grad(set_to_none=True)

    benchmark.pedantic(plugin_epoch, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    t_plugin, t_raw = best_of(plugin_epoch), best_of(raw_epoch)
    ratio = t_plugin / t_raw
    benchmark.extra_info.update(steps=steps, plugin_step_s=t_plugin / steps, raw_step_s=t_raw / steps,
                                time_ratio=ratio, goal="<= 1.1")
    record_ratio("training step time vs raw torch loop", ratio, goal="<= 1.1",
                 detail=f"{t_plugin / steps * 1000:.0f} vs {t_raw / steps * 1000:.0f} ms/step (batch {TRAIN_BATCH})")
    assert ratio < 2.0  # a gross regression fails here
