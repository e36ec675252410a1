"""The rivals of issue 28, each a built-in plugin: the ``llm`` classifier (an LLM asked directly),
the ``llm_paraphrase`` augmenter and the ``embed_logreg`` classifier. Real components on small
data: the local GGUF scoring labels, a scripted OpenAI-compatible server on localhost for the
hosted path, the bundled MiniLM for embeddings."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

from alexbench.config.tasks import load_task
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.data.splits import load_dataset
from alexbench.errors import TaskFileError
from alexbench.interfaces import Context
from alexbench.plugin.host import PluginHost
from alexbench.run.runner import Runner
from alexbench.run.store import ResultsStore
from alexbench.testing import AugmenterContract, ClassifierContract

from .conftest import REPO
from .test_llm_client import Reply, completion, scripted  # noqa: F401 - the scripted server's fixture

sys.path.insert(0, str(REPO / "plugins"))
from alexbench_llm.classifier import LLMClassifier  # noqa: E402

TINY_CLASSIFY = '''[classify]
version = "1"
system = "Each tweet is answered yes when its author reports their own COVID-19 diagnosis, otherwise no."
user = """{examples}Tweet: {text}
Does the author report their own COVID-19 diagnosis? Answer:"""
example = """Tweet: {text}
Does the author report their own COVID-19 diagnosis? Answer: {answer}

