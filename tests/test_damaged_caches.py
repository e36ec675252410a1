"""A damaged cache no longer fails every later run (issue 30, item 18): the LLM response cache
(``results/cache/llm/responses.sqlite``) and a cached trained model (``results/cache/models/<key>/``)
that are damaged are set aside, named on stderr with where they went, and their work is done again.
Real runs: the hosted-LLM path against a scripted OpenAI-style server on 127.0.0.1, the transformer
classifier fine-tuning the bundled MiniLM (slow)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.plugin.host import PluginHost
from alexbench.run.runner import Runner

from .test_llm_client import Reply, ScriptedServer, llm_variant, make_runner, rule_reply

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
from alexbench_llm.cache import ResponseCache  # noqa: E402


@pytest.fixture
def scripted() -> Iterator[Callable[[Callable[[dict[str, Any], int], Reply]], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(script: Callable[[dict[str, Any], int], Reply]) -> ScriptedServer:
        servers.append(ScriptedServer(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    path.write_bytes(b"not a database at all, " * 200 if how == "garbage" else data[: 4096 + 100])


@pytest.mark.parametrize("how", ["garbage", "truncated"])
def test_a_damaged_llm_response_cache_is_set_aside_and_its_replies_asked_again(how, scripted, tiny_task, store,
                                                                               capfd) -> None:
    server = scripted(rule_reply)
    runner = make_runner(store)
    variant = llm_variant(server.url, send_labels="0,1")
    first = runner.run(tiny_task, variant, 0).run
    asked = len(server.requests)
    cache = store.cache_dir / "llm" / "responses.sqlite"
    assert asked > 0 and cache.stat().st_size > 4096 + 100
    damage(cache, how)
    capfd.readouterr()
    again = runner.run(tiny_task, variant, 0, force=True).run  # used to fail with sqlite3.DatabaseError
    said = " ".join(capfd.readouterr().err.split())
    (aside,) = cache.parent.glob("responses.sqlite.damaged-*")
    assert f"warning: the LLM response cache {cache} is damaged (DatabaseError: " in said
    assert f"it was set aside as {aside} and a new cache started, so the replies it held are asked again" in said
    assert aside.read_bytes().startswith(b"not a database" if how == "garbage" else b"SQLite format 3\x00")
    # The replies were asked again, with the same verdicts, and went into the new cache.
    assert len(server.requests) == 2 * asked
    assert [e["new_label"] for e in again.explanations()] == [e["new_label"] for e in first.explanations()]
    third = runner.run(tiny_task, variant, 0, force=True).run
    assert len(server.requests) == 2 * asked and all(e["details"]["cached"] for e in third.explanations())
    assert "damaged" not in capfd.readouterr().err


def test_a_dry_run_counts_a_damaged_cache_as_empty_and_moves_nothing(tmp_path) -> None:
    path = tmp_path / "llm" / "responses.sqlite"
    path.parent.mkdir()
    path.write_bytes(b"not a database at all, " * 200)
    said: list[str] = []
    with ResponseCache(path, readonly=True, warn=said.append) as cache:
        assert cache.get("any key") is None and len(cache) == 0
    assert said == [f"warning: the LLM response cache {path} is damaged (file is not a database): counted as empty "
                    "here; the next run sets it aside and starts a new one"]
    assert sorted(p.name for p in path.parent.iterdir()) == ["responses.sqlite"]


@pytest.mark.slow
def test_a_truncated_cached_model_is_set_aside_and_the_model_trained_again(tiny_task, store, capfd) -> None:
    pytest.importorskip("torch")
    runner = Runner(PluginHost(), store, show_progress=False, device="cpu")
    variant = VariantSpec("minilm-tiny", ComponentSpec("transformer", {"max_length": 32, "epochs": 1,
                                                                       "batch_size": 16, "warmup": 0.0}))
    first = runner.run(tiny_task, variant, 0).run
    key = first.provenance()["fit"]["cache_key"]
    weights = store.cache_dir / "models" / key / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])  # a copy cut short
    capfd.readouterr()
    again = runner.run(tiny_task, variant, 0, force=True).run  # used to fail with SafetensorError
    said = " ".join(capfd.readouterr().err.split())
    (aside,) = (store.cache_dir / "models").glob(f"{key}.damaged-*")
    assert f"warning: the cached model {weights.parent} is damaged (model.safetensors: truncated: its tensors need " \
           in said and f"it was set aside as {aside} and the model is trained again" in said
    fit = again.provenance()["fit"]
    assert fit["cached"] is False and fit["cache_key"] == key
    assert [r["probs"] for r in again.predictions()] == [r["probs"] for r in first.predictions()]
    # The model trained again is cached whole: the next run is served from it.
    assert runner.run(tiny_task, variant, 0, force=True).run.provenance()["fit"]["cached"] is True
