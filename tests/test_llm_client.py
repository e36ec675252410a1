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
from alexbench.config.tasks import load_task
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.errors import RunError
from alexbench.interfaces import Classifier, Context, Post, Prediction
from alexbench.kit.tasks import write_task
from alexbench.plugin.host import PluginHost
from alexbench.run.runner import Runner

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


def scored_completion(p_false: float, label: str, reason: str = "scripted", *, verdict_: bool | None = None,
                      token_extra: str = "") -> dict[str, Any]:
    """A completion with OpenAI-style ``logprobs``: the reply's JSON in tokens, and at the verdict's
    value P(false) = ``p_false`` and P(true) = 1 - ``p_false`` among the alternatives."""
    import math

    v = (p_false < 0.5) if verdict_ is None else verdict_
    content = json.dumps({"verdict": v, "label": label, "reason": reason})
    rest = content.split(":", 1)[1].split(",", 1)[1]
    tokens = [('{"', 0.0, []), ("verdict", 0.0, []), ('":', 0.0, []),
              (" true" if v else " false", math.log(1 - p_false if v else p_false),
               [(" false", math.log(p_false)), (" true", math.log(1 - p_false)), (" null" + token_extra, -9.0)]),
              (",", 0.0, []), (rest, 0.0, [])]
    body = completion(content)
    body["choices"][0]["logprobs"] = {"content": [
        {"token": t, "logprob": lp, "bytes": None, "top_logprobs": [{"token": a, "logprob": alp, "bytes": None}
                                                                      for a, alp in alts]}
        for t, lp, alts in tokens]}
    return body


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ScriptedServer:
    """A real OpenAI-style HTTP server whose replies come from ``script(body, n)``."""

    script: Callable[[dict[str, Any], int], Reply]
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # time.monotonic() when each request arrived
    url: str = ""

    def __post_init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                outer.times.append(time.monotonic())
                outer.requests.append(body)
                outer.headers.append(dict(self.headers))
                reply = outer.script(body, len(outer.requests))
                time.sleep(reply.delay_s)
                data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
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


# -- rate limits: Retry-After -------------------------------------------------------------------
RATE_LIMITED = {"error": {"message": "Rate limit reached, slow down", "type": "requests", "code": "rate_limit_exceeded"}}


def test_a_429_waits_as_long_as_its_retry_after_header_says(scripted) -> None:
    """Backoff alone would retry after 0.01 s; the server asked for 1 s, and gets it."""
    server = scripted(lambda body, n: Reply(429, RATE_LIMITED, headers={"Retry-After": "1"}) if n == 1
                      else Reply(200, verdict(True, "1")))
    result = complete(settings(server.url, retries=3, backoff_s=0.01), MESSAGES)
    assert result.error is None and result.attempts == 2 and len(server.requests) == 2
    assert server.times[1] - server.times[0] >= 1.0
    assert 1.0 <= result.waited_s < 1.5 and result.latency_s >= 1.0


def test_retry_after_as_an_http_date_and_in_milliseconds(scripted) -> None:
    from email.utils import formatdate

    server = scripted(lambda body, n: Reply(429, RATE_LIMITED, headers={"Retry-After": formatdate(time.time() + 2, usegmt=True)})
                      if n == 1 else Reply(200, verdict(True, "1")))
    result = complete(settings(server.url, retries=2, backoff_s=0.01), MESSAGES)
    assert result.attempts == 2 and server.times[1] - server.times[0] >= 1.0  # the date has 1 s resolution
    fast = scripted(lambda body, n: Reply(429, RATE_LIMITED, headers={"retry-after-ms": "300"}) if n == 1
                    else Reply(200, verdict(True, "1")))
    result = complete(settings(fast.url, retries=2, backoff_s=0.01), MESSAGES)
    assert result.attempts == 2 and 0.3 <= fast.times[1] - fast.times[0] < 1.0


