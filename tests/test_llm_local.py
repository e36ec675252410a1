"""The LLM explainer with the real local model (Gemma-3-270M GGUF through llama-cpp-python, in
this process): through the runner on the demo task, from the response cache on a rerun, replies
independent of the order of posts (prefix state restored), the score verdict with its threshold
chosen on dev, and behind an OpenAI-compatible server on 127.0.0.1 reached by litellm model name
(also for the score verdict, from logprobs). Kept to a few posts."""

from __future__ import annotations

import json
import sys
import types
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from alexbench import hookimpl
from alexbench.config.tasks import load_task
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.interfaces import Classifier, Context, Prediction
from alexbench.plugin.host import PluginHost
from alexbench.run.runner import Runner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
from alexbench_llm.explainer import LLMExplainer  # noqa: E402
from alexbench_llm.server import LocalServer  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class FirstParams:
    n: int = 4


class FirstN(Classifier):
    """Predicts the positive label for the first ``n`` posts of each call: a tiny classifier that
    sends exactly ``n`` real demo posts to the LLM."""

    name = "first_n"
    version = "1.0"
    Params = FirstParams

    def fit(self, train, dev, ctx):
        return {}

    def predict(self, posts, ctx):
        labels = ["1" if i < self.params.n else "0" for i in range(len(posts))]
        return Prediction(labels, [[0.0, 1.0] if label == "1" else [1.0, 0.0] for label in labels])


PLUGIN = types.SimpleNamespace(alexbench_register_classifiers=hookimpl(lambda registry: registry.add(FirstN)))


