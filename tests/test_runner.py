"""The runner end to end on real files: augment → train → predict → explain → score → store."""

from __future__ import annotations

import os
import stat
import types
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from alexbench import hookimpl
from alexbench.config.tasks import load_task
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.errors import AlexbenchError, RunError
from alexbench.interfaces import Augmenter, Classifier, Context, Explainer, Explanation, Post, Prediction
from alexbench.plugin.host import PluginHost
from alexbench.run.runner import Runner
from alexbench.scoring.metrics import Metric, score


@dataclass(frozen=True)
class GrowParams:
    times: int = 2
    leak: bool = False


class GrowPositives(Augmenter):
    """Adds `times` shouted copies of each positive post, plus one verbatim resampling copy."""

    name = "grow_positives"
    version = "1.0"
    Params = GrowParams

    def augment(self, train: Sequence[Post], ctx: Context) -> list[Post]:
        out = list(train)
        for post in train:
            if post.label != ctx.task.positive:
                continue
            for k in range(self.params.times):
                text = post.text.upper() if k == 0 else post.text.upper()  # k>0 repeats: exact duplicates
                out.append(post.replace(id=f"{post.id}#g{k}", text=text,
                                        meta={"source_id": post.id, "augmenter": self.name}))
            out.append(post.replace(id=f"{post.id}#c", meta={"source_id": post.id, "augmenter": self.name, "copy": True}))
        if self.params.leak:
            out.append(Post("leak", "tested positive for covid today today", "1", {}, {"source_id": "p1", "augmenter": self.name}))
        return out


class BadLabelAugmenter(Augmenter):
    name = "bad_label"
    version = "1.0"

    def augment(self, train, ctx):
        return [*train, Post("x", "y", "maybe", {}, {"source_id": train[0].id})]


class FlipTodayExplainer(Explainer):
    """Says a positive prediction does not hold when the post mentions vaccines (rule-based)."""

    name = "flip_rule"
    version = "1.0"

    def explain(self, posts, prediction, ctx):
        out = []
        for post, label in zip(posts, prediction.labels):
            if label != ctx.task.positive:
                out.append(Explanation(post.id, label, label, "not_sent"))
            elif "vaccine" in post.text:
                out.append(Explanation(post.id, label, "0", "ok", False, "a vaccine is not a diagnosis",
                                       {"latency_s": 0.5}))
            else:
                out.append(Explanation(post.id, label, label, "ok", True, "reads as a self-report", {"latency_s": 0.25}))
        return out


class RogueExplainer(Explainer):
    name = "rogue"
    version = "1.0"

    def explain(self, posts, prediction, ctx):
        return [Explanation(p.id, lab, "1", "unparsable") for p, lab in zip(posts, prediction.labels)]


class AllPositive(Classifier):
    name = "all_positive"
    version = "1.0"

    def fit(self, train, dev, ctx):
        return {}

    def predict(self, posts, ctx):
        return Prediction(["1"] * len(posts), [[0.0, 1.0]] * len(posts))


class Crashing(Classifier):
    name = "crashing"
    version = "1.0"

    def fit(self, train, dev, ctx):
        raise MemoryError("simulated out-of-memory while training")

    def predict(self, posts, ctx):  # pragma: no cover - never reached
        raise AssertionError


TEST_PLUGIN = types.SimpleNamespace(
    alexbench_register_augmenters=hookimpl(lambda registry: [registry.add(GrowPositives), registry.add(BadLabelAugmenter)]),
    alexbench_register_explainers=hookimpl(lambda registry: [registry.add(FlipTodayExplainer), registry.add(RogueExplainer)]),
    alexbench_register_classifiers=hookimpl(lambda registry: [registry.add(AllPositive), registry.add(Crashing)]),
)


@pytest.fixture
def runner(store) -> Runner:
    return Runner(PluginHost(plugins=[("test-plugin", TEST_PLUGIN)]), store, show_progress=False)


TFIDF = VariantSpec("tfidf", ComponentSpec("tfidf_logreg"))


