"""Augmentation throughput (posts/s): each built-in augmenter vs calling its library directly on
the same posts. The difference is alexbench's overhead: per-post seeding with saved/restored
global RNG state, mention normalisation, de-duplication, provenance rows and balancing.

    python -m pytest benchmarks/test_bench_augment.py -m bench
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from alexbench.data import load_dataset
from alexbench.interfaces import Context
from alexbench.pluginmanager import PluginHost
from alexbench.tasks import load_task

pytestmark = pytest.mark.bench

REPO = Path(__file__).resolve().parents[1]
N_POSTS = 24


@pytest.fixture(scope="module")
def sample():
    task = load_task(REPO / "tasks" / "demo" / "task.toml")
    return task, load_dataset(task).train[:N_POSTS]


def _direct(name: str) -> Callable[[str], Any]:
    """The library's own augmenter, configured as the plugin configures it, called per text."""
    if name in ("alex_textattack", "eda"):
        from alexbench_augment import ta_offline

        if name == "alex_textattack":
            aug = ta_offline.alex_augmenter(["char_substitution", "qwerty", "wordnet", "contract"], 0.1, 1, ())
        else:
            aug = ta_offline.OfflineEasyDataAugmenter(0.1, 1)
        return aug.augment
    import nlpaug.augmenter.char as nac
    import nlpaug.augmenter.word as naw

    from alexbench.nltkdata import activate, pos_tag

    activate()
    if name == "nlpaug_synonym":
        syn = naw.SynonymAug(aug_src="wordnet")
        syn.model.pos_tag = pos_tag
    libs = {
        "nlpaug_keyboard": lambda: nac.KeyboardAug(),
        "nlpaug_ocr": lambda: nac.OcrAug(),
        "nlpaug_random_char": lambda: nac.RandomCharAug(action="substitute"),
        "nlpaug_random_word": lambda: naw.RandomWordAug(action="delete"),
        "nlpaug_spelling": lambda: naw.SpellingAug(),
        "nlpaug_synonym": lambda: syn,
    }
    lib = libs[name]()
    return lambda text: lib.augment(text, n=1)


NAMES = ["alex_textattack", "eda", "nlpaug_keyboard", "nlpaug_ocr", "nlpaug_random_char", "nlpaug_random_word",
         "nlpaug_spelling", "nlpaug_synonym"]


@pytest.mark.parametrize("name", NAMES)
def test_plugin(benchmark, sample, name: str) -> None:
    task, posts = sample
    aug = PluginHost().build("augmenter", name, {"grow": "all", "n": 1, "balance": "none"})
    aug._generator()("warm up: load WordNet and the models", 1)  # outside the timing, as for the direct call
    rows = benchmark.pedantic(lambda: aug.augment(list(posts), Context(task=task, seed=1)), rounds=3, iterations=1)
    assert len(rows) > len(posts)
    benchmark.extra_info["posts_per_s"] = round(len(posts) / benchmark.stats.stats.mean, 1)


@pytest.mark.parametrize("name", NAMES)
def test_library_direct(benchmark, sample, name: str) -> None:
    _, posts = sample
    fn = _direct(name)
    fn("warm up: load WordNet and the models")
    texts = [p.text for p in posts]
    out = benchmark.pedantic(lambda: [fn(t) for t in texts], rounds=3, iterations=1)
    assert len(out) == len(texts)
    benchmark.extra_info["posts_per_s"] = round(len(posts) / benchmark.stats.stats.mean, 1)


def test_resample(benchmark, sample) -> None:
    task, posts = sample
    aug = PluginHost().build("augmenter", "resample", {})
    rows = benchmark(lambda: aug.augment(list(posts), Context(task=task, seed=1)))
    assert len(rows) >= len(posts)
    benchmark.extra_info["posts_per_s"] = round(len(posts) / benchmark.stats.stats.mean, 1)