"""

[classify.answers]
"1" = "yes"
"0" = "no"
'''


@pytest.fixture
def tiny_llm(tiny_task_file: Path) -> Path:
    """The tiny task with a classifier prompt template next to it."""
    (tiny_task_file.parent / "prompts").mkdir(exist_ok=True)
    (tiny_task_file.parent / "prompts" / "tiny.classify.toml").write_text(TINY_CLASSIFY)
    return tiny_task_file


def run_llm(task_file: Path, results: Path, params: dict[str, Any], seed: int = 1, name: str = "llm") -> Any:
    runner = Runner(PluginHost(), ResultsStore(results), show_progress=False)
    return runner.run(load_task(task_file), VariantSpec(name, ComponentSpec("llm", params)), seed).run


@pytest.mark.slow
def test_the_local_model_scores_labels_the_same_whatever_the_order(tiny_llm, tmp_path) -> None:
    """Probabilities per label sum to 1; two runs without the cache give the same numbers; the
    posts in another order give each post the same numbers (the prefix state is restored, never
    carried over from the post before)."""
    task = load_task(tiny_llm)
    test = load_dataset(task).test
    clf = LLMClassifier.from_params({"cache": False, "calibrate": False})
    ctx = Context(task=task, seed=1)
    clf.fit(load_dataset(task).train, [], ctx)
    first = clf.predict(test, ctx)
    assert all(abs(sum(row) - 1) < 1e-9 and all(0 < p < 1 for p in row) for row in first.probs)
    assert first.labels == [task.labels[max(range(2), key=r.__getitem__)] for r in first.probs]
    again = clf.predict(test, ctx)
    assert again.probs == first.probs
    backwards = clf.predict(list(reversed(test)), ctx)
    assert list(reversed(backwards.probs)) == first.probs


@pytest.mark.slow
def test_few_shot_examples_come_from_train_only_and_are_recorded(tiny_llm, tmp_path) -> None:
    task = load_task(tiny_llm)
    data = load_dataset(task)
    train_ids = {p.id for p in data.train}
    run = run_llm(tiny_llm, tmp_path / "r", {"shots": 2})
    fit = run.provenance()["fit"]
    assert len(fit["shot_ids"]) == 4 and set(fit["shot_ids"]) <= train_ids  # 2 per class, from train
    assert fit["calibration"]["tuned_on_dev"] is True and "bias" in fit["calibration"]
    other = run_llm(tiny_llm, tmp_path / "r", {"shots": 2}, seed=2)
    assert other.provenance()["fit"]["shot_ids"] != fit["shot_ids"]  # seeded by the run
    # nearest: chosen per post from train by TF-IDF similarity, never a dev or test post
    clf = LLMClassifier.from_params({"shots": 1, "shot_selection": "nearest", "calibrate": False, "cache": False})
    ctx = Context(task=task, seed=1)
    clf.fit(data.train, data.dev, ctx)
    for post in data.test:
        shots = clf._shots_for(post, None, clf._state, ctx)
        assert len(shots) == 2 and {p.id for p, _ in shots} <= train_ids
        assert {str(p.label) for p, _ in shots} == {"0", "1"}


def test_a_task_without_a_classifier_template_names_the_file_to_write(tiny_task_file, tmp_path) -> None:
    with pytest.raises(TaskFileError) as info:  # before any work: the run's spec names the template
        run_llm(tiny_task_file, tmp_path / "r", {})
    assert str(tiny_task_file.parent / "prompts" / "tiny.classify.toml") in str(info.value)
    assert "no classifier prompt template for task 'tiny'" in str(info.value)


def test_a_template_with_answers_that_begin_alike_is_refused(tiny_llm) -> None:
    from alexbench_llm.classify_prompts import load_classify_template

    path = tiny_llm.parent / "prompts" / "tiny.classify.toml"
    path.write_text(TINY_CLASSIFY.replace('"0" = "no"', '"0" = "yes, but no"'))
    with pytest.raises(TaskFileError, match="must begin with different words"):
        load_classify_template(path, load_task(tiny_llm))


def logprob_completion(first: list[tuple[str, float]]) -> dict[str, Any]:
    """A one-token completion whose first token has these alternatives."""
    body = completion(first[0][0])
    body["choices"][0]["logprobs"] = {"content": [{"token": first[0][0], "logprob": first[0][1], "bytes": None,
                                                   "top_logprobs": [{"token": t, "logprob": lp, "bytes": None}
                                                                    for t, lp in first]}]}
    return body


def test_a_hosted_model_scores_labels_from_its_logprobs(scripted, tiny_llm, tmp_path) -> None:  # noqa: F811
    """Through litellm to a scripted OpenAI-compatible server: one request per post asking for the
    first token's logprobs; P(label) from the alternatives that begin each answer (any case or
    space), normalised; cached, so a second run sends nothing; the price from litellm's map."""
    def script(body: dict[str, Any], n: int) -> Reply:
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        p_yes = 0.9 if "positive" in user or "covid" in user.split("Tweet:")[-1] else 0.2
        return Reply(200, {**logprob_completion([(" yes", math.log(p_yes * 0.8)), ("Yes", math.log(p_yes * 0.2)),
                                                 (" no", math.log(1 - p_yes))]), "model": body["model"]})  # as OpenAI does

    server = scripted(script)
    params = {"model": "openai/gpt-4o-mini", "api_base": server.url, "calibrate": False, "backoff_s": 0.01}
    import os

    os.environ.setdefault("OPENAI_API_KEY", "sk-scripted-never-real")
    run = run_llm(tiny_llm, tmp_path / "r", params)
    test = [r for r in run.predictions() if r["split"] == "test"]
    assert len(server.requests) == len(run.predictions())  # one question per dev and test post
    assert all(r["logprobs"] is True and r["top_logprobs"] == 20 and r["max_tokens"] == 1 for r in server.requests)
    for row in test:
        assert abs(sum(row["probs"]) - 1) < 1e-6 and row["classifier_pred"] == ("1" if row["probs"][1] > 0.5 else "0")
    assert {round(r["probs"][1], 3) for r in test} <= {0.9, 0.2}
    sent = len(server.requests)
    run_llm(tiny_llm, tmp_path / "r", params, name="llm-again")
    assert len(server.requests) == sent  # every question from the cache
    log = " ".join(run.provenance()["log"])
    assert "cost $" in log and "cost unknown" not in log


