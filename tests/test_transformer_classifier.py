"""The transformer classifier trained for real on small samples of the demo task: output
shape and order, reproducibility, best-epoch selection, the model cache, the text-pair path
and a run through the runner. Kept small (1-2 epochs, max_length 32) so that all of it takes
well under three minutes on two CPU cores."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from alexbench.config.tasks import TaskCatalog, load_task  # noqa: E402
from alexbench.config.variants import ComponentSpec, VariantCatalog, VariantSpec  # noqa: E402
from alexbench.data.splits import load_dataset  # noqa: E402
from alexbench.interfaces import Context, Post  # noqa: E402
from alexbench.plugin.host import PluginHost  # noqa: E402
from alexbench.run.runner import Runner  # noqa: E402
from alexbench.run.store import ResultsStore  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml"
SMALL = {"max_length": 32, "epochs": 2, "batch_size": 16, "lr": 1e-4, "warmup": 0.0}

pytestmark = pytest.mark.slow


def build(**params):
    return PluginHost().component_class("classifier", "transformer").from_params({**SMALL, **params})


@pytest.fixture(scope="module")
def demo():
    task = load_task(DEMO)
    data = load_dataset(task)
    train = [p for p in data.train if p.label == "1"][:16] + [p for p in data.train if p.label == "0"][:48]
    random.Random(0).shuffle(train)
    return task, train, data.dev[:30], data.test[:40]


@pytest.fixture(scope="module")
def fitted(demo):
    task, train, dev, test = demo
    clf = build(loss="weighted_ce")
    report = clf.fit(train, dev, Context(task=task, seed=3, device="cpu"))
    return clf, report


def test_one_prediction_and_probability_row_per_post_in_input_order(demo, fitted) -> None:
    task, _, _, test = demo
    clf, _ = fitted
    ctx = Context(task=task, seed=3, device="cpu")
    pred = clf.predict(test, ctx)
    assert len(pred.labels) == len(pred.probs) == len(test)
    assert all(len(row) == 2 and abs(sum(row) - 1) < 1e-5 for row in pred.probs)
    assert all(lab == task.labels[max(range(2), key=row.__getitem__)] for lab, row in zip(pred.labels, pred.probs))
    order = list(range(len(test)))
    random.Random(1).shuffle(order)
    shuffled = clf.predict([test[i] for i in order], ctx)
    for j, i in enumerate(order):
        assert shuffled.labels[j] == pred.labels[i]
        assert shuffled.probs[j] == pytest.approx(pred.probs[i], abs=1e-5)
    single = clf.predict([test[5]], ctx)  # no padding at all: same answer
    assert single.probs[0] == pytest.approx(pred.probs[5], abs=1e-4)
    assert clf.predict([], ctx).labels == []


def test_fit_report_records_epochs_and_the_best_one(demo, fitted) -> None:
    task, train, dev, _ = demo
    _, report = fitted
    scores = [row["dev_f1_positive"] for row in report["epochs"]]
    assert [row["epoch"] for row in report["epochs"]] == [1, 2] and all(s is not None for s in scores)
    assert report["best_epoch"] == report["chosen_epoch"] == scores.index(max(scores)) + 1
    assert report["best_dev"] == max(scores)
    assert report["device"] == "cpu" and report["precision"] == "fp32" and report["train_time_s"] > 0
    assert report["class_weights"] == pytest.approx([64 / (2 * 48), 64 / (2 * 16)])
    assert report["cached"] is False and report["train_rows"] == len(train) and report["dev_rows"] == len(dev)


def test_auto_weights_on_a_balanced_split_are_flagged_as_doing_nothing(demo) -> None:
    """After an augmenter balanced the split, 'auto' weights are all 1: the run log says so (the
    ablation once measured 'balanced training' on top of augmentation that was plain CE)."""
    task, train, dev, _ = demo
    balanced = [p for p in train if p.label == "1"] + [p for p in train if p.label == "0"][:16]
    logs: list[str] = []
    report = build(loss="weighted_ce", epochs=1).fit(balanced, dev, Context(task=task, seed=3, device="cpu",
                                                                              log=logs.append))
    assert report["class_weights"] == [1.0, 1.0]
    assert any(line.startswith("WARNING transformer: class_weights='auto'") for line in logs), logs
    logs.clear()
    build(loss="weighted_ce", epochs=1, class_weights=[1.0, 2.0]).fit(
        balanced, dev, Context(task=task, seed=3, device="cpu", log=logs.append))
    assert not any(line.startswith("WARNING") for line in logs)  # explicit weights: the user's choice


def test_best_epoch_weights_are_kept_and_early_stopping_follows_patience(demo) -> None:
    """The model predicts dev like the chosen epoch did; patience 1 stops at the first epoch
    that does not beat the best so far."""
    from alexbench_transformers.classifier import dev_score, official_metric

    task, train, dev, _ = demo
    ctx = Context(task=task, seed=5, device="cpu")
    clf = build(epochs=4, lr=3e-4, early_stopping=1)
    report = clf.fit(train, dev, ctx)
    scores = [row["dev_f1_positive"] for row in report["epochs"]]
    expected_run = next((i + 1 for i in range(1, len(scores)) if scores[i] <= max(scores[:i])), 4)
    assert len(scores) == expected_run and report["early_stopped"] == (expected_run < 4)
    assert report["chosen_epoch"] == scores.index(max(scores)) + 1
    kept = dev_score(task, official_metric(task), dev, clf.predict(dev, ctx).labels)
    assert kept == pytest.approx(report["best_dev"])


def test_same_seed_same_model_on_cpu(demo) -> None:
    task, train, dev, test = demo
    runs = []
    for _ in range(2):
        clf = build(epochs=1)
        clf.fit(train, dev, Context(task=task, seed=11, device="cpu"))
        runs.append(clf.predict(test, Context(task=task, seed=11, device="cpu")))
    assert runs[0].labels == runs[1].labels and runs[0].probs == runs[1].probs
    other = build(epochs=1)
    other.fit(train, dev, Context(task=task, seed=12, device="cpu"))
    assert other.predict(test, Context(task=task, seed=12, device="cpu")).probs != runs[0].probs


def test_cache_hit_skips_training_and_predicts_identically(demo, tmp_path) -> None:
    task, train, dev, test = demo
    ctx = Context(task=task, seed=2, device="cpu", cache_dir=tmp_path / "cache")
    first = build(epochs=1, loss="focal")
    r1 = first.fit(train, dev, ctx)
    assert r1["cached"] is False
    saved = tmp_path / "cache" / "models" / r1["cache_key"]
    assert (saved / "model.safetensors").is_file() and not list(saved.glob("*.bin"))
    second = build(epochs=1, loss="focal")
    r2 = second.fit(train, dev, ctx)
    assert r2["cached"] is True and r2["cache_key"] == r1["cache_key"] and r2["epochs"] == r1["epochs"]
    assert second.predict(test, ctx).probs == first.predict(test, ctx).probs
    # Any change to what determines the weights is a different model.
    third = build(epochs=1, loss="focal", focal_gamma=1.0)
    assert third.fit(train[:-1], dev, ctx)["cached"] is False


def test_extra_column_is_used_as_a_text_pair(tmp_path) -> None:
    task_file = tmp_path / "pair" / "task.toml"
    (task_file.parent / "data").mkdir(parents=True)
    task_file.write_text(DEMO.read_text().replace('label = "label"', 'label = "label"\nextra = ["therapy"]'))
    header = "tweet_id\ttext\tlabel\ttherapy\n"
    texts = ["this drug helped me so much", "worst side effects ever", "took it today", "no change at all",
             "feeling better since starting", "it made me dizzy"]
    for split in ("train", "dev", "test"):
        rows = [f"{split}{i}\t{t}\t{i % 2}\t{'aspirin' if i % 2 else 'ibuprofen'}\n" for i, t in enumerate(texts * 3)]
        (task_file.parent / "data" / f"{split}.tsv").write_text(header + "".join(rows))
    task = load_task(task_file)
    data = load_dataset(task)
    ctx = Context(task=task, seed=0, device="cpu")
    clf = build(epochs=1)
    report = clf.fit(data.train, data.dev, ctx)
    assert report["text_pair"] == ["therapy"]
    post = Post("q", "took it today", None, {"therapy": "aspirin"})
    probs = [clf.predict([post.replace(extra={"therapy": t})], ctx).probs[0] for t in ("aspirin", "ibuprofen")]
    assert probs[0] != pytest.approx(probs[1], abs=1e-6)  # the second segment reaches the model
    plain = build(epochs=1, text_pair="none")
    assert plain.fit(data.train, data.dev, ctx)["text_pair"] == []
    probs = [plain.predict([post.replace(extra={"therapy": t})], ctx).probs[0] for t in ("aspirin", "ibuprofen")]
    assert probs[0] == probs[1]


def test_runner_end_to_end_with_the_shipped_variant(tmp_path) -> None:
    """`alexbench run -t demo -v minilm-balanced`, through the runner, shortened (2 epochs, 48 tokens)."""
    catalog = TaskCatalog([REPO / "plugins" / "alexbench_tasks" / "tasks"])
    shipped = VariantCatalog(catalog.variant_files).get("minilm-balanced")
    assert shipped.classifier.params["loss"] == "weighted_ce"
    variant = VariantSpec("minilm-balanced-short", ComponentSpec(
        "transformer", {**shipped.classifier.params, "epochs": 2, "max_length": 48}))
    task = catalog.load("demo")
    host = PluginHost()
    runner = Runner(host, ResultsStore(tmp_path / "results"), show_progress=False, device="auto")
    run = runner.run(task, variant, seed=1).run
    metrics, fit = run.metrics(), run.provenance()["fit"]
    assert metrics["test"]["official"]["value"] > 0.0  # the majority baseline scores 0.0 here
    assert fit["device"] == "cpu" and len(fit["epochs"]) == 2 and fit["cached"] is False
    # A variant that differs only downstream (here: its name) reuses the trained model.
    twin = VariantSpec("minilm-balanced-short-twin", variant.classifier)
    again = runner.run(task, twin, seed=1).run
    assert again.provenance()["fit"]["cached"] is True
    assert again.provenance()["fit"]["cache_key"] == fit["cache_key"]
    assert again.predictions() == run.predictions()