def test_run_writes_a_complete_reproducible_record(runner, tiny_task) -> None:
    outcome = runner.run(tiny_task, TFIDF, seed=7)
    run = outcome.run
    assert not outcome.reused and run.path.name == f"s7-{outcome.run_id}"
    assert {p.name for p in run.path.iterdir()} == {"run_spec.json", "metrics.json", "predictions.jsonl", "provenance.json",
                                                  "checksums.json"}
    spec, metrics, prov = run.spec(), run.metrics(), run.provenance()
    assert spec.seed == 7 and spec.variant.classifier.params["C"] == 4.0
    assert set(spec.data) == {"train", "dev", "test"} and all(len(h) == 64 for h in spec.data.values())
    assert prov["environment"]["packages"]["scikit-learn"] and set(prov["timings_s"]) >= {"fit", "predict_test"}
    # Scores can be recomputed from the stored predictions alone.
    test_rows = [r for r in run.predictions() if r["split"] == "test"]
    assert [r["id"] for r in test_rows] == [p.id for p in runner.dataset(tiny_task).test]
    again = score(tiny_task, [r["gold"] for r in test_rows], [r["pred"] for r in test_rows], runner.host.metrics)
    assert again == metrics["test"]
    assert all(abs(sum(r["probs"]) - 1) < 1e-5 for r in test_rows)


def test_finished_runs_are_reused_and_seeds_are_deterministic(runner, tiny_task, tmp_path) -> None:
    first = runner.run(tiny_task, TFIDF, seed=1)
    stamp = os.stat(first.run.path / "metrics.json").st_mtime_ns
    second = runner.run(tiny_task, TFIDF, seed=1)
    assert second.reused and second.run_id == first.run_id
    assert os.stat(first.run.path / "metrics.json").st_mtime_ns == stamp
    from alexbench.run.store import ResultsStore

    elsewhere = Runner(runner.host, ResultsStore(tmp_path / "other"), show_progress=False).run(tiny_task, TFIDF, seed=1)
    assert elsewhere.run.predictions() == first.run.predictions()
    assert runner.run(tiny_task, TFIDF, seed=2).run_id != first.run_id


def test_augmentation_is_recorded_deduplicated_and_cached(runner, tiny_task) -> None:
    variant = VariantSpec("grow", ComponentSpec("tfidf_logreg"), (ComponentSpec("grow_positives", {"times": 2, "leak": True}),))
    run = runner.run(tiny_task, variant, seed=0).run
    aug = run.provenance()["augmentation"]
    # 6 positives in train: +2 shouted (1 exact duplicate each) +1 copy each; the leak row is dropped.
    assert aug["before"] == {"0": 12, "1": 6}
    assert aug["dropped"] == {"exact_duplicate": 6, "same_text_as_dev_or_test": 1}
    assert aug["after"] == {"0": 12, "1": 6 + 6 + 6}
    assert aug["steps"][0]["cached"] is False
    other = VariantSpec("grow-balanced", ComponentSpec("tfidf_logreg", {"class_weight": "balanced"}), variant.augmenters)
    aug2 = runner.run(tiny_task, other, seed=0).run.provenance()["augmentation"]
    assert aug2["steps"][0]["cached"] is True and aug2["after"] == aug["after"]


def test_augmenter_breaking_the_contract_fails_the_run(runner, tiny_task, store) -> None:
    with pytest.raises(RunError, match="produced label 'maybe'"):
        runner.run(tiny_task, VariantSpec("bad", ComponentSpec("tfidf_logreg"), (ComponentSpec("bad_label"),)), 0)
    assert not list(store.runs()) and "produced label" in store.failures()[0]["error"]


def test_explainer_flips_are_scored(runner, tiny_task) -> None:
    variant = VariantSpec("llm", ComponentSpec("all_positive"), (), ComponentSpec("flip_rule"))
    run = runner.run(tiny_task, variant, seed=0).run
    metrics, exps = run.metrics(), run.explanations()
    flipped = [e for e in exps if e["new_label"] != e["old_label"]]
    assert [e["post_id"] for e in flipped] == ["tn4"] and flipped[0]["reason"]
    assert metrics["explainer"]["flips"] == 1 and metrics["explainer"]["flip_precision"] == 1.0
    before, after = metrics["test_before_explainer"]["scalars"], metrics["test"]["scalars"]
    assert after["accuracy"] > before["accuracy"]
    preds = {r["id"]: r for r in run.predictions() if r["split"] == "test"}
    assert preds["tn4"]["classifier_pred"] == "1" and preds["tn4"]["pred"] == "0"


def test_explainer_cannot_flip_without_a_verdict(runner, tiny_task, store) -> None:
    with pytest.raises(RunError, match="without a parsed False verdict"):
        runner.run(tiny_task, VariantSpec("rogue", ComponentSpec("majority"), (), ComponentSpec("rogue")), 0)
    assert not list(store.runs())


