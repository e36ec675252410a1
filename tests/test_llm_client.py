"""The LLM explainer's client side against a real HTTP server on 127.0.0.1 that returns
scripted replies: the thing under test is how the client and explainer handle them (retries,
backoff, timeouts, unparsable replies, relabelling, label policy, keys kept out of results).
Everything goes through litellm's ``openai/<model>`` provider by name, with ``api_base``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from alexbench import hookimpl
from alexbench.errors import RunError
from alexbench.interfaces import Classifier, Context, Post, Prediction
from alexbench.pluginmanager import PluginHost
from alexbench.runner import Runner
from alexbench.spec import ComponentSpec, VariantSpec
from alexbench.tasks import load_task

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
from alexbench_llm.client import CallSettings, LLMConfigError, complete  # noqa: E402
from alexbench_llm.explainer import LLMExplainer  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEMO_PROMPTS = str(REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "prompts" / "demo.toml")
TASK2_PROMPTS = str(REPO / "plugins" / "alexbench_tasks" / "tasks" / "smm4h23" / "prompts" / "smm4h23_task2.toml")


def completion(content: str) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "scripted",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}}


def verdict(v: bool, label: str, reason: str = "scripted") -> dict[str, Any]:
    return completion(json.dumps({"verdict": v, "label": label, "reason": reason}))


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    delay_s: float = 0.0


@dataclass
class ScriptedServer:
    """A real OpenAI-style HTTP server whose replies come from ``script(body, n)``."""

    script: Callable[[dict[str, Any], int], Reply]
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                outer.requests.append(body)
                outer.headers.append(dict(self.headers))
                reply = outer.script(body, len(outer.requests))
                time.sleep(reply.delay_s)
                data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout test)
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def user_text(self, i: int) -> str:
        return next(m["content"] for m in self.requests[i]["messages"] if m["role"] == "user")


@pytest.fixture
def scripted() -> Iterator[Callable[[Callable[[dict[str, Any], int], Reply]], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(script: Callable[[dict[str, Any], int], Reply]) -> ScriptedServer:
        servers.append(ScriptedServer(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def settings(url: str, **kw: Any) -> CallSettings:
    return CallSettings(**{"model": "openai/scripted", "api_base": url, "api_key_literal": "no-key", "backoff_s": 0.01, **kw})


MESSAGES = [{"role": "system", "content": "check"}, {"role": "user", "content": "post"}]


# -- client: retries, backoff, timeouts, configuration errors ----------------------------------
def test_server_errors_are_retried_with_exponential_backoff(scripted) -> None:
    server = scripted(lambda body, n: Reply(500, {"error": {"message": "boom"}}) if n <= 2 else Reply(200, verdict(True, "1")))
    waits: list[float] = []
    result = complete(settings(server.url, retries=4, backoff_s=0.5), MESSAGES, sleep=waits.append)
    assert result.error is None and result.attempts == 3 and json.loads(result.reply)["verdict"] is True
    assert waits == [0.5, 1.0]  # doubled each time, no fixed sleep
    assert (result.prompt_tokens, result.completion_tokens) == (11, 7) and len(server.requests) == 3
    # The request carries the generation parameters: temperature 0, seed, response format.
    sent = server.requests[0]
    assert sent["model"] == "scripted" and sent["temperature"] == 0 and sent["seed"] == 0


def test_persistent_failure_gives_up_after_the_retries(scripted) -> None:
    server = scripted(lambda body, n: Reply(503, {"error": {"message": "overloaded"}}))
    waits: list[float] = []
    result = complete(settings(server.url, retries=3, backoff_s=1.0, backoff_max_s=3.0), MESSAGES, sleep=waits.append)
    assert result.reply is None and result.attempts == 4 and len(server.requests) == 4
    assert waits == [1.0, 2.0, 3.0] and "overloaded" in result.error


def test_a_slow_server_times_out_and_is_retried(scripted) -> None:
    server = scripted(lambda body, n: Reply(200, verdict(True, "1"), delay_s=1.5 if n == 1 else 0))
    result = complete(settings(server.url, retries=2, timeout_s=0.5), MESSAGES)
    assert result.reply is not None and result.attempts == 2
    server2 = scripted(lambda body, n: Reply(200, verdict(True, "1"), delay_s=1.5))
    failed = complete(settings(server2.url, retries=1, timeout_s=0.3), MESSAGES)
    assert failed.reply is None and failed.attempts == 2 and "Timeout" in failed.error


def test_a_bad_request_is_not_retried(scripted) -> None:
    server = scripted(lambda body, n: Reply(400, {"error": {"message": "prompt too long"}}))
    result = complete(settings(server.url, retries=3), MESSAGES, sleep=lambda s: None)
    assert result.reply is None and result.attempts == 1 and "prompt too long" in result.error


def test_a_rejected_key_is_a_configuration_error_without_the_key(scripted, monkeypatch) -> None:
    key = "sk-alexbench-test-SECRET-0123456789abcdef"
    monkeypatch.setenv("ALEXBENCH_TEST_LLM_KEY", key)
    server = scripted(lambda body, n: Reply(401, {"error": {"message": f"Incorrect API key provided: {key}"}}))
    with pytest.raises(LLMConfigError) as info:
        complete(CallSettings(model="openai/scripted", api_base=server.url, api_key_env="ALEXBENCH_TEST_LLM_KEY"), MESSAGES)
    assert key not in str(info.value) and "[redacted]" in str(info.value) and len(server.requests) == 1
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert {k.lower(): v for k, v in server.headers[0].items()}["authorization"] == f"Bearer {key}"  # the key was used, from the environment
    monkeypatch.delenv("ALEXBENCH_TEST_LLM_KEY")
    with pytest.raises(LLMConfigError, match=r"\$ALEXBENCH_TEST_LLM_KEY, which is not set"):
        complete(CallSettings(model="openai/scripted", api_base=server.url, api_key_env="ALEXBENCH_TEST_LLM_KEY"), MESSAGES)


# -- the explainer through the runner ----------------------------------------------------------
def rule_reply(body: dict[str, Any], n: int) -> Reply:
    """A rule-following "LLM": the correct label is 1 when the post says "positive"."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    post, rest = user.rsplit("Tweet: ", 1)[1].split("\nPredicted label: ", 1)
    if "garbage" in post:
        return Reply(200, completion("I would say false, the label is wrong"))
    correct = "1" if "positive" in post else "0"
    return Reply(200, verdict(rest[0] == correct, correct, f"the correct label is {correct}"))


