"""RunSpec: the typed run spec reads every stored run_spec.json back exactly, and leaves run ids as they were."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from alexbench.config.tasks import TaskCatalog, load_task
from alexbench.config.variants import VariantCatalog
from alexbench.plugin.host import PluginHost
from alexbench.run import runid
from alexbench.run.runner import Runner
from alexbench.run.runspec import RecordedComponent, RecordedTask, RecordedVariant, RunSpec, RunSpecError
from alexbench.run.store import DamagedRunError, ResultsStore

from .conftest import REPO
from .leaderboard_runs import PLUGIN, VARIANTS

#: Real run specs (run_spec.json) from stored results, by their folder under the results root;
#: written before RunSpec existed. The folder name ends with the run id.
STORED = json.loads((Path(__file__).parent / "stored_run_specs.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("folder", sorted(STORED))
def test_stored_specs_round_trip_with_the_same_run_id(folder: str) -> None:
    raw = STORED[folder]
    spec = RunSpec.from_dict(raw, folder)
    assert spec.to_dict() == raw
    assert spec.run_id == runid.run_id(raw) == folder.rsplit("-", 1)[1]
    assert spec.definition() == runid.definition(raw) and spec.classifier_side() == runid.classifier_side(raw)


def test_specs_written_by_the_runner_round_trip_with_the_same_run_id(tmp_path: Path) -> None:
    """The demo's baselines (from the task catalogue) and cheap variants with an augmenter and an
    explainer, run by the real runner: what is on disk reads back as the spec the id was made of."""
    host = PluginHost(plugins=[("leaderboard-test-plugin", PLUGIN)])
    demo = load_task(REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml")
    catalog = VariantCatalog(TaskCatalog(host.task_dirs()).variant_files)
    variants = [catalog.get(name) for name in ("majority", "tfidf", "tfidf-balanced")]
    variants += [v for v in VARIANTS if v.augmenters or v.explainer]
    runner = Runner(host, ResultsStore(tmp_path / "results"), show_progress=False)
    for variant in variants:
        outcome = runner.run(demo, variant, 1)
        assert outcome.run is not None
        raw = json.loads((outcome.run.path / "run_spec.json").read_text(encoding="utf-8"))
        spec = outcome.run.spec()
        assert spec == RunSpec.from_dict(raw) and spec.to_dict() == raw
        assert spec.run_id == runid.run_id(raw) == outcome.run_id == outcome.run.run_id
        assert spec.variant.description == variant.description
        built = runner.run_spec(demo, variant, 1, runner.dataset(demo), runner.build(variant))
        assert built == spec and json.loads(json.dumps(built.to_dict())) == raw


def test_the_description_is_provenance_only() -> None:
    raw = STORED[sorted(STORED)[0]]
    spec = RunSpec.from_dict(raw)
    edited = dataclasses.replace(spec, variant=dataclasses.replace(spec.variant, description="a new text"))
    assert edited.to_dict()["variant"]["description"] == "a new text"
    assert edited.run_id == spec.run_id
    reseeded = dataclasses.replace(spec, seed=spec.seed + 1)
    assert reseeded.run_id != spec.run_id and reseeded.definition() == spec.definition()


def test_provenance_only_fields_name_fields_of_the_spec() -> None:
    """runid's list of provenance-only fields stays in step with RunSpec: a renamed field would
    otherwise silently enter the run id."""
    sections = {"": RunSpec, "task": RecordedTask, "variant": RecordedVariant}
    for section, keys in runid.PROVENANCE_ONLY.items():
        assert set(keys) <= {f.name for f in dataclasses.fields(sections[section])}, section
    assert set(runid.CLASSIFIER_SIDE) <= {f.name for f in dataclasses.fields(RunSpec)}


def test_older_schemas_round_trip() -> None:
    raw = json.loads(json.dumps(STORED[sorted(STORED)[0]]))
    del raw["posts"]
    raw["schema"] = 2
    assert RunSpec.from_dict(raw).to_dict() == raw and RunSpec.from_dict(raw).posts is None
    for key in ("labels", "positive", "metric_params"):
        del raw["task"][key]
    raw["schema"] = 1
    spec = RunSpec.from_dict(raw)
    assert spec.to_dict() == raw and spec.task.labels is None


def test_a_spec_is_frozen_and_hands_out_copies() -> None:
    spec = RunSpec.from_dict(STORED[sorted(STORED)[0]])
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.seed = 3  # type: ignore[misc]
    spec.to_dict()["variant"]["classifier"]["params"]["x"] = 1
    spec.to_dict()["data"]["train"] = "edited"
    assert spec.to_dict() == STORED[sorted(STORED)[0]]


def test_plugin_keys_in_describe_are_kept() -> None:
    described = {"kind": "classifier", "name": "c", "version": "1", "params": {}, "model_card": "x"}
    component = RecordedComponent.from_described(described, {"rules_sha256": "ab"})
    assert component.extra == {"model_card": "x"}
    assert component.to_dict() == {**described, "fingerprint": {"rules_sha256": "ab"}}
    assert RecordedComponent.from_described(described).fingerprint is None


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.update(seed="1"), r"run_spec\.json: seed: expected int, got '1'"),
    (lambda d: d.update(seed=True), r"seed: expected int, got True"),
    (lambda d: d["variant"].pop("classifier"), r"run_spec\.json: variant\.classifier: is missing"),
    (lambda d: d["variant"]["augmenters"].append({"kind": "augmenter"}), r"variant\.augmenters\[\d\]\.name: is missing"),
    (lambda d: d["task"].update(labels=["0", 1]), r"task\.labels: expected a list of strings"),
    (lambda d: d.update(colour="blue"), r"colour: unknown field .* newer alexbench"),
    (lambda d: d.update(task=[]), r"task: expected dict, got \[\]"),
])
def test_a_malformed_stored_spec_names_the_file_and_the_field(tmp_path: Path, edit, message) -> None:
    raw = json.loads(json.dumps(STORED["runs/demo/minilm_aug/s2-c13d4c9e60261a04"]))
    edit(raw)
    with pytest.raises(RunSpecError, match=message):
        RunSpec.from_dict(raw, tmp_path / "run_spec.json")
    run_dir = tmp_path / "results" / "runs" / "demo" / "v" / "s1-0123456789abcdef"
    run_dir.mkdir(parents=True)
    (run_dir / "run_spec.json").write_text(json.dumps(raw), encoding="utf-8")
    (run_dir / "metrics.json").touch()
    with pytest.raises(DamagedRunError, match=f"^{re.escape(str(run_dir / 'run_spec.json'))}: .*delete the folder"):
        ResultsStore(tmp_path / "results").get(str(run_dir)).spec()
    with pytest.raises(RunSpecError, match=r"^run spec: expected a JSON object"):
        RunSpec.from_dict([])
