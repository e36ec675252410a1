"""The LLM explainer on a multi-label task (issue 18): the template asks about each predicted label
in its send policy, and a False verdict removes that label from the post's set. Template errors,
the messages of each question, the verdicts applied to label sets (hand-written replies served
from the real response cache; the empty-set rule), the score threshold over label sets, and the
local Gemma-3-270M end to end on a few vaccine_concerns posts in both verdict modes."""

from __future__ import annotations

import json
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

from alexbench import hookimpl
from alexbench.config.tasks import TaskSpec, load_task
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.data.splits import load_dataset
from alexbench.errors import TaskFileError
from alexbench.interfaces import Classifier, Context, Explanation, Post, Prediction, join_labels, split_labels
from alexbench.plugin.host import PluginHost
from alexbench.run.runner import Runner
from alexbench.scoring import metrics as m
from alexbench.scoring.explainer_stats import explainer_stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
from alexbench_llm.cache import CachedReply, ResponseCache  # noqa: E402
from alexbench_llm.calibration import select_removal_threshold  # noqa: E402
from alexbench_llm.explainer import LLMExplainer  # noqa: E402
from alexbench_llm.multilabel import final_label_set  # noqa: E402
from alexbench_llm.prompts import load_template, template_path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
VC = REPO / "plugins" / "alexbench_tasks" / "tasks" / "vaccine_concerns"
LABELS = ("side_effects", "efficacy", "safety_trust", "access", "mandates", "misinformation")
HAND = "openai/hand-written"  # a hosted model's name: every reply below comes from the cache, nothing is sent


@pytest.fixture(scope="module")
def vc() -> TaskSpec:
    return load_task(VC / "task.toml")


def probs_of(label_set: str, sure: dict[str, float] | None = None) -> list[float]:
    chosen = set(split_labels(label_set))
    return [(sure or {}).get(label, 0.9 if label in chosen else 0.1) for label in LABELS]


def no_empty_task(tmp_path: Path) -> TaskSpec:
    """vaccine_concerns' labels without ``empty``: every post has at least one label."""
    text = (VC / "task.toml").read_text(encoding="utf-8").replace('empty = "none"', "")
    text = text.replace('data_dir = "data"', f'data_dir = "{(VC / "data").as_posix()}"')
    (tmp_path / "prompts").mkdir(exist_ok=True)
    (tmp_path / "task.toml").write_text(text.replace('name = "vaccine_concerns"', 'name = "vc_every"'))
    (tmp_path / "prompts" / "vc_every.toml").write_text((VC / "prompts" / "vaccine_concerns.toml").read_text())
    task = load_task(tmp_path / "task.toml")
    assert task.multi_label and task.empty is None
    return task