def test_a_retry_after_longer_than_the_limit_fails_the_post_at_once(scripted) -> None:
    server = scripted(lambda body, n: Reply(429, RATE_LIMITED, headers={"Retry-After": "3600"}))
    waits: list[float] = []
    result = complete(settings(server.url, retries=4, retry_after_max_s=60), MESSAGES, sleep=waits.append)
    assert result.reply is None and result.attempts == 1 and len(server.requests) == 1 and waits == []
    assert "retry after 3600 s, more than retry_after_max_s = 60 s" in result.error


def test_every_concurrent_request_holds_off_while_the_server_says_wait(scripted, tiny_task) -> None:
    """Two posts in flight: the first request is told to come back in 1 s; the other one's request
    fails 0.3 s later with a plain 500, which alone would be retried after 0.01 s. Through the
    explainer's shared gate it waits for the Retry-After too: no request reaches the server
    between the 429 and the time it named."""
    def script(body: dict[str, Any], n: int) -> Reply:
        if n == 1:
            return Reply(429, RATE_LIMITED, headers={"Retry-After": "1"})
        if n == 2:
            return Reply(500, {"error": {"message": "busy"}}, delay_s=0.3)
        return Reply(200, verdict(True, "1"))

    server = scripted(script)
    posts = [Post(f"id{i}", f"post number {i}", "1") for i in range(2)]
    explainer = LLMExplainer.from_params({"model": "openai/scripted", "api_base": server.url, "prompts": DEMO_PROMPTS,
                                          "concurrency": 2, "cache": False, "backoff_s": 0.01})
    out = explainer.explain(posts, Prediction(["1"] * 2, [[0.0, 1.0]] * 2), Context(task=tiny_task, seed=0))
    assert [e.status for e in out] == ["ok", "ok"] and len(server.requests) == 4
    first = server.times[0]
    later = [t - first for t in server.times[1:]]
    assert later[0] < 0.5  # the second post's first request went out at once
    assert all(t >= 0.95 for t in later[1:]), later  # both retries waited for the Retry-After


# -- the score verdict through litellm (logprobs) ------------------------------------------------
SCORE_RULES = {"tested positive": 0.3, "vaccine": 0.8, "testing centre": 0.6}


def score_rule(body: dict[str, Any], n: int) -> Reply:
    """P(false) from the post's words; a reason request (its schema allows only a false verdict)
    gets a false verdict with a reason."""
    post = body["messages"][-1]["content"].rsplit("Tweet: ", 1)[1].split("\n", 1)[0]
    p_false = next((p for word, p in SCORE_RULES.items() if word in post), 0.5)
    schema = body["response_format"]["json_schema"]["schema"]
    if schema["properties"]["verdict"].get("enum") == [False]:
        return Reply(200, verdict(False, "0", f"no self-report in: {post}"))
    assert body.get("logprobs") is True and body.get("top_logprobs") == 5 and body.get("max_tokens") == 16
    return Reply(200, scored_completion(p_false, "1"))