class KeywordClassifier(Classifier):
    """Predicts "1" when the post contains "test" or "vaccine" (a deterministic, imperfect classifier)."""

    name = "keyword"
    version = "1.0"

    def fit(self, train, dev, ctx):
        return {}

    def predict(self, posts, ctx):
        labels = ["1" if ("test" in p.text or "vaccine" in p.text) else "0" for p in posts]
        return Prediction(labels, [[0.0, 1.0] if label == "1" else [1.0, 0.0] for label in labels])


KEYWORD_PLUGIN = types.SimpleNamespace(alexbench_register_classifiers=hookimpl(lambda registry: registry.add(KeywordClassifier)))


def make_runner(store) -> Runner:
    return Runner(PluginHost(plugins=[("keyword", KEYWORD_PLUGIN)]), store, show_progress=False)


def llm_variant(url: str, classifier: str = "keyword", **params: Any) -> VariantSpec:
    return VariantSpec("clf+llm", ComponentSpec(classifier), (), ComponentSpec(
        "llm", {"model": "openai/scripted", "api_base": url, "prompts": DEMO_PROMPTS, "backoff_s": 0.01, **params}))


def test_runner_explains_flips_and_caches_through_the_openai_provider(scripted, tiny_task, store, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-scripted-not-secret-but-hidden-0001")
    server = scripted(rule_reply)
    runner = make_runner(store)
    run = runner.run(tiny_task, llm_variant(server.url, send_labels="0,1"), seed=0).run
    exps = run.explanations()
    test = runner.dataset(tiny_task).test
    assert [e["post_id"] for e in exps] == [p.id for p in test]  # one per post, in order, by id
    assert len(server.requests) == len(test) and all(e["status"] == "ok" for e in exps)
    texts = {p.id: p.text for p in test}
    for e in exps:
        d = e["details"]
        assert d["cached"] is False and d["attempts"] == 1 and d["prompt_tokens"] == 11 and len(d["prompt_hash"]) == 64
        assert json.loads(d["raw"])["reason"] == e["reason"] and d["latency_s"] > 0
        if e["verdict"] is False and e["old_label"] == "1":
            assert e["new_label"] == "0"
    # The predicted label and the post are in the prompt (the original code never sent the label).
    for i in range(len(server.requests)):
        user = server.user_text(i)
        assert any(f"Tweet: {t}\nPredicted label: " in user for t in texts.values())
    labels_in_prompts = sorted(server.user_text(i).rsplit("Predicted label: ", 1)[1][0] for i in range(len(test)))
    preds = {r["id"]: r for r in run.predictions() if r["split"] == "test"}
    assert labels_in_prompts == sorted(r["classifier_pred"] for r in preds.values())
    # Metrics, and the final predictions carry the flips.
    stats = run.metrics()["explainer"]
    assert stats["sent"] == len(test) and stats["flips"] == sum(e["new_label"] != e["old_label"] for e in exps)
    assert all(preds[e["post_id"]]["pred"] == e["new_label"] for e in exps)
    # Another run with the same prompts (concurrency is not part of a reply) is served from the
    # SQLite cache: no request reaches the server.
    again = runner.run(tiny_task, llm_variant(server.url, send_labels="0,1", concurrency=1), seed=0).run
    assert again.path != run.path
    assert len(server.requests) == len(test)
    assert all(e["details"]["cached"] for e in again.explanations())
    assert [e["new_label"] for e in again.explanations()] == [e["new_label"] for e in exps]
    assert (store.cache_dir / "llm" / "responses.sqlite").is_file()


def test_label_policy_sends_only_predicted_positives_by_default(scripted, tiny_task, store) -> None:
    server = scripted(rule_reply)
    runner = make_runner(store)
    run = runner.run(tiny_task, llm_variant(server.url), seed=0).run
    preds = {r["id"]: r["classifier_pred"] for r in run.predictions() if r["split"] == "test"}
    sent = {e["post_id"] for e in run.explanations() if e["status"] != "not_sent"}
    assert sent == {i for i, label in preds.items() if label == "1"} and len(server.requests) == len(sent)
    assert 0 < len(sent) < len(preds)
    # The majority classifier predicts "0" everywhere: nothing is sent.
    run = runner.run(tiny_task, llm_variant(server.url, classifier="majority"), seed=0).run
    assert all(e["status"] == "not_sent" for e in run.explanations()) and len(server.requests) == len(sent)
    assert run.metrics()["explainer"]["sent"] == 0


def test_unparsable_and_failed_replies_keep_the_label_and_are_counted(scripted, tiny_task_file, store) -> None:
    data = tiny_task_file.parent / "data" / "test.tsv"
    data.write_text(data.read_text() + "tg1\tgarbage reply please\t0\ntf1\tserver falls over here\t0\n")
    task = load_task(tiny_task_file)

    def script(body: dict[str, Any], n: int) -> Reply:
        if "falls over" in body["messages"][-1]["content"].rsplit("Tweet: ", 1)[1]:
            return Reply(500, {"error": {"message": "always down"}})
        return rule_reply(body, n)

    server = scripted(script)
    run = make_runner(store).run(task, llm_variant(server.url, send_labels="0,1", retries=2), 0).run
    by_id = {e["post_id"]: e for e in run.explanations()}
    garbage, down = by_id["tg1"], by_id["tf1"]
    assert garbage["status"] == "unparsable" and garbage["verdict"] is None and garbage["new_label"] == garbage["old_label"]
    assert "I would say false" in garbage["details"]["raw"] and garbage["details"]["error"].startswith("unparsable")
    assert down["status"] == "failed" and down["new_label"] == down["old_label"] and down["details"]["attempts"] == 3
    assert "always down" in down["details"]["error"]
    stats = run.metrics()["explainer"]
    assert stats["unparsable_rate"] == pytest.approx(1 / stats["sent"]) and stats["failed_rate"] == pytest.approx(1 / stats["sent"])


TASK2 = """
[task]
name = "tiny_task2"
data_dir = "data"
[columns]
id = "tweet_id"
text = "text"
label = "label"
extra = ["therapy"]
[splits.train]
file = "train.tsv"
[splits.dev]
file = "dev.tsv"
[splits.test]
file = "test.tsv"
[labels]
values = ["positive", "negative", "neutral"]
positive = "negative"
[metric]
official = "micro_f1"
"""


def test_task2_false_verdicts_relabel_from_the_reply(scripted, tmp_path, store) -> None:
    folder = tmp_path / "task2"
    (folder / "data").mkdir(parents=True)
    (folder / "task.toml").write_text(TASK2)
    head = "tweet_id\ttherapy\ttext\tlabel\n"
    train = "".join(f"r{i}\taspirin\tfelt awful on it {i}\tnegative\n" for i in range(6)) + "r9\taspirin\tgreat stuff\tpositive\n"
    for split in ("train", "dev"):
        (folder / "data" / f"{split}.tsv").write_text(head + train)
    (folder / "data" / "test.tsv").write_text(head + "t1\tremdesivir\tso grateful it worked\tpositive\n"
                                              "t2\tmolnupiravir\tapproved today for adults\tneutral\n"
                                              "t3\tpaxlovid\tawful taste for days\tnegative\n"
                                              "t4\tibuprofen\tweird one\tpositive\n")
    task = load_task(folder / "task.toml")

    def script(body: dict[str, Any], n: int) -> Reply:
        post = body["messages"][-1]["content"].rsplit("Tweet: ", 1)[1]
        label = "positive" if "grateful" in post else "neutral" if "approved" in post else "negative"
        return Reply(200, verdict(label == "negative" and "weird" not in post, label))

    server = scripted(script)
    variant = VariantSpec("maj+llm", ComponentSpec("majority"), (), ComponentSpec(
        "llm", {"model": "openai/scripted", "api_base": server.url, "prompts": TASK2_PROMPTS}))
    run = make_runner(store).run(task, variant, 0).run
    by_id = {e["post_id"]: e for e in run.explanations()}
    assert {k: (v["status"], v["new_label"]) for k, v in by_id.items()} == {
        "t1": ("ok", "positive"), "t2": ("ok", "neutral"), "t3": ("ok", "negative"),
        "t4": ("unparsable", "negative")}  # False but names the predicted label itself: kept, counted
    assert "a False verdict needs a label in ['positive', 'neutral']" in by_id["t4"]["details"]["error"]
    prompts = [server.user_text(i) for i in range(len(server.requests))]
    assert len(prompts) == 4 and any(
        p.endswith("Therapy: remdesivir\nTweet: so grateful it worked\nPredicted label: negative "
                   "(unfavourable toward the therapy)\nAnswer:") for p in prompts)
    assert run.metrics()["explainer"]["flips_fixed"] == 2 and run.metrics()["test"]["scalars"]["accuracy"] == 0.75


def test_api_keys_never_reach_results_or_cache(scripted, tiny_task, store, monkeypatch) -> None:
    keys = {"OPENAI_API_KEY": "sk-openai-FAKE-never-store-me-123456", "MY_LLM_KEY": "sk-mine-FAKE-never-store-me-654321"}
    for name, value in keys.items():
        monkeypatch.setenv(name, value)

    def echo_key(body: dict[str, Any], n: int) -> Reply:
        # A provider that echoes the key (as some error messages do) must not get it stored either.
        return Reply(200, completion(json.dumps({"verdict": True, "label": "1",
                                                  "reason": f"key {keys['MY_LLM_KEY']} ok"})))

    server = scripted(echo_key)
    runner = make_runner(store)
    run = runner.run(tiny_task, llm_variant(server.url, send_labels="0,1", api_key_env="MY_LLM_KEY"), 0).run
    assert {k.lower(): v for k, v in server.headers[0].items()}["authorization"] == f"Bearer {keys['MY_LLM_KEY']}"
    assert "[redacted]" in run.explanations()[0]["reason"]
    assert run.spec()["variant"]["explainer"]["params"]["api_key_env"] == "MY_LLM_KEY"  # the name only
    for path in store.root.rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            for value in keys.values():
                assert value.encode() not in blob and value[:12].encode() not in blob, path


def test_misconfiguration_fails_the_run_with_a_clear_error(scripted, tiny_task, store) -> None:
    server = scripted(lambda body, n: Reply(404, {"error": {"message": "model 'scripted' not found"}}))
    with pytest.raises(RunError, match="LLM 'openai/scripted' refused the request: .*not found"):
        make_runner(store).run(tiny_task, llm_variant(server.url, send_labels="0,1"), 0)
    with pytest.raises(RunError, match="send_labels \\['2'\\] are not labels of task 'tiny'"):
        make_runner(store).run(tiny_task, llm_variant(server.url, send_labels="2"), 0)


def test_results_are_matched_by_post_id_under_concurrency(scripted, tiny_task) -> None:
    """Replies arrive out of order (slower for earlier posts); each lands on its own post."""
    def slow_first(body: dict[str, Any], n: int) -> Reply:
        post = body["messages"][-1]["content"].rsplit("Tweet: ", 1)[1].split("\n", 1)[0]
        return Reply(200, verdict(True, "1", f"about: {post}"), delay_s=0.3 if n <= 2 else 0.0)

    server = scripted(slow_first)
    posts = [Post(f"id{i}", f"post number {i}", "1") for i in range(6)]
    explainer = LLMExplainer.from_params({"model": "openai/scripted", "api_base": server.url, "prompts": DEMO_PROMPTS,
                                          "concurrency": 4, "cache": False})
    out = explainer.explain(posts, Prediction(["1"] * 6, [[0.0, 1.0]] * 6), Context(task=tiny_task, seed=0))
    assert [e.post_id for e in out] == [p.id for p in posts]
    assert [e.reason for e in out] == [f"about: {p.text}" for p in posts]


def test_importing_the_plugin_does_not_import_litellm_or_llama_cpp() -> None:
    code = ("import sys, alexbench_llm; from alexbench.pluginmanager import PluginHost; "
            "h = PluginHost(); assert 'llm' in [e.name for e in h.explainers]; "
            "print(sorted(m for m in ('litellm', 'llama_cpp') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(REPO / "plugins")})
    assert out.stdout.strip() == "[]"


KEY_STUDY = """
[study]
name = "keys"
tasks = ["demo"]
variants = ["echo", "rejected"]
seeds = [1]

[variants.echo]
extends = "tfidf-balanced"
explainer = {{ name = "llm", params = {{ model = "openai/scripted", api_base = "{echo}", api_key_env = "MY_LLM_KEY", backoff_s = 0.01 }} }}

[variants.rejected]
extends = "tfidf-balanced"
explainer = {{ name = "llm", params = {{ model = "openai/scripted", api_base = "{reject}", backoff_s = 0.01 }} }}
"""


def test_api_keys_never_reach_any_output_of_the_command_line(scripted, tmp_path) -> None:
    """Every explainer path a user drives from the shell — a hosted model by ``api_key_env``, the
    provider's default $OPENAI_API_KEY, a provider that echoes the key back, a provider that
    rejects it (the run fails and its failure is recorded) — then the leaderboard and ``explain``:
    the keys appear in no file under the working folder (results, failure records, LLM cache,
    leaderboards) and in nothing the commands print."""
    keys = {"OPENAI_API_KEY": "sk-openai-FAKE-cli-never-store-me-777", "MY_LLM_KEY": "sk-mine-FAKE-cli-never-store-me-888"}

    def echo(body: dict[str, Any], n: int) -> Reply:
        return Reply(200, completion(json.dumps({"verdict": True, "label": "1",
                                                  "reason": f"checked [/] with {keys['MY_LLM_KEY']}"})))

    def reject(body: dict[str, Any], n: int) -> Reply:
        return Reply(401, {"error": {"message": f"Incorrect API key provided: {keys['OPENAI_API_KEY']}",
                                     "type": "invalid_request_error", "code": "invalid_api_key"}})

    echo_server, reject_server = scripted(echo), scripted(reject)
    study = tmp_path / "keys.toml"
    study.write_text(KEY_STUDY.format(echo=echo_server.url, reject=reject_server.url))
    env = {**os.environ, **keys, "PYTHONPATH": str(REPO / "plugins")}
    outputs = []
    for args in (["grid", str(study), "--no-progress", "--bootstrap", "50", "--out", "lb"],
                 ["leaderboard", "--task", "demo", "--out", "lb2"],
                 ["explain", "--run", "placeholder", "--json", "--all"],
                 ["explain", "--run", "placeholder", "--limit", "3"]):
        if args[0] == "explain":
            args[2] = next((tmp_path / "results" / "runs" / "demo" / "echo").iterdir()).name.rsplit("-", 1)[1]
        proc = subprocess.run([sys.executable, "-m", "alexbench", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)
        outputs.append((args[0], proc))
    grid, board, explain, table = (p for _, p in outputs)
    # The study really went through both paths: one run finished, the rejected one failed.
    assert grid.returncode != 0 and "refused the request" in grid.stderr and "[redacted]" in grid.stderr
    assert {k.lower(): v for k, v in echo_server.headers[0].items()}["authorization"] == f"Bearer {keys['MY_LLM_KEY']}"
    assert {k.lower(): v for k, v in reject_server.headers[0].items()}["authorization"] == \
        f"Bearer {keys['OPENAI_API_KEY']}"
    assert board.returncode == 0 and explain.returncode == 0, board.stderr + explain.stderr
    assert "[redacted]" in explain.stdout
    # The table view shows the LLM's words as written, brackets included (they are not markup).
    assert table.returncode == 0 and "checked [/] with [redacted]" in table.stdout, table.stderr
    failed = list((tmp_path / "results" / "failed").glob("*.json"))
    assert len(failed) == 1 and "refused the request" in failed[0].read_text()
    assert (tmp_path / "results" / "cache" / "llm" / "responses.sqlite").is_file()
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p != study]
    assert len(files) > 10
    for value in keys.values():
        for needle in (value, value[:12]):
            for name, proc in outputs:
                assert needle not in proc.stdout + proc.stderr, name
            for path in files:
                assert needle.encode() not in path.read_bytes(), path
