"""`alexbench new-plugin`: the package it writes works as written — installed into a real venv,
its generated tests (the conformance kit) pass unmodified, it is listed and it runs."""

from __future__ import annotations

import importlib
import json
import re
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from alexbench.cli.newplugin import KINDS, PluginNames, new_plugin
from alexbench.interfaces import COMPONENT_KINDS, Context
from alexbench.testing import make_host, write_tiny_task

from .venvs import Venv


def generate(parent: Path, name: str, kind: str) -> Path:
    result = CliRunner().invoke(new_plugin, [name, "--kind", kind, "--dir", str(parent)])
    assert result.exit_code == 0, result.output
    return parent / PluginNames.derive(name, kind).distribution


@pytest.mark.parametrize("kind", KINDS)
def test_generated_package_is_complete_and_its_module_registers(kind: str, tmp_path: Path, monkeypatch) -> None:
    root = generate(tmp_path, f"gen-{kind}", kind)
    component, module_name = f"gen_{kind}", f"alexbench_gen_{kind}"
    assert root.name == f"alexbench-gen-{kind}"
    meta = tomllib.loads((root / "pyproject.toml").read_text())
    assert meta["project"]["name"] == root.name and "alexbench>=0.1" in meta["project"]["dependencies"]
    assert meta["project"]["entry-points"]["alexbench"] == {component: module_name}
    assert meta["tool"]["setuptools"]["dynamic"]["version"] == {"attr": f"{module_name}.__version__"}
    test_text = (root / "tests" / f"test_{component}.py").read_text()
    assert f"from alexbench.testing import {kind.capitalize()}Contract" in test_text
    assert f'component = "{component}"' in test_text
    readme = (root / "README.md").read_text()
    assert f"alexbench-gen-{kind}" in readme and "python -m pytest" in readme
    for path in root.rglob("*"):
        if path.is_file():
            assert not re.search(r"__[A-Z]+__", path.read_text()), f"unreplaced placeholder in {path}"

    # The module works when registered in-process (the venv test below installs it for real).
    monkeypatch.syspath_prepend(str(root / "src"))
    monkeypatch.delitem(sys.modules, module_name, raising=False)
    module = importlib.import_module(module_name)
    try:
        host = make_host((component, module), load_entrypoints=False)
        cls = host.component_class(kind, component)
        assert issubclass(cls, COMPONENT_KINDS[kind]) and cls.version == module.__version__ == "0.1.0"
        assert host.build(kind, component).describe()["params"] == cls.param_defaults()
    finally:
        sys.modules.pop(module_name, None)


def test_bad_names_and_existing_folders_are_refused(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(new_plugin, ["Bad Name", "--kind", "classifier", "--dir", str(tmp_path)])
    assert bad.exit_code == 2 and "must be lower-case letters and digits" in bad.output
    assert not list(tmp_path.iterdir())
    generate(tmp_path, "twice", "classifier")
    again = runner.invoke(new_plugin, ["twice", "--kind", "augmenter", "--dir", str(tmp_path)])
    assert again.exit_code == 2 and "alexbench-twice already exists" in again.output
    kind = runner.invoke(new_plugin, ["x", "--kind", "metric", "--dir", str(tmp_path)])
    assert kind.exit_code == 2 and "'metric' is not one of" in kind.output


def test_a_name_already_registered_is_warned_about(tmp_path: Path) -> None:
    result = CliRunner().invoke(new_plugin, ["majority", "--kind", "classifier", "--dir", str(tmp_path)])
    assert result.exit_code == 0
    assert "a classifier named 'majority' is already registered by plugin 'baselines'" in result.stderr


def test_generated_explainer_backs_off_on_a_three_class_task(tmp_path: Path, monkeypatch) -> None:
    """The template's fallback label is the first non-positive label, also without a positive."""
    from alexbench.config.tasks import load_task
    from alexbench.interfaces import Post, Prediction

    root = generate(tmp_path, "backoff", "explainer")
    monkeypatch.syspath_prepend(str(root / "src"))
    module = importlib.import_module("alexbench_backoff")
    try:
        task = load_task(write_tiny_task(tmp_path / "tasks", "multiclass"))
        exp = make_host(("backoff", module), load_entrypoints=False).build("explainer", "backoff", {"cues": "never"})
        out = exp.explain([Post("a", "never had covid", None), Post("b", "my covid", None)],
                          Prediction(["self", "self"], [[0, 1, 0], [0, 1, 0]]), Context(task=task, seed=0))
        assert [(e.new_label, e.verdict) for e in out] == [("none", False), ("self", True)]
    finally:
        sys.modules.pop("alexbench_backoff", None)


@pytest.mark.slow
def test_generated_plugins_install_pass_the_kit_unmodified_and_run(tmp_path: Path) -> None:
    """The issue's 'done when': generate one plugin of each kind, install them into a venv, run
    their own generated tests there, list them, and run all three in one `alexbench run`."""
    packages = {kind: generate(tmp_path / "src", f"made_{kind}", kind) for kind in KINDS}
    venv = Venv(tmp_path / "venv")
    venv.install(*packages.values())
    for root in packages.values():
        result = venv.run("-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=root)
        assert result.returncode == 0, result.stdout + result.stderr
        summary = result.stdout.strip().splitlines()[-1]
        assert " passed" in summary and "failed" not in summary and "skipped" not in summary, summary
        assert "alexbench.testing" not in result.stdout  # the kit ran as the installed pytest plugin, no errors

    listing = venv.alexbench("plugins", "--json", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    data = json.loads(listing.stdout)
    entries = {e["name"]: e for e in data["entries"]}
    for kind in KINDS:
        entry = entries[f"made_{kind}"]
        assert (entry["kind"], entry["plugin"], entry["distribution"], entry["version"]) == \
            (kind, f"made_{kind}", f"alexbench-made-{kind}", "0.1.0")
        assert entry["params"] and entry["description"]
    assert data["broken"] == []

    task_file = write_tiny_task(tmp_path / "tasks", "binary")
    run = venv.alexbench("--results", str(tmp_path / "results"), "run", "-t", str(task_file),
                         "--augmenter", "made_augmenter", "--classifier", "made_classifier",
                         "--explainer", "made_explainer", "--no-progress", "--out", str(tmp_path / "lb"), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    run_dir = next((tmp_path / "results" / "runs" / "kit_binary").glob("*/s0-*"))
    spec = json.loads((run_dir / "run_spec.json").read_text())["variant"]
    assert [a["name"] for a in spec["augmenters"]] == ["made_augmenter"]
    assert (spec["classifier"]["name"], spec["explainer"]["name"]) == ("made_classifier", "made_explainer")
    assert spec["classifier"]["params"] == {"top_k": 20, "min_count": 2, "confidence": 0.8}
    prov = json.loads((run_dir / "provenance.json").read_text())
    assert prov["augmentation"]["generated"] > 0
    explanations = (run_dir / "explanations.jsonl").read_text().splitlines()
    assert len(explanations) == sum(1 for _ in open(task_file.parent / "data" / "test.tsv")) - 1
