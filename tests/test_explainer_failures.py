"""A judge that could not answer is a failed run, not a judge that approved everything (issue 30,
item 10). The host judges every explainer's ``status == "failed"`` posts after ``explain()``:
more than the allowed share of the posts sent (default: none; ``ALEXBENCH_EXPLAINER_MAX_FAILED``,
not part of a run's identity) fails the run with the count and the first error, recorded in
``results/failed/``; fewer are stored, warned about and counted on the leaderboard. The hosted
LLM is a real OpenAI-style server on 127.0.0.1 answering 500s and 400s, or no server at all."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from alexbench.config.tasks import load_task
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.errors import ParamError, RunError
from alexbench.interfaces import Explainer, Explanation
from alexbench.kit.inline import inline_plugin
from alexbench.plugin.host import PluginHost
from alexbench.report import leaderboard as lb
from alexbench.run.guards import EXPLAINER_MAX_FAILED_ENV
from alexbench.run.runner import Runner

from .test_llm_client import DEMO_PROMPTS, REPO, Reply, ScriptedServer, llm_variant, make_runner, rule_reply


@pytest.fixture(autouse=True)
def no_allowance(monkeypatch) -> None:
    monkeypatch.delenv(EXPLAINER_MAX_FAILED_ENV, raising=False)


@pytest.fixture
def scripted() -> Iterator[Callable[[Callable[[dict[str, Any], int], Reply]], ScriptedServer]]:
    """``scripted(script)`` starts a real OpenAI-style server answering ``script(body, n)``."""
    servers: list[ScriptedServer] = []

    def start(script: Callable[[dict[str, Any], int], Reply]) -> ScriptedServer:
        servers.append(ScriptedServer(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def closed_port_url() -> str:
    """The address of a port nothing listens on (a hosted model that cannot be reached)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.mark.parametrize("answer", ["500", "400", "unreachable"])
def test_a_judge_whose_every_call_failed_is_a_failed_run_and_a_rerun_asks_again(
        answer, scripted, tiny_task, store) -> None:
    if answer == "unreachable":
        server, url, said = None, closed_port_url(), "Connection"
    else:
        status, said = (500, "always down") if answer == "500" else (400, "prompt too long")
        server = scripted(lambda body, n: Reply(status, {"error": {"message": said}}))
        url = server.url
    runner = make_runner(store)
    variant = llm_variant(url, send_labels="0,1", retries=1)
    test = runner.dataset(tiny_task).test
    with pytest.raises(RunError) as caught:
        runner.run(tiny_task, variant, 0)
    message = str(caught.value)
    assert (f"explainer 'llm' failed on {len(test)} of {len(test)} posts sent (100%); first error (post "
            f"{test[0].id!r}): ") in message and said in message
    assert f"more than the 0% allowed, so the run is not stored and a rerun asks again; to store runs with some " \
           f"failed posts, set {EXPLAINER_MAX_FAILED_ENV}" in message
    # Not stored: recorded as a failed run with the count and the first error.
    assert not list(store.runs())
    (failure,) = store.failures()
    assert f"failed on {len(test)} of {len(test)} posts sent" in failure["error"]
    # A rerun is not "reused": it asks the model again (failures are never cached).
    asked = len(server.requests) if server else 0
    with pytest.raises(RunError, match="failed on"):
        runner.run(tiny_task, variant, 0)
    if server is not None:
        assert len(server.requests) > asked
    assert not list(store.runs())


def test_failed_posts_within_the_allowed_share_are_stored_warned_about_and_shown_on_the_board(
        scripted, tiny_task_file, store, monkeypatch) -> None:
    data = tiny_task_file.parent / "data" / "test.tsv"
    data.write_text(data.read_text() + "tf1\tserver falls over here\t0\n")
    task = load_task(tiny_task_file)

    def script(body: dict[str, Any], n: int) -> Reply:
        if "falls over" in body["messages"][-1]["content"].rsplit("Tweet: ", 1)[1]:
            return Reply(500, {"error": {"message": "always down"}})
        return rule_reply(body, n)

    server = scripted(script)
    variant = llm_variant(server.url, send_labels="0,1", retries=1)
    sent = len(make_runner(store).dataset(task).test)
    with pytest.raises(RunError, match=rf"failed on 1 of {sent} posts sent .*first error \(post 'tf1'\): .*always down"):
        make_runner(store).run(task, variant, 0)
    (failure,) = store.failures()
    # The allowance is read when a runner is made; it changes no run id.
    monkeypatch.setenv(EXPLAINER_MAX_FAILED_ENV, "0.25")
    runner = make_runner(store)
    outcome = runner.run(task, variant, 0)
    run = outcome.run
    assert outcome.run_id == failure["run_id"] and not store.failures()  # the same run, now stored
    stats = run.metrics()["explainer"]
    assert stats["failed"] == 1 and stats["failed_rate"] == pytest.approx(1 / sent)
    warning = next(line for line in run.provenance()["log"] if "failed on" in line)
    assert warning.startswith(f"WARNING: explainer 'llm' failed on 1 of {sent} posts sent")
    assert f"stored, as {EXPLAINER_MAX_FAILED_ENV} allows 25%" in warning
    # The leaderboard counts the failed posts (a column only where some run had any).
    (board,) = lb.build(store, task.name)
    assert "llm failed" in lb.to_markdown(board)
    assert board.rows[0].explainer["failed"].mean == 1
    assert '"failed": {' in lb.to_json(board)