def test_a_crash_records_the_failure_and_leaves_no_partial_run(runner, tiny_task, store) -> None:
    with pytest.raises(RunError, match="MemoryError: simulated out-of-memory"):
        runner.run(tiny_task, VariantSpec("crash", ComponentSpec("crashing")), 0)
    failure = store.failures()[0]
    assert "Traceback" in failure["traceback"] and failure["spec"]["variant"]["name"] == "crash"
    assert not list((store.root / "runs").rglob("*.tmp"))
    assert runner.run(tiny_task, TFIDF, 0).run is not None  # the next run is unaffected


def test_run_files_get_the_permissions_of_plain_files(runner, tiny_task, store) -> None:
    """Atomic writes go through mkstemp/mkdtemp (0600/0700); the finished run must not keep those,
    or results shared with a team or a cluster's workers cannot be read."""
    old = os.umask(0o022)
    try:
        run = runner.run(tiny_task, TFIDF, 0).run
    finally:
        os.umask(old)
    assert stat.S_IMODE(run.path.stat().st_mode) == 0o755
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in run.path.iterdir()}
    assert modes and set(modes.values()) == {0o644}, modes


def test_unwritable_results_folder_is_a_clear_error(runner, tiny_task, store) -> None:
    store.root.parent.mkdir(parents=True, exist_ok=True)
    store.root.write_text("a file where the results folder should be")
    with pytest.raises(AlexbenchError, match=f"cannot write results under {store.root}"):
        runner.run(tiny_task, TFIDF, 0)


def test_plugin_metric_can_be_the_official_metric(tiny_task_file, store) -> None:
    """alexbench_register_metrics: a plugin's metric is reported by every run and can be official."""
    def false_positives(d):
        return float(sum(g != p and p == d.positive for g, p in zip(d.gold, d.pred)))

    plugin = types.SimpleNamespace(alexbench_register_metrics=hookimpl(
        lambda registry: registry.add(Metric("false_positives", false_positives, higher_is_better=False))))
    host = PluginHost(plugins=[("fp-metric", plugin), ("test-plugin", TEST_PLUGIN)])
    tiny_task_file.write_text(tiny_task_file.read_text().replace('official = "f1_positive"', 'official = "false_positives"'))
    task = load_task(tiny_task_file)
    metrics = Runner(host, store, show_progress=False).run(task, VariantSpec("all", ComponentSpec("all_positive")), 0).run.metrics()
    assert metrics["test"]["official"] == {"name": "false_positives", "value": 4.0}  # 4 negatives in test
    assert metrics["test"]["scalars"]["f1_positive"] == pytest.approx(2 * (2 / 6) / (2 / 6 + 1))


def test_component_fingerprint_names_the_run(tiny_task, store, tmp_path) -> None:
    """Content outside the parameters (here a rules file) is part of the run spec via fingerprint()."""
    rules = tmp_path / "rules.txt"
    rules.write_text("vaccine")

    class FileRule(FlipTodayExplainer):
        name = "file_rule"

        def fingerprint(self, task):
            return {"rules_sha256": __import__("hashlib").sha256(rules.read_bytes()).hexdigest()}

    plugin = types.SimpleNamespace(alexbench_register_explainers=hookimpl(lambda registry: registry.add(FileRule)))
    host = PluginHost(plugins=[("test-plugin", TEST_PLUGIN), ("file-rule", plugin)])
    runner = Runner(host, store, show_progress=False)
    variant = VariantSpec("rule", ComponentSpec("all_positive"), (), ComponentSpec("file_rule"))
    first = runner.run(tiny_task, variant, 0)
    assert "rules_sha256" in (first.run.spec().variant.explainer.fingerprint or {})
    assert runner.run(tiny_task, variant, 0).reused
    rules.write_text("vaccine, mask")
    assert runner.run(tiny_task, variant, 0).run_id != first.run_id


def test_force_recomputes_and_replaces_the_run(runner, tiny_task) -> None:
    first = runner.run(tiny_task, TFIDF, 3)
    stamp = (first.run.path / "provenance.json").read_text()
    forced = runner.run(tiny_task, TFIDF, 3, force=True)
    assert not forced.reused and forced.run.path == first.run.path
    assert (forced.run.path / "provenance.json").read_text() != stamp  # new timings, new finish time
    assert not list(first.run.path.parent.glob(".*.tmp"))