# -- the template ---------------------------------------------------------------------------
def test_a_multi_label_template_has_no_flip_to_and_says_so(tmp_path: Path, vc: TaskSpec) -> None:
    base = (VC / "prompts" / "vaccine_concerns.toml").read_text(encoding="utf-8")
    tpl = load_template(template_path(vc), vc)  # loads without flip_to or relabel_to
    assert tpl.multi_label and tpl.flip_to is None and tpl.relabel_to == ()
    assert tpl.send == ("access", "mandates", "misinformation") and set(tpl.label_meaning) == set(LABELS)
    cases = [
        (base.replace('send = [', 'flip_to = "access"\nsend = ['),
         r"prompt\.flip_to: task 'vaccine_concerns' is multi-label: .* a False verdict removes it"),
        (base.replace('send = [', 'relabel_to = ["access"]\nsend = ['), r"prompt\.relabel_to: task .* is multi-label"),
        (base.replace('send = ["access"', 'send = ["none"'), r"prompt\.send: 'none' is not one of the task's labels"),
        (base.replace('send = ["access"', 'send = ["acess"'), r"prompt\.send: 'acess' is not one of the task's labels"),
        (base.replace('label = "access"\nverdict = false', 'label = "access"\nnew_label = "efficacy"\nverdict = false',
                      1), r"prompt\.examples\[0\]\.new_label: a multi-label example has no new_label"),
        (base.replace('labels = ["access"]', 'labels = ["efficacy"]', 1),
         r"prompt\.examples\[0\]\.labels: must hold the example's label 'access'"),
        (base.replace('labels = ["access"]', 'labels = ["access", "vaccines"]', 1),
         r"prompt\.examples\[0\]\.labels: 'vaccines' is not one of the task's labels"),
        (base.replace("Concerns found: {labels}", "Concerns found: {label_set}", 1), r"unknown placeholder"),
    ]
    for i, (text, message) in enumerate(cases):
        path = tmp_path / f"t{i}.toml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(TaskFileError, match=message) as err:
            load_template(path, vc)
        assert err.value.path == path
    # {labels} is a multi-label placeholder only: a single-label template may not use it
    demo = load_task(REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml")
    path = tmp_path / "single.toml"
    path.write_text((REPO / "plugins/alexbench_tasks/tasks/demo/prompts/demo.toml").read_text().replace(
        "Predicted label: {label}", "Predicted label: {labels}", 1))
    with pytest.raises(TaskFileError, match=r"unknown placeholder\(s\) \['labels'\]"):
        load_template(path, demo)


def test_one_question_per_predicted_label_in_the_send_policy(vc: TaskSpec) -> None:
    explainer = LLMExplainer.from_params({"model": HAND})
    ctx = Context(task=vc, seed=0)
    template = explainer.template(ctx)
    posts = [Post("a", "no jab no job, and the pharmacy ran out", None), Post("b", "sore arm", None),
             Post("c", "all fine", None)]
    predicted = ["side_effects|access|mandates", "side_effects", ""]
    jobs = explainer._jobs(template, posts, predicted, ctx)
    assert [(j.post.id, j.label) for j in jobs] == [("a", "access"), ("a", "mandates")]  # side_effects not sent
    for job in jobs:
        system, user = job.messages
        assert system["role"] == "system" and user["role"] == "user"
        assert user["content"].endswith(
            f"Post: no jab no job, and the pharmacy ran out\nConcerns found: side_effects, access, mandates\n"
            f"Concern checked: {job.label} ({template.label_meaning[job.label]})\nAnswer:")
        shots = [json.loads(line.split("Answer: ", 1)[1]) for line in user["content"].splitlines()
                 if line.startswith("Answer: {")]
        assert len(shots) == 6 and all(set(s) == {"verdict", "reason"} for s in shots)  # no label in the reply
    assert jobs[0].prompt_hash != jobs[1].prompt_hash  # cached per question
    schema = explainer.reply_schema(template)
    assert schema["required"] == ["verdict", "reason"] and "label" not in schema["properties"]
    # send_labels overrides the template's policy: every predicted label is asked about
    every = LLMExplainer.from_params({"model": HAND, "send_labels": ",".join(LABELS)})
    assert [(j.post.id, j.label) for j in every._jobs(template, posts, predicted, ctx)] == \
        [("a", "side_effects"), ("a", "access"), ("a", "mandates"), ("b", "side_effects")]


# -- verdicts applied to label sets -----------------------------------------------------------
def prefill(explainer: LLMExplainer, ctx: Context, posts: list[Post], predicted: list[str],
            replies: dict[tuple[str, str], str], kind: str = "generate") -> None:
    """Write hand-made replies into the explainer's real response cache, under the keys its
    requests will have, so explain() reads them instead of calling a model."""
    template = explainer.template(ctx)
    jobs = explainer._jobs(template, posts, predicted, ctx)
    assert {j.key for j in jobs} == set(replies), sorted(j.key for j in jobs)
    with ResponseCache(Path(ctx.cache_dir) / "llm" / "responses.sqlite") as cache:
        for job in jobs:
            cache.put(explainer.request_key(job, kind, template), explainer.model_identity(), job.prompt_hash,
                      explainer.request_params(job, kind, template),
                      CachedReply(replies[job.key], 100, 10, 0.001, 0.5))


def verdict(value: bool, reason: str) -> str:
    return json.dumps({"verdict": value, "reason": reason})


def test_false_verdicts_remove_their_labels(tmp_path: Path, vc: TaskSpec) -> None:
    explainer = LLMExplainer.from_params({"model": HAND})
    ctx = Context(task=vc, seed=0, cache_dir=tmp_path / "cache")
    posts = [Post(i, f"post {i}", None) for i in ("p1", "p2", "p3", "p4", "p5")]
    predicted = ["side_effects|access|mandates", "misinformation", "access|misinformation", "efficacy",
                 "mandates|misinformation"]
    prefill(explainer, ctx, posts, predicted, {
        ("p1", "access"): verdict(False, "booking was easy"), ("p1", "mandates"): verdict(True, "objects to rules"),
        ("p2", "misinformation"): verdict(False, "mocks the claim"),
        ("p3", "access"): verdict(True, "no doses"), ("p3", "misinformation"): "The claim is false.",  # no JSON
        ("p5", "mandates"): "", ("p5", "misinformation"): "{\"verdict\": \"maybe\"}",
    })
    out = explainer.explain(posts, Prediction(predicted, [probs_of(p) for p in predicted]), ctx)
    got = {e.post_id: e for e in out}
    assert [e.post_id for e in out] == [p.id for p in posts]

    p1 = got["p1"]  # access removed, mandates kept, side_effects never asked
    assert (p1.old_label, p1.new_label, p1.status, p1.verdict) == ("side_effects|access|mandates",
                                                                   "side_effects|mandates", "ok", False)
    assert p1.reason == "access: booking was easy; mandates: objects to rules"
    records = p1.details["labels"]
    assert [(r["label"], r["status"], r["verdict"], r["removed"]) for r in records] == \
        [("access", "ok", False, True), ("mandates", "ok", True, False)]
    assert all(r["cached"] and r["raw"] for r in records) and p1.details["kept_by_empty_rule"] is None
    assert p1.details["prompt_tokens"] == 200 and p1.details["model_cost_usd"] == pytest.approx(0.002)

    p2 = got["p2"]  # its only label removed: the task has 'none', so the set becomes empty
    assert (p2.new_label, p2.status, p2.verdict) == ("", "ok", False)
    assert p2.details["labels"][0]["removed"] is True and p2.details["kept_by_empty_rule"] is None

    p3 = got["p3"]  # one unparsable answer keeps its label; the read True keeps the other
    assert (p3.new_label, p3.status, p3.verdict) == ("access|misinformation", "ok", True)
    assert [(r["label"], r["status"], r["verdict"], r["removed"]) for r in p3.details["labels"]] == \
        [("access", "ok", True, False), ("misinformation", "unparsable", None, False)]
    assert "no JSON object" in p3.details["labels"][1]["error"] and p3.details["error"].startswith("unparsable")

    assert (got["p4"].status, got["p4"].new_label) == ("not_sent", "efficacy")  # efficacy is not in send
    p5 = got["p5"]  # nothing read: unparsable, the set unchanged
    assert (p5.new_label, p5.status, p5.verdict) == ("mandates|misinformation", "unparsable", None)

    # the stats every leaderboard reads: a flip is a post whose set changed
    stats = explainer_stats(out, {"p1": "side_effects|mandates", "p2": "misinformation"})
    assert (stats.sent, stats.flips, stats.flips_fixed, stats.flips_broke) == (4, 2, 1, 1)
    assert stats.unparsable_rate == 0.25
    # per label: 7 questions; access left p1 (not gold there: right), misinformation left p2 (gold: wrong)
    assert (stats.label_questions, stats.label_removals, stats.label_removals_right,
            stats.removal_precision) == (7, 2, 1, 0.5)
    # a single-label explainer's statistics keep their keys
    single = explainer_stats([Explanation("a", "1", "0", "ok", False, "", {"latency_s": 0.5})], {"a": "0"})
    assert list(single.to_dict()) == ["posts", "sent", "flips", "flips_fixed", "flips_broke", "flip_precision", "unparsable_rate",
                            "failed_rate", "mean_latency_s", "latency_p50_s", "latency_p95_s",
                            "cost_per_1000_posts_usd", "cost_paid_usd"]


def test_a_post_that_must_keep_a_label_keeps_its_most_probable_one(tmp_path: Path) -> None:
    task = no_empty_task(tmp_path)
    assert final_label_set(("access", "mandates"), {"access", "mandates"}, probs_of("", {"access": 0.7,
                                                                                        "mandates": 0.8}), task) \
        == ("mandates", "mandates")
    assert final_label_set(("access", "mandates"), {"access", "mandates"}, probs_of("access|mandates"), task) \
        == ("access", "access")  # equal probabilities: the first in the task's label order
    assert final_label_set(("access", "mandates"), {"access"}, probs_of(""), task) == ("mandates", None)
    explainer = LLMExplainer.from_params({"model": HAND})
    ctx = Context(task=task, seed=0, cache_dir=tmp_path / "cache")
    posts = [Post("q1", "post one", None), Post("q2", "post two", None)]
    predicted = ["access|mandates|misinformation", "side_effects|misinformation"]
    prefill(explainer, ctx, posts, predicted, {
        ("q1", "access"): verdict(False, "a"), ("q1", "mandates"): verdict(False, "b"),
        ("q1", "misinformation"): verdict(False, "c"), ("q2", "misinformation"): verdict(False, "d")})
    probs = [probs_of("", {"access": 0.6, "mandates": 0.55, "misinformation": 0.9}), probs_of(predicted[1])]
    q1, q2 = explainer.explain(posts, Prediction(predicted, probs), ctx)
    assert (q1.new_label, q1.status, q1.verdict) == ("misinformation", "ok", False)
    assert q1.details["kept_by_empty_rule"] == "misinformation"
    assert [(r["label"], r["verdict"], r["removed"]) for r in q1.details["labels"]] == \
        [("access", False, True), ("mandates", False, True), ("misinformation", False, False)]
    assert q2.new_label == "side_effects" and q2.details["kept_by_empty_rule"] is None  # side_effects not asked


def test_one_threshold_over_all_questions_is_chosen_by_the_official_metric(vc: TaskSpec) -> None:
    gold = ["access", "mandates", "", "misinformation"]
    labels = ["access|mandates", "mandates", "misinformation", "access|misinformation"]
    scored = [(0, 0.9, "mandates"), (0, 0.2, "access"), (1, 0.3, "mandates"), (2, 0.8, "misinformation"),
              (3, 0.6, "access"), (3, 0.1, "misinformation")]

    def macro_f1(final):  # the task's official metric, as the runner's objective computes it on dev
        return m.macro_f1(m.ScoreInput(gold, list(final), LABELS, multi_label=True))

    def final_for(i, removed):
        return final_label_set(vc.label_set(labels[i]), removed, probs_of(labels[i]), vc)[0]

    choice = select_removal_threshold(labels, scored, final_for, macro_f1)
    # every pair at or above 0.45 removed: the three wrong labels go, the right ones stay
    assert choice.threshold == pytest.approx((0.6 + 0.3) / 2) and choice.flips == 3 and choice.scored == 6
    assert choice.objective == pytest.approx(macro_f1(gold)) and choice.objective > choice.objective_without_flips
    assert [c.flips for c in choice.candidates] == [0, 1, 2, 3, 4, 4, 4]


# -- the local Gemma-3-270M end to end ----------------------------------------------------------
@dataclass(frozen=True)
class NParams:
    n: int = 5


class RareConcerns(Classifier):
    """For the first ``n`` posts of each call: the gold set plus the two rarest concerns (so every
    post has questions, some right and some wrong); the rest get no label."""

    name = "rare_concerns"
    version = "1.0"
    Params = NParams
    multi_label = True

    def fit(self, train, dev, ctx):
        return {}

    def predict(self, posts, ctx):
        order = list(ctx.task.labels)
        labels = [join_labels({*ctx.task.label_set(p.label), "mandates", "misinformation"}, order)
                  if i < self.params.n else "" for i, p in enumerate(posts)]
        return Prediction(labels, [probs_of(label) for label in labels])


PLUGIN = types.SimpleNamespace(alexbench_register_classifiers=hookimpl(lambda registry: registry.add(RareConcerns)))


@pytest.mark.slow
@pytest.mark.parametrize("mode, threshold", [("generate", None), ("score", "dev"), ("score", 0.6)])
def test_local_gemma_checks_the_labels_of_vaccine_concerns_posts(store, vc: TaskSpec, mode: str,
                                                                  threshold: str | float | None) -> None:
    """Five test posts, each predicted with its gold concerns plus the two rarest: 10 to 12
    questions. The dev-tuned threshold may remove nothing (the five dev posts decide little), so
    a fixed threshold checks removals and their generated reasons in score mode too."""
    runner = Runner(PluginHost(plugins=[("rare-concerns", PLUGIN)]), store, show_progress=False)
    params = {"model": "local/gemma-3-270m", "verdict": mode, **({"threshold": threshold} if threshold else {})}
    variant = VariantSpec(f"rare5+llm-{mode}", ComponentSpec("rare_concerns", {"n": 5}), (), ComponentSpec("llm", params))
    run = runner.run(vc, variant, seed=0).run
    exps = run.explanations()
    test = load_dataset(vc).test
    assert [e["post_id"] for e in exps] == [p.id for p in test]
    sent = [e for e in exps if e["status"] != "not_sent"]
    assert len(sent) == 5 and all(e["status"] == "ok" for e in sent), [e["details"] for e in sent]
    calibration = run.metrics().get("explainer_calibration")
    for e in sent:
        old, new = split_labels(e["old_label"]), split_labels(e["new_label"])
        assert vc.label_space.problem(e["new_label"]) is None and set(new) <= set(old)
        records = e["details"]["labels"]
        assert [r["label"] for r in records] == [label for label in old if label in ("access", "mandates",
                                                                                      "misinformation")]
        assert {r["label"] for r in records if r["removed"]} == set(old) - set(new)
        for r in records:
            assert r["status"] == "ok" and isinstance(r["verdict"], bool) and r["removed"] is (not r["verdict"])
            if mode == "generate":
                assert json.loads(r["raw"]) == {"verdict": r["verdict"], "reason": r["reason"]}
            else:
                assert (r["p_false_norm"] >= e["details"]["threshold"]) is (not r["verdict"])
                assert e["details"]["threshold"] == (calibration["threshold"] if threshold == "dev" else threshold)
                assert (r["raw"] is None) is r["verdict"]  # a reason is generated for removals only
                if not r["verdict"]:
                    assert json.loads(r["raw"])["verdict"] is False and r["reason"]
        assert e["verdict"] is (set(new) == set(old))
    if threshold == "dev":  # 5 dev posts, every question scored; the threshold is the best on dev
        assert calibration["tuned_on_dev"] and calibration["dev_posts_sent"] == 5
        assert calibration["dev_scored"] == calibration["dev_sent"] >= 10
        assert calibration["dev_official"] == pytest.approx(max(c[1] for c in calibration["candidates"]), abs=1e-6)
    elif threshold is not None:
        assert calibration == {"threshold": threshold, "tuned_on_dev": False}
        assert any(r["removed"] for e in sent for r in e["details"]["labels"])  # scores up to ~0.68 were seen
    else:
        assert calibration is None
    stats = run.metrics()["explainer"]
    assert stats["sent"] == 5 and stats["flips"] == sum(e["new_label"] != e["old_label"] for e in sent)
    final = {r["id"]: r["pred"] for r in run.predictions() if r["split"] == "test"}
    assert all(final[e["post_id"]] == e["new_label"] for e in exps)