class FailsOnCovid(Explainer):
    """Any explainer, not only the LLM one: it cannot judge the posts that mention covid."""

    name = "fails_on_covid"
    version = "1.0"

    def explain(self, posts, prediction, ctx):
        return [Explanation(p.id, label, label, "failed", details={"error": f"no rule for {p.text!r}"})
                if "covid" in p.text else Explanation(p.id, label, label, "ok", verdict=True)
                for p, label in zip(posts, prediction.labels)]


class Agrees(Explainer):
    name = "agrees"
    version = "1.0"

    def explain(self, posts, prediction, ctx):
        return [Explanation(p.id, label, label, "ok", verdict=True) for p, label in zip(posts, prediction.labels)]


def test_any_explainers_failed_posts_are_judged_by_the_host(tiny_task, store) -> None:
    host = PluginHost(plugins=[("judges", inline_plugin(FailsOnCovid, Agrees))])
    variant = VariantSpec("maj+fails", ComponentSpec("majority"), (), ComponentSpec("fails_on_covid"))
    covid = [p for p in Runner(host, store, show_progress=False).dataset(tiny_task).test if "covid" in p.text]
    with pytest.raises(RunError, match=rf"explainer 'fails_on_covid' failed on {len(covid)} of \d+ posts sent .*first "
                                       rf"error \(post {covid[0].id!r}\): no rule for"):
        Runner(host, store, show_progress=False).run(tiny_task, variant, 0)
    run = Runner(host, store, show_progress=False, explainer_max_failed=1.0).run(tiny_task, variant, 0).run
    assert run.metrics()["explainer"]["failed"] == len(covid)
    # A board of runs without failed posts has no such column, and its CSV's columns are unchanged.
    other = Runner(host, store, show_progress=False).run(
        tiny_task, VariantSpec("maj+agrees", ComponentSpec("majority"), (), ComponentSpec("agrees")), 0).run
    assert "failed" not in other.metrics()["explainer"]
    (board,) = lb.build(store, tiny_task.name, variants=["maj+agrees"])
    assert "llm failed" not in lb.to_markdown(board) and "failed" not in lb.to_csv(board).splitlines()[0]


@pytest.mark.parametrize("value", ["lots", "1.5", "-0.1", "nan"])
def test_an_allowance_that_is_not_a_share_is_refused_naming_the_variable(value, store, monkeypatch) -> None:
    monkeypatch.setenv(EXPLAINER_MAX_FAILED_ENV, value)
    with pytest.raises(ParamError, match=rf"{EXPLAINER_MAX_FAILED_ENV}='{value}': expected the share of the posts "
                                         r"sent to an explainer that may fail before its run fails, a number from 0 "
                                         r"to 1 \(e\.g\. 0\.05; default 0: none may\)"):
        Runner(PluginHost(), store, show_progress=False)


def test_the_command_line_exits_1_for_a_failed_judge_and_2_for_a_bad_allowance(
        scripted, tiny_task_file, tmp_path) -> None:
    server = scripted(lambda body, n: Reply(500, {"error": {"message": "always down"}}))
    args = [sys.executable, "-m", "alexbench", "run", "-t", str(tiny_task_file), "--classifier", "tfidf_logreg",
            "--explainer", "llm", "--no-progress", "-p", "explainer.model=openai/scripted",
            "-p", f"explainer.api_base={server.url}", "-p", f"explainer.prompts={DEMO_PROMPTS}",
            "-p", "explainer.retries=0", "-p", "explainer.send_labels=0,1"]
    env = {k: v for k, v in os.environ.items() if k != EXPLAINER_MAX_FAILED_ENV}
    env.update(OPENAI_API_KEY="sk-not-used", PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "plugins")]))
    for _ in range(2):  # a rerun is not "reused": it fails again
        proc = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        said = " ".join(proc.stderr.split())
        assert proc.returncode == 1, proc.stderr
        assert "explainer 'llm' failed on" in said and "always down" in said and "reused" not in said
    (record,) = (tmp_path / "results" / "failed").glob("*.json")
    assert "posts sent (100%)" in json.loads(record.read_text())["error"]
    assert not (tmp_path / "results" / "runs").exists() or not list((tmp_path / "results" / "runs").rglob("*.json"))
    bad = subprocess.run(args, cwd=tmp_path, env={**env, EXPLAINER_MAX_FAILED_ENV: "5%"}, capture_output=True,
                         text=True, timeout=600)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0, bad.stderr
    assert f"{EXPLAINER_MAX_FAILED_ENV}='5%': expected the share" in bad.stderr