def test_the_run_id_covers_what_changes_outputs_and_nothing_else(tiny_task_file, store, tmp_path) -> None:
    """A description, the task file's other text, the data files' line endings: the same run. A
    changed post or component parameter: a new run."""
    import shutil

    runner = Runner(PluginHost(plugins=[("test-plugin", TEST_PLUGIN)]), store, show_progress=False)
    first = runner.run(load_task(tiny_task_file), TFIDF, 1)
    spec = first.run.spec()
    assert spec.data["train"] and spec.task.file_sha256 and (spec.posts or {})["train"]  # kept for provenance
    described = VariantSpec("tfidf", ComponentSpec("tfidf_logreg"), description="now with a description")
    assert runner.run(load_task(tiny_task_file), described, 1).reused

    copy = tmp_path / "copy"
    shutil.copytree(tiny_task_file.parent, copy)
    task_file = copy / tiny_task_file.name
    task_file.write_text(task_file.read_text().replace('title = "Tiny test task"', 'title = "Renamed"\nversion = "9"'))
    train = copy / "data" / "train.tsv"
    train.write_bytes(train.read_bytes().replace(b"\n", b"\r\n"))
    again = Runner(runner.host, store, show_progress=False).run(load_task(task_file), TFIDF, 1)
    assert again.reused and again.run_id == first.run_id

    train.write_bytes(train.read_bytes().replace(b"my pcr came back positive", b"my pcr came back positive!", 1))
    assert Runner(runner.host, store, show_progress=False).run(load_task(task_file), TFIDF, 1).run_id != first.run_id
    other_param = VariantSpec("tfidf", ComponentSpec("tfidf_logreg", {"C": 2.0}))
    assert runner.run(load_task(tiny_task_file), other_param, 1).run_id != first.run_id


class Relabels(GrowPositives):
    """Flips every original post's label (the generated copies are fine)."""

    name = "relabels"

    def augment(self, train, ctx):
        return [p if "source_id" in p.meta else p.replace(label="0") for p in super().augment(train, ctx)]


class WrongCopies(GrowPositives):
    """Gives generated copies the negative label."""

    name = "wrong_copies"

    def augment(self, train, ctx):
        return [p.replace(label="0") if "source_id" in p.meta else p for p in super().augment(train, ctx)]


class WritesTheTestFile(AllPositive):
    """Appends a row to the task's test file while training."""

    name = "writes_test"

    def fit(self, train, dev, ctx):
        with open(ctx.task.split_path("test"), "a", encoding="utf-8") as fh:
            fh.write("tzz\tsneaky\t1\n")
        return {}


MISTAKES = types.SimpleNamespace(
    alexbench_register_augmenters=hookimpl(lambda registry: [registry.add(Relabels), registry.add(WrongCopies)]),
    alexbench_register_classifiers=hookimpl(lambda registry: registry.add(WritesTheTestFile)),
)


@pytest.fixture
def mistakes(store) -> Runner:
    host = PluginHost(plugins=[("test-plugin", TEST_PLUGIN), ("mistakes", MISTAKES)])
    return Runner(host, store, show_progress=False)


def test_labels_are_checked_on_every_run(mistakes, tiny_task) -> None:
    with pytest.raises(RunError, match="augmenter 'relabels' changed the label of train post 'p1' from '1' to '0': "
                                       "an augmenter keeps each given row's label"):
        mistakes.run(tiny_task, VariantSpec("r", ComponentSpec("tfidf_logreg"), (ComponentSpec("relabels"),)), 0)
    with pytest.raises(RunError, match="augmenter 'wrong_copies' gave generated row 'p1#g0' the label '0', but its "
                                       "source post 'p1' is labelled '1'"):
        mistakes.run(tiny_task, VariantSpec("w", ComponentSpec("tfidf_logreg"), (ComponentSpec("wrong_copies"),)), 0)


def test_dev_or_test_text_copied_into_train_is_reported_on_the_console(tiny_task, store) -> None:
    from io import StringIO

    from rich.console import Console

    console = StringIO()
    runner = Runner(PluginHost(plugins=[("test-plugin", TEST_PLUGIN)]), store, show_progress=False,
                    console=Console(file=console, width=400))
    variant = VariantSpec("grow", ComponentSpec("tfidf_logreg"), (ComponentSpec("grow_positives", {"leak": True}),))
    run = runner.run(tiny_task, variant, seed=0).run
    said = console.getvalue()
    assert "warning: tiny/grow/s0: dropped 1 generated train row(s) whose text is a dev or test post's (by " \
           "augmenter 'grow_positives': 1; e.g. leak 'tested positive for covid today today')" in said
    assert run.provenance()["log"][-1].startswith("WARNING: dropped 1 generated train row(s)")