def test_local_gemma_explains_demo_posts_and_a_rerun_comes_from_the_cache(store) -> None:
    task = load_task(REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml")
    runner = Runner(PluginHost(plugins=[("first-n", PLUGIN)]), store, show_progress=False)
    variant = VariantSpec("first4+llm", ComponentSpec("first_n", {"n": 4}), (),
                          ComponentSpec("llm", {"model": "local/gemma-3-270m", "concurrency": 1}))
    run = runner.run(task, variant, seed=0).run
    exps = run.explanations()
    sent = [e for e in exps if e["status"] != "not_sent"]
    assert len(exps) == 120 and len(sent) == 4
    for e in sent:
        assert e["status"] in ("ok", "unparsable", "failed") and e["details"]["cached"] is False
        if e["status"] == "ok":  # grammar-constrained: the raw reply is exactly the JSON object
            reply = json.loads(e["details"]["raw"])
            assert reply["verdict"] is e["verdict"] and reply["reason"] == e["reason"]
            assert e["new_label"] == ("1" if e["verdict"] else "0")
            assert e["details"]["prompt_tokens"] > 100 and e["details"]["completion_tokens"] > 5
    assert sum(e["status"] == "ok" for e in sent) >= 3, [e["details"] for e in sent]
    stats = run.metrics()["explainer"]
    assert stats["sent"] == 4 and stats["mean_latency_s"] > 0 and stats["cost_per_1000_posts_usd"] == 0.0
    assert "4 from the model" in " ".join(run.provenance()["log"])

    # A second variant with the same prompts and generation parameters: every reply from the cache.
    again = runner.run(task, VariantSpec("first4+llm-c2", variant.classifier, (), ComponentSpec(
        "llm", {"model": "local/gemma-3-270m", "concurrency": 2})), seed=0).run
    cached = [e for e in again.explanations() if e["status"] != "not_sent"]
    assert all(e["details"]["cached"] for e in cached)
    assert [(e["status"], e["verdict"], e["reason"], e["new_label"]) for e in cached] == \
        [(e["status"], e["verdict"], e["reason"], e["new_label"]) for e in sent]
    assert "4 replies from the cache, 0 from the model" in " ".join(again.provenance()["log"])


def test_openai_compatible_server_on_localhost_is_reached_by_model_name() -> None:
    """The provider path by name: ``openai/<model>`` + ``api_base`` of a server this test starts."""
    with LocalServer(name="gemma-3-270m") as server:
        assert server.api_base.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(server.api_base + "/models", timeout=10) as resp:
            assert json.load(resp)["data"][0]["id"] == "gemma-3-270m"
        explainer = LLMExplainer.from_params({
            "model": "openai/gemma-3-270m", "api_base": server.api_base, "cache": False, "concurrency": 1,
            "prompts": str(REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "prompts" / "demo.toml")})
        task = load_task(REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml")
        from alexbench.data.splits import load_dataset

        posts = load_dataset(task).test[:3]
        out = explainer.explain(posts, Prediction(["1"] * 3, [[0.0, 1.0]] * 3), Context(task=task, seed=0))
    assert [e.post_id for e in out] == [p.id for p in posts]
    assert all(e.status == "ok" and isinstance(e.verdict, bool) and e.reason for e in out), [e.details for e in out]
    assert all(e.details["attempts"] == 1 and e.details["completion_tokens"] > 0 for e in out)
    assert server.api_base == ""  # stopped


def test_a_reply_depends_on_its_prompt_only_not_on_the_previous_one() -> None:
    """The same post, explained alone and right after other posts: the same reply every time. With
    llama-cpp-python's own prefix cache this post's verdict flipped from False to True when it
    followed either of the two posts here (the rest of the prompt was evaluated in batches that
    depended on the previous prompt); the template's saved prefix state is the same every time."""
    task = load_task(REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml")
    from alexbench.data.splits import load_dataset

    test = {p.id: p for p in load_dataset(task).test}
    target = test["1355604165377207067"]
    before = [test["1270446115055321546"], test["1309790121798741111"]]
    explainer = LLMExplainer.from_params({"model": "local/gemma-3-270m", "concurrency": 1, "cache": False})
    ctx = Context(task=task, seed=0)
    copies = [target.replace(id=f"{target.id}-{k}") for k in range(3)]  # ids must be unique; prompts are equal
    posts = [copies[0], before[0], copies[1], before[1], copies[2]]  # one server, these prompts in this order
    out = explainer.explain(posts, Prediction(["1"] * len(posts), [[0.0, 1.0]] * len(posts)), ctx)
    replies = [e.details["raw"] for e, p in zip(out, posts) if p in copies]
    assert len(replies) == 3 and all(r == replies[0] for r in replies), replies
    assert all(e.status == "ok" for e in out)


def demo_posts(n: int):
    from alexbench.data.splits import load_dataset

    task = load_task(REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml")
    return task, load_dataset(task).test[:n]


def test_replies_do_not_depend_on_the_order_of_posts() -> None:
    """20 demo posts, then the same 20 in reverse order (each now follows another post, and the
    engine has evaluated 20 other prompts since): the same reply for every post, and the same
    verdict scores. Nothing is cached; every prompt goes to the model."""
    task, posts = demo_posts(20)
    ctx = Context(task=task, seed=0)
    pred = Prediction(["1"] * len(posts), [[0.0, 1.0]] * len(posts))
    rev = list(reversed(posts))
    for params in ({"cache": False}, {"cache": False, "verdict": "score", "threshold": 0.5}):
        first = LLMExplainer.from_params(params).explain(posts, pred, ctx)
        second = LLMExplainer.from_params(params).explain(rev, pred, ctx)
        assert all(e.status == "ok" and not e.details["cached"] for e in first + second)
        by_id = {e.post_id: e for e in second}
        for e in first:
            other = by_id[e.post_id]
            assert (e.details["raw"], e.details["p_true"] if "p_true" in e.details else None) == \
                (other.details["raw"], other.details.get("p_true") if "p_true" in e.details else None), e.post_id
            assert (e.verdict, e.new_label, e.reason) == (other.verdict, other.new_label, other.reason)
        if params.get("verdict") == "score":
            assert {e.post_id: e.details["p_false_norm"] for e in first} == \
                {e.post_id: e.details["p_false_norm"] for e in second}
            assert len({e.details["p_false_norm"] for e in first}) > 10  # real scores, not a constant


def test_score_verdict_with_a_threshold_chosen_on_dev(store) -> None:
    """The judge scores the first 8 dev and test posts (FirstN predicts them positive): the
    threshold is the best of its candidates on dev by F1 (the highest of equally good ones), it is
    recorded in the run, and on test exactly the posts scored at or above it flip, each with a
    generated reason whose verdict is false."""
    task = load_task(REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml")
    runner = Runner(PluginHost(plugins=[("first-n", PLUGIN)]), store, show_progress=False)
    variant = VariantSpec("first8+llm-score", ComponentSpec("first_n", {"n": 8}), (),
                          ComponentSpec("llm", {"model": "local/gemma-3-270m", "verdict": "score"}))
    run = runner.run(task, variant, seed=0).run
    metrics = run.metrics()
    cal = metrics["explainer_calibration"]
    assert cal["tuned_on_dev"] and cal["dev_sent"] == 8 and cal["dev_scored"] == 8
    best = max(c[1] for c in cal["candidates"])
    assert cal["dev_official"] == pytest.approx(best, abs=1e-6)
    assert cal["threshold"] == pytest.approx(max(c[0] for c in cal["candidates"] if c[1] >= best - 1e-6), abs=1e-6)
    assert cal["dev_official"] >= cal["dev_official_without_flips"]
    assert metrics["explainer"]["threshold"] == cal["threshold"]
    sent = [e for e in run.explanations() if e["status"] != "not_sent"]
    assert len(sent) == 8 and all(e["status"] == "ok" for e in sent)
    for e in sent:
        d = e["details"]
        assert 0.0 < d["p_false_norm"] < 1.0 and d["threshold"] == cal["threshold"] and d["threshold_source"] == "dev"
        if d["p_false_norm"] >= cal["threshold"]:
            assert e["new_label"] == "0" and e["verdict"] is False and e["reason"]
            assert json.loads(d["raw"])["verdict"] is False  # the reason was generated with the verdict fixed
        else:
            assert e["new_label"] == "1" and e["verdict"] is True and e["reason"] == "" and d["raw"] is None
    assert metrics["explainer"]["flips"] == sum(e["new_label"] != e["old_label"] for e in sent)


def test_score_verdict_through_litellm_reads_the_servers_logprobs() -> None:
    """The score verdict of a hosted model, against the real local model behind the
    OpenAI-compatible server: P(true) and P(false) read from the generated reply's logprobs are
    the ones the same engine gives in this process for the same prompt evaluated from scratch."""
    from alexbench_llm.backends import read_score
    from alexbench_llm.engine import LocalEngine
    from alexbench_llm.grammar import response_format_grammar
    from alexbench_llm.local_model import bundled_gguf
    from alexbench_llm.parse import verdict_probs
    from alexbench_llm.prompt_format import render_plain

    task, posts = demo_posts(3)
    ctx = Context(task=task, seed=0)
    with LocalServer(name="gemma-3-270m") as server:
        explainer = LLMExplainer.from_params({"model": "openai/gemma-3-270m", "api_base": server.api_base,
                                              "cache": False, "concurrency": 1, "verdict": "score", "threshold": 0.5})
        out = explainer.explain(posts, Prediction(["1"] * 3, [[0.0, 1.0]] * 3), ctx)
    assert all(e.status == "ok" for e in out), [e.details for e in out]
    template = explainer.template(ctx)
    engine = LocalEngine(str(bundled_gguf().path))
    grammar = response_format_grammar(explainer.response_format(template))
    for post, e in zip(posts, out):
        local = engine.complete(render_plain(template.messages(post, "1")), grammar=grammar, max_tokens=16,
                                top_logprobs=5)
        p_true, p_false = verdict_probs(local.logprobs)
        assert (e.details["p_true"], e.details["p_false"]) == pytest.approx((p_true, p_false), rel=1e-6)
        assert read_score(json.dumps({"p_true": p_true, "p_false": p_false})) == pytest.approx((p_true, p_false))
        assert e.new_label == ("0" if p_false / (p_true + p_false) >= 0.5 else "1")


def test_replies_and_scores_do_not_depend_on_the_thread_count() -> None:
    """The engine picks its thread count by the machine's load before each request (n_threads 0):
    safe only because llama.cpp's numbers are the same for any count. One and two threads, each
    computing the template prefix's state itself: the same replies and the same scores."""
    from alexbench_llm.engine import LocalEngine
    from alexbench_llm.grammar import response_format_grammar
    from alexbench_llm.local_model import bundled_gguf
    from alexbench_llm.prompt_format import render_plain

    task, posts = demo_posts(3)
    explainer = LLMExplainer.from_params({})
    template = explainer.template(Context(task=task, seed=0))
    grammar = response_format_grammar(explainer.response_format(template))
    prefix = explainer.prefix(template, "1", Context(task=task, seed=0))
    assert prefix.endswith("Tweet: ") and len(prefix) > 1000
    seen = []
    for threads in (1, 2):
        engine = LocalEngine(str(bundled_gguf().path), n_threads=threads)
        prompts = [render_plain(template.messages(p, "1")) for p in posts]
        seen.append([(engine.complete(p, prefix=prefix, grammar=grammar).text,
                      engine.verdict_score(p, prefix=prefix).p_false) for p in prompts])
        assert engine.stats["prefix_states_computed"] == 1 and engine.stats["prefix_restores"] == 5
    assert seen[0] == seen[1]


@pytest.mark.skipif(not Path("/proc/stat").is_file(), reason="needs Linux's /proc/stat")
def test_idle_cores_count_other_processes_not_this_one() -> None:
    """The thread count follows the cores other processes leave idle: this process's own work
    (the judge's threads) is not counted against it, another process's busy loop is. Compared
    side by side, so whatever else the machine runs counts the same in both looks."""
    import subprocess
    import time

    from alexbench_llm.threads import IdleCores, threads_for

    def spin(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass

    idle = IdleCores()
    idle()
    time.sleep(0.5)
    if idle() < 1.5:  # a saturated machine leaves nothing to tell apart: both looks would say ~0
        pytest.skip("needs at least 1.5 idle cores to see another process's load")
    spin(0.6)  # this process busy
    own_busy = idle()
    other = subprocess.Popen([sys.executable, "-c", "import time\nend = time.monotonic() + 1.5\n"
                              "while time.monotonic() < end: pass"])
    try:
        time.sleep(0.3)
        idle()
        time.sleep(0.8)  # another process busy, this one asleep
        other_busy = idle()
    finally:
        other.wait()
    assert own_busy - other_busy >= 0.5, (own_busy, other_busy)
    assert threads_for(0.2) == 1 and threads_for(idle.cores) == min(4, idle.cores)