def test_a_hosted_model_waits_for_retry_after(scripted, tiny_llm, tmp_path) -> None:  # noqa: F811
    import os
    import time

    os.environ.setdefault("OPENAI_API_KEY", "sk-scripted-never-real")
    server = scripted(lambda body, n: Reply(429, {"error": {"message": "rate limited"}}, headers={"Retry-After": "1"})
                      if n == 1 else Reply(200, logprob_completion([(" no", -0.1), (" yes", -2.4)])))
    run_llm(tiny_llm, tmp_path / "r", {"model": "openai/gpt-4o-mini", "api_base": server.url, "calibrate": False,
                                        "concurrency": 1, "backoff_s": 0.01})
    assert server.times[1] - server.times[0] >= 0.95  # the second try waited the Retry-After
    _ = time


def test_embed_logreg_fits_on_cached_embeddings(tiny_task_file, tmp_path) -> None:
    """The second run (another seed) takes every embedding from the cache; both are real fits."""
    runner = Runner(PluginHost(), ResultsStore(tmp_path / "r"), show_progress=False)
    task = load_task(tiny_task_file)
    variant = VariantSpec("embed", ComponentSpec("embed_logreg", {"class_weight": "balanced"}))
    first = runner.run(task, variant, 1).run.provenance()["fit"]
    assert first["embedded_now"] == first["train_rows"] and first["dim"] == 384
    second = runner.run(task, variant, 2).run
    fit = second.provenance()["fit"]
    assert fit["embedded_now"] == 0 and fit["from_cache"] == fit["train_rows"] == first["train_rows"]
    assert any("0 embedded now" in line for line in second.provenance()["log"])
    preds = [r for r in second.predictions() if r["split"] == "test"]
    assert all(abs(sum(r["probs"]) - 1) < 1e-9 for r in preds)
    assert sum(r["pred"] == r["gold"] for r in preds) >= len(preds) // 2


def test_a_damaged_embedding_cache_is_set_aside_named_and_rebuilt(tiny_task_file, tmp_path, capfd) -> None:
    """A cache file that is not a database (a crash, a disk error, a user's mistake): the run warns
    with both paths, embeds the posts again into a new cache, and the next run reads that one."""
    runner = Runner(PluginHost(), ResultsStore(tmp_path / "r"), show_progress=False)
    task = load_task(tiny_task_file)
    variant = VariantSpec("embed", ComponentSpec("embed_logreg", {}))
    clean = runner.run(task, variant, 1).run
    (cache_file,) = (tmp_path / "r" / "cache" / "embeddings").glob("*.sqlite")
    cache_file.write_bytes(b"this is not an SQLite database" * 100)
    for extra in cache_file.parent.glob("*.sqlite-*"):
        extra.unlink()
    capfd.readouterr()
    again = runner.run(task, variant, 2).run
    err = capfd.readouterr().err
    (aside,) = cache_file.parent.glob("*.damaged-*")
    assert f"embedding cache {cache_file} is damaged" in err and str(aside) in err
    assert again.provenance()["fit"]["embedded_now"] == again.provenance()["fit"]["train_rows"]
    third = runner.run(task, variant, 3).run
    assert third.provenance()["fit"]["embedded_now"] == 0
    test_probs = [r["probs"] for r in clean.predictions() if r["split"] == "test"]
    assert test_probs and all(abs(sum(p) - 1) < 1e-9 for p in test_probs)