def test_a_data_file_written_during_a_run_fails_it(mistakes, tiny_task, store) -> None:
    test_file = tiny_task.split_path("test")
    with pytest.raises(RunError, match=f"the task's file {test_file} changed on disk during training: it has sha256 "
                                       ".*The classifier 'writes_test' must never write to the task's files"):
        mistakes.run(tiny_task, VariantSpec("w", ComponentSpec("writes_test")), 0)
    assert not list(store.runs())
    # The next run of the same runner read the file before it changed: it refuses to score on it.
    with pytest.raises(RunError, match="changed on disk since it was read, before this run"):
        mistakes.run(tiny_task, TFIDF, 0)


def test_provenance_records_the_environment_the_runner_started_with(host, store, tiny_task, monkeypatch) -> None:
    """A study runs for hours: the code and command recorded with a run are those its runner
    started with, read once, not what the checkout or the process says when the run ends."""
    runner = Runner(host, store, show_progress=False)
    started = runner.environment
    assert started["git"] is None or len(started["git"]["sha"]) == 40
    monkeypatch.setattr("sys.argv", ["changed", "after", "the", "runner", "started"])
    prov = runner.run(tiny_task, TFIDF, seed=3).run.provenance()
    assert prov["environment"] == started and prov["environment"]["argv"] != ["changed", "after", "the", "runner", "started"]


def test_provenance_names_the_plugin_behind_each_component(runner, tiny_task) -> None:
    variant = VariantSpec("p", ComponentSpec("all_positive"), (ComponentSpec("grow_positives"),),
                          ComponentSpec("flip_rule"))
    used = runner.run(tiny_task, variant, 0).run.provenance()["plugins"]
    assert used == [
        {"kind": "augmenter", "name": "grow_positives", "plugin": "test-plugin", "distribution": None, "version": None},
        {"kind": "classifier", "name": "all_positive", "plugin": "test-plugin", "distribution": None, "version": None},
        {"kind": "explainer", "name": "flip_rule", "plugin": "test-plugin", "distribution": None, "version": None},
        {"kind": "metric", "name": "f1_positive", "plugin": "metrics", "distribution": "alexbench",
         "version": __import__("importlib.metadata").metadata.version("alexbench")}]


def test_an_explainer_variant_takes_the_stored_classifier_predictions(runner, tiny_task, tmp_path) -> None:
    """tfidf, then tfidf + a judge: the judged run takes the stored tfidf run's dev and test
    predictions instead of training again, and its outputs equal those of a run that trains."""
    from alexbench.run.store import ResultsStore

    judged = VariantSpec("tfidf+judge", ComponentSpec("tfidf_logreg"), (), ComponentSpec("flip_rule"))
    base = runner.run(tiny_task, TFIDF, seed=5).run
    run = runner.run(tiny_task, judged, seed=5).run
    provenance = run.provenance()
    assert provenance["classifier_from"]["run_id"] == base.metrics()["run_id"]
    assert "fit" not in provenance["timings_s"] and "explain" in provenance["timings_s"]
    assert any("nothing was trained" in line for line in provenance["log"])
    assert run.metrics()["test_before_explainer"] == base.metrics()["test"]

    trained = Runner(runner.host, ResultsStore(tmp_path / "fresh"), show_progress=False,
                     reuse_classifier=False).run(tiny_task, judged, seed=5).run
    assert "classifier_from" not in trained.provenance() and "fit" in trained.provenance()["timings_s"]
    assert trained.path.name == run.path.name  # same run id
    assert trained.predictions() == run.predictions()
    assert trained.metrics() == run.metrics() and trained.explanations() == run.explanations()

    other_seed = runner.run(tiny_task, judged, seed=6).run  # no stored tfidf run for seed 6: trains
    assert "classifier_from" not in other_seed.provenance()
    forced = runner.run(tiny_task, judged, seed=5, force=True).run
    assert "classifier_from" not in forced.provenance()


def test_a_damaged_stored_run_is_not_a_source_of_predictions(runner, tiny_task) -> None:
    """The stored tfidf run lost its predictions: the judged run trains instead, and says why."""
    judged = VariantSpec("tfidf+judge", ComponentSpec("tfidf_logreg"), (), ComponentSpec("flip_rule"))
    base = runner.run(tiny_task, TFIDF, seed=8).run
    (base.path / "predictions.jsonl").write_text("{not json\n")
    run = runner.run(tiny_task, judged, seed=8).run
    provenance = run.provenance()
    assert "classifier_from" not in provenance and "fit" in provenance["timings_s"]
    assert any("not used for its classifier predictions" in line and "predictions.jsonl" in line
               for line in provenance["log"])