def test_score_verdict_threshold_is_chosen_on_dev_by_the_official_metric(scripted, tiny_task, store) -> None:
    """The keyword classifier predicts three dev posts positive: a real self-report (P(false) 0.3)
    and two that are not (0.8 and 0.6). Dev F1 by threshold, by hand: flip none 0.400, flip 0.8
    only 0.500, flip 0.8 and 0.6 0.667, flip all 0.000 — the best threshold is the midpoint 0.45.
    Test has the same three kinds of post: the two wrong positives flip, and only they get a
    reason request."""
    server = scripted(score_rule)
    run = make_runner(store).run(tiny_task, llm_variant(server.url, verdict="score"), seed=0).run
    metrics = run.metrics()
    cal = metrics["explainer_calibration"]
    assert cal["tuned_on_dev"] is True and cal["dev_sent"] == 3 and cal["dev_scored"] == 3
    assert cal["threshold"] == pytest.approx(0.45)
    assert cal["dev_official_without_flips"] == pytest.approx(0.4) and cal["dev_official"] == pytest.approx(2 / 3)
    assert [c[1] for c in cal["candidates"]] == pytest.approx([0.4, 0.5, 2 / 3, 0.0])
    assert metrics["explainer"]["threshold"] == pytest.approx(0.45)
    flips = {e["post_id"]: e for e in run.explanations() if e["new_label"] != e["old_label"]}
    assert sorted(flips) == ["tn12", "tn4"]
    for e in flips.values():
        assert e["verdict"] is False and e["reason"].startswith("no self-report in: ")
        assert e["details"]["p_false_norm"] >= 0.45 and e["details"]["threshold"] == pytest.approx(0.45)
    held = [e for e in run.explanations() if e["status"] == "ok" and e["verdict"] is True]
    assert [e["post_id"] for e in held] == ["tp0"] and held[0]["reason"] == ""
    assert held[0]["details"]["p_false_norm"] == pytest.approx(0.3)
    # 3 dev scores + 3 test scores + 2 reasons (flips only; none on dev: flip_to needs no label)
    kinds = ["reason" if r["response_format"]["json_schema"]["schema"]["properties"]["verdict"].get("enum")
             else "score" for r in server.requests]
    assert kinds.count("score") == 6 and kinds.count("reason") == 2
    assert metrics["test"]["official"]["value"] == pytest.approx(2 / 3)
    assert metrics["test_before_explainer"]["official"]["value"] == pytest.approx(0.4)
    # The threshold is on the leaderboard.
    from alexbench.report import leaderboard as lb

    (board,) = lb.build(store)
    assert board.rows[0].explainer["threshold"].mean == pytest.approx(0.45)
    assert "llm threshold" in lb.to_markdown(board) and "| 0.450 |" in lb.to_markdown(board)
    # `alexbench explain --reasons`: the post that kept its label gets a reason on demand, asked
    # with the verdict fixed to true; the run's files stay as they were.
    def reason_or_score(body: dict[str, Any], n: int) -> Reply:
        if body["response_format"]["json_schema"]["schema"]["properties"]["verdict"].get("enum") == [True]:
            return Reply(200, verdict(True, "1", "the author reports their own positive test"))
        return score_rule(body, n)

    server.script = reason_or_score
    before = (run.path / "explanations.jsonl").read_bytes()
    env = {**os.environ, "ALEXBENCH_TASK_PATH": str(tiny_task.path.parent.parent), "PYTHONPATH": str(REPO / "plugins")}
    proc = subprocess.run([sys.executable, "-m", "alexbench", "explain", "--run", run.path.name.rsplit("-", 1)[1],
                           "--results", str(store.root), "--reasons", "--json", "--no-text"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = {r["id"]: r for r in map(json.loads, proc.stdout.splitlines())}
    assert rows["tp0"]["reason"] == "the author reports their own positive test" and rows["tp0"]["reason_generated"]
    assert rows["tn4"]["reason"].startswith("no self-report in: ") and "reason_generated" not in rows["tn4"]
    assert [r["response_format"]["json_schema"]["schema"]["properties"]["verdict"].get("enum")
            for r in server.requests[8:]] == [[True]]
    assert (run.path / "explanations.jsonl").read_bytes() == before
    # rescore recomputes the scores from the stored files and keeps the calibration (a decision
    # the predictions cannot show): the run is unchanged, and a repair keeps the threshold.
    from alexbench.plugin.host import PluginHost
    from alexbench.run.rescoring import rescore

    registry = PluginHost().metrics
    assert rescore(run, registry)[0] is True
    tampered = {**metrics, "test": {**metrics["test"], "official": {**metrics["test"]["official"], "value": 0.1}}}
    (run.path / "metrics.json").write_text(json.dumps(tampered), encoding="utf-8")
    assert rescore(run, registry, write=True)[0] is False
    repaired = run.metrics()
    assert repaired["explainer_calibration"] == cal and repaired["explainer"]["threshold"] == pytest.approx(0.45)
    assert repaired["test"]["official"]["value"] == pytest.approx(2 / 3) and rescore(run, registry)[0] is True


def test_score_verdict_needs_a_model_that_returns_logprobs(scripted, tiny_task, store) -> None:
    server = scripted(lambda body, n: Reply(200, verdict(True, "1")))  # no logprobs in the reply
    with pytest.raises(RunError, match='returned no logprobs: verdict = "score" needs a model that returns them'):
        make_runner(store).run(tiny_task, llm_variant(server.url, verdict="score", threshold=0.5), seed=0)


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


def test_unparsable_and_failed_replies_keep_the_label_and_are_counted(scripted, tiny_task_file, store,
                                                                     monkeypatch) -> None:
    monkeypatch.setenv("ALEXBENCH_EXPLAINER_MAX_FAILED", "0.5")  # a failed post is stored (tests/test_explainer_failures.py)
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


def test_task2_false_verdicts_relabel_from_the_reply(scripted, tmp_path, store) -> None:
    train = [(f"r{i}", "aspirin", f"felt awful on it {i}", "negative") for i in range(6)]
    train.append(("r9", "aspirin", "great stuff", "positive"))
    test = [("t1", "remdesivir", "so grateful it worked", "positive"),
            ("t2", "molnupiravir", "approved today for adults", "neutral"),
            ("t3", "paxlovid", "awful taste for days", "negative"), ("t4", "ibuprofen", "weird one", "positive")]
    task = load_task(write_task(tmp_path / "task2", {"train": train, "dev": train, "test": test}, name="tiny_task2",
                                labels=["positive", "negative", "neutral"], positive="negative", extra=["therapy"],
                                metric="micro_f1"))

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
    assert run.spec().variant.explainer.params["api_key_env"] == "MY_LLM_KEY"  # the name only
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
    code = ("import sys, alexbench_llm; from alexbench.plugin.host import PluginHost; "
            "h = PluginHost(); assert 'llm' in [e.name for e in h.explainers]; "
            "print(sorted(m for m in ('litellm', 'llama_cpp') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(REPO / "plugins")})
    assert out.stdout.strip() == "[]"


KEY_STUDY = """
[study]
name = "keys"
tasks = ["demo"]
variants = ["echo", "rejected", "echo-score"]
seeds = [1]

[variants.echo]
extends = "tfidf-balanced"
explainer = {{ name = "llm", params = {{ model = "openai/scripted", api_base = "{echo}", api_key_env = "MY_LLM_KEY", backoff_s = 0.01 }} }}

[variants.rejected]
extends = "tfidf-balanced"
explainer = {{ name = "llm", params = {{ model = "openai/scripted", api_base = "{reject}", backoff_s = 0.01 }} }}

[variants.echo-score]
extends = "echo"
explainer = {{ params = {{ verdict = "score" }} }}
"""


def test_api_keys_never_reach_any_output_of_the_command_line(scripted, tmp_path) -> None:
    """Every explainer path a user drives from the shell — a hosted model by ``api_key_env``, the
    provider's default $OPENAI_API_KEY, a provider that echoes the key back, a provider that
    rejects it (the run fails and its failure is recorded) — then the leaderboard and ``explain``:
    the keys appear in no file under the working folder (results, failure records, LLM cache,
    leaderboards) and in nothing the commands print."""
    keys = {"OPENAI_API_KEY": "sk-openai-FAKE-cli-never-store-me-777", "MY_LLM_KEY": "sk-mine-FAKE-cli-never-store-me-888"}

    def echo(body: dict[str, Any], n: int) -> Reply:
        if body.get("logprobs"):  # the score verdict: the key in the reply and in its tokens too
            return Reply(200, scored_completion(0.7, "0", f"scored with {keys['MY_LLM_KEY']}",
                                                token_extra=keys["MY_LLM_KEY"]))
        flip = body["response_format"]["json_schema"]["schema"]["properties"]["verdict"].get("enum") == [False]
        return Reply(200, completion(json.dumps({"verdict": not flip, "label": "0" if flip else "1",
                                                  "reason": f"checked [/] with {keys['MY_LLM_KEY']}"})))

    def reject(body: dict[str, Any], n: int) -> Reply:
        return Reply(401, {"error": {"message": f"Incorrect API key provided: {keys['OPENAI_API_KEY']}",
                                     "type": "invalid_request_error", "code": "invalid_api_key"}})

    echo_server, reject_server = scripted(echo), scripted(reject)
    study = tmp_path / "keys.toml"
    study.write_text(KEY_STUDY.format(echo=echo_server.url, reject=reject_server.url))
    env = {**os.environ, **keys, "PYTHONPATH": str(REPO / "plugins")}
    outputs = []
    dry = subprocess.run([sys.executable, "-m", "alexbench", "grid", str(study), "--dry-run"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    assert dry.returncode == 0 and "nothing was sent" in dry.stdout, dry.stderr
    assert not echo_server.requests and not reject_server.requests and not (tmp_path / "results").exists()
    outputs.append(("dry-run", dry))
    for args in (["grid", str(study), "--no-progress", "--bootstrap", "50", "--out", "lb"],
                 ["leaderboard", "--task", "demo", "--out", "lb2"],
                 ["explain", "--run", "placeholder", "--json", "--all"],
                 ["explain", "--run", "placeholder", "--limit", "3"]):
        if args[0] == "explain":
            args[2] = next((tmp_path / "results" / "runs" / "demo" / "echo").iterdir()).name.rsplit("-", 1)[1]
        proc = subprocess.run([sys.executable, "-m", "alexbench", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)
        outputs.append((args[0], proc))
    _, grid, board, explain, table = (p for _, p in outputs)
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
    scored = next((tmp_path / "results" / "runs" / "demo" / "echo-score").iterdir())
    score_metrics = json.loads((scored / "metrics.json").read_text())
    assert score_metrics["explainer_calibration"]["dev_scored"] > 0  # the score path really ran
    assert any(r.get("logprobs") for r in echo_server.requests)
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p != study]
    assert len(files) > 10
    for value in keys.values():
        for needle in (value, value[:12]):
            for name, proc in outputs:
                assert needle not in proc.stdout + proc.stderr, name
            for path in files:
                assert needle.encode() not in path.read_bytes(), path


DRY_STUDY = """
[study]
name = "dry"
tasks = ["demo"]
variants = ["tfidf-balanced", "judged"]
seeds = [1]

[variants.judged]
extends = "tfidf-balanced"
explainer = {{ name = "llm", params = {{ model = "openai/gpt-4o-mini", api_base = "{url}", backoff_s = 0.01 }} }}

[variants.judged-again]
extends = "judged"
explainer = {{ params = {{ concurrency = 1 }} }}
"""


def test_dry_run_sends_nothing_and_says_what_the_cache_already_holds(scripted, tmp_path) -> None:
    """Before the classifier has run, the gold labels stand in for its predictions; once it has
    run, its stored predictions decide exactly which posts are sent; once the judged run exists it
    is reused; and a variant whose prompts are all cached sends nothing. Tokens and cost come from
    litellm's token counter and price map (gpt-4o-mini is in it); no request reaches the server."""
    from alexbench.config.tasks import load_task
    from alexbench.data.splits import load_dataset

    server = scripted(lambda body, n: Reply(200, {**verdict(True, "1"), "model": body["model"]}))  # as OpenAI does
    study = tmp_path / "dry.toml"
    study.write_text(DRY_STUDY.format(url=server.url))
    env = {**os.environ, "OPENAI_API_KEY": "sk-dry-run-FAKE-never-store-me-999", "PYTHONPATH": str(REPO / "plugins")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([sys.executable, "-m", "alexbench", *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        return proc

    def dry() -> list[dict[str, Any]]:
        before = len(server.requests)
        runs = json.loads(cli("grid", str(study), "--dry-run", "--json").stdout)["runs"]
        assert len(server.requests) == before  # a dry run sends nothing
        return runs

    test = load_dataset(load_task(REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml")).test
    (plan,) = dry()
    assert plan["variant"] == "judged" and plan["basis"].startswith("estimate: gold labels")
    p = plan["plan"]
    assert p["posts"] == sum(post.label == "1" for post in test) and p["cached"] == 0 and p["to_send"] == p["posts"]
    assert p["calls"] == p["posts"] and p["completion_tokens_max"] == 128 * p["posts"]
    assert 300 * p["posts"] < p["prompt_tokens"] < 700 * p["posts"]  # ~450 tokens a prompt
    from alexbench_llm.client import load_litellm

    price_in, price_out = load_litellm().cost_per_token(model="openai/gpt-4o-mini", prompt_tokens=1, completion_tokens=1)
    assert p["cost_usd_max"] == pytest.approx(p["prompt_tokens"] * price_in + p["completion_tokens_max"] * price_out)
    assert not (tmp_path / "results").exists()  # nothing written

    cli("run", "-t", "demo", "-v", "tfidf-balanced", "--seeds", "1")  # the classifier alone
    (plan,) = dry()
    clf_run = next((tmp_path / "results" / "runs" / "demo" / "tfidf-balanced").iterdir())
    predicted = [json.loads(line) for line in (clf_run / "predictions.jsonl").read_text().splitlines()]
    assert plan["basis"] == f"classifier predictions of run {clf_run.name}"
    assert plan["plan"]["posts"] == sum(r["split"] == "test" and r["classifier_pred"] == "1" for r in predicted)

    shown = cli("grid", str(study), "--no-progress", "--bootstrap", "20").stdout
    sent = plan["plan"]["posts"]
    assert len(server.requests) == sent
    # The leaderboard's explainer columns: the model's price per 1,000 posts (each scripted reply
    # is 11 prompt + 7 completion tokens at gpt-4o-mini's price) and its latency percentiles (the
    # machine's: in the run and on the terminal, not in the files).
    board = json.loads((tmp_path / "leaderboards" / "dry" / "demo.json").read_text())
    row = next(r for r in board["rows"] if r["variant"] == "judged")["explainer"]
    assert row["cost_per_1000_posts_usd"]["mean"] == pytest.approx(1000 * sent * (11 * price_in + 7 * price_out) / len(test))
    judged = next((tmp_path / "results" / "runs" / "demo" / "judged").iterdir())
    stats = json.loads((judged / "metrics.json").read_text())["explainer"]
    assert 0 < stats["latency_p50_s"] <= stats["latency_p95_s"] < 60 and "latency_p50_s" not in row
    markdown = (tmp_path / "leaderboards" / "dry" / "demo.md").read_text()
    assert "llm $/1k posts" in markdown and "llm p95 s" not in markdown and "llm threshold" not in markdown
    assert "llm p95 s" in shown
    (plan,) = dry()
    assert plan["reused"] is True and plan["plan"] is None
    study.write_text(DRY_STUDY.format(url=server.url).replace('"tfidf-balanced", "judged"]', '"judged-again"]'))
    (plan,) = dry()
    assert plan["variant"] == "judged-again" and plan["reused"] is False
    assert plan["plan"]["cached"] == plan["plan"]["posts"] > 0 and plan["plan"]["to_send"] == 0
    text = cli("grid", str(study), "--dry-run").stdout
    assert "openai/gpt-4o-mini: 0 posts to send" in text and "sk-dry-run" not in text