def test_paraphrases_keep_labels_and_leaks_are_dropped_by_the_host(scripted, tiny_task_file, tmp_path) -> None:  # noqa: F811
    """A scripted model rewrites each minority post; one rewrite copies a test post's text and one
    repeats another rewrite: the host keeps labels and sources, and drops both."""
    import os

    os.environ.setdefault("OPENAI_API_KEY", "sk-scripted-never-real")
    task = load_task(tiny_task_file)
    test_text = load_dataset(task).test[0].text
    counter = iter(range(1000))

    def script(body: dict[str, Any], n: int) -> Reply:
        k = next(counter)
        text = test_text if k == 0 else ("the same rewrite" if k in (1, 2) else f"rewrite number {k}")
        return Reply(200, completion(f" {text}\nPost: something else"))

    server = scripted(script)
    runner = Runner(PluginHost(), ResultsStore(tmp_path / "r"), show_progress=False)
    variant = VariantSpec("tfidf+para", ComponentSpec("tfidf_logreg"), (ComponentSpec(
        "llm_paraphrase", {"model": "openai/gpt-4o-mini", "api_base": server.url, "n": 2, "balance": "none"}),))
    run = runner.run(task, variant, 1).run
    report = run.provenance()["augmentation"]
    minority = sum(p.label == "1" for p in load_dataset(task).train)
    assert len(server.requests) == 2 * minority
    assert report["dropped"]["same_text_as_dev_or_test"] == 1  # the copy of a test post, dropped by the host
    # the repeated rewrite is kept once; every other rewrite of a minority post is a copy of it
    assert report["after"]["1"] == minority + 2 * minority - 2 and report["after"]["0"] == report["before"]["0"]
    log = " ".join(run.provenance()["log"])
    assert f"augmenter llm_paraphrase: {2 * minority} rewrites asked, 0 from the cache, {2 * minority} from the model" in log
    (step,) = report["steps"]
    rows = [json.loads(line) for line in next((tmp_path / "r" / "cache").rglob(f"*{step['cache_key']}*")).read_text()
            .splitlines()]
    copies = [r for r in rows if r.get("meta", {}).get("augmenter") == "llm_paraphrase"]
    sources = {p.id: p for p in load_dataset(task).train}
    assert copies and all(r["label"] == sources[r["meta"]["source_id"]].label == "1" for r in copies)
    assert all("Post:" not in r["text"] and r["text"].startswith(("rewrite number", "the same rewrite", test_text))
               for r in copies)  # the first line of each reply only


# -- the conformance kit on the three rivals --------------------------------------------------------
def _kit_tasks() -> list[str]:
    """The kit's tiny tasks, each with a classifier template beside it (the llm classifier needs one)."""
    import atexit
    import shutil
    import tempfile

    from alexbench.kit.tasks import write_tiny_task

    # Made when the module is collected (the contracts' ``tasks`` is a class attribute), so no
    # fixture can own it: removed when the test process ends.
    root = Path(tempfile.mkdtemp(prefix="alexbench-rival-kit-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    templates = {
        "binary": TINY_CLASSIFY,
        "multiclass": TINY_CLASSIFY.replace("answered yes when its author reports their own COVID-19 diagnosis, "
                                            "otherwise no", "answered author, someone or nobody: who has covid")
        .replace("Does the author report their own COVID-19 diagnosis?", "Who has covid?")
        .replace('"1" = "yes"\n"0" = "no"', 'self = "author"\nother = "someone"\nnone = "nobody"'),
        "multilabel": '''[classify]
user = """{examples}Post: {text}
Does it say that {label} has covid? Answer:"""
example = """Post: {text}
Does it say that {label} has covid? Answer: {answer}

"""
''',
    }
    files = []
    for kind, template in templates.items():
        task_file = write_tiny_task(root / kind, kind)
        name = load_task(task_file).name
        (task_file.parent / "prompts").mkdir(exist_ok=True)
        (task_file.parent / "prompts" / f"{name}.classify.toml").write_text(template)
        files.append(str(task_file))
    return files


KIT_TASKS = _kit_tasks()


@pytest.mark.slow
class TestLLMClassifierContract(ClassifierContract):
    component = "llm"
    params = {"cache": False}
    tasks = KIT_TASKS


class TestEmbedLogRegContract(ClassifierContract):
    component = "embed_logreg"
    params = {"class_weight": "balanced", "cache": False}
    tasks = KIT_TASKS


@pytest.mark.slow
class TestLLMParaphraseContract(AugmenterContract):
    component = "llm_paraphrase"
    params = {"n": 1, "cache": False}
