"""The example external plugin (plugins/example-keyword-plugin): exactly what ``alexbench
new-plugin keyword_rules --kind classifier`` writes (one source: the template), not part of the
main install, discovered, listed and run once installed; a plugin with a bad hook signature next
to it is reported by name and breaks nothing."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from alexbench.cli.newplugin import PluginNames, plugin_files
from alexbench.plugin.host import GROUP
from alexbench.testing import write_tiny_task

from .conftest import REPO
from .venvs import Venv

EXAMPLE = REPO / "plugins" / "example-keyword-plugin"
#: The command whose output the example is, byte for byte.
GENERATED_BY = ("keyword_rules", "classifier")

BAD_SIGNATURE_PYPROJECT = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"
[project]
name = "alexbench-badsig"
version = "0.0.1"
[project.entry-points.alexbench]
badsig = "alexbench_badsig"
[tool.setuptools]
py-modules = ["alexbench_badsig"]
"""

BAD_SIGNATURE_MODULE = '''
from alexbench import hookimpl

@hookimpl
def alexbench_register_classifiers(registry, options):  # 'options' is not in the hook spec
    pass
'''


def test_example_is_the_new_plugin_template_byte_for_byte() -> None:
    """The starter plugin has one source, the template: the example cannot drift from it."""
    expected = plugin_files(PluginNames.derive(*GENERATED_BY))
    actual = {path.relative_to(EXAMPLE).as_posix(): path.read_text(encoding="utf-8") for path in EXAMPLE.rglob("*")
              if path.is_file() and not {"__pycache__", ".pytest_cache", "build"} & set(path.parts)
              and ".egg-info" not in path.as_posix()}
    regenerate = (f"regenerate it: rm -r {EXAMPLE.relative_to(REPO)} && alexbench new-plugin {GENERATED_BY[0]} "
                  f"--kind {GENERATED_BY[1]} --dir /tmp/x && mv /tmp/x/alexbench-keyword-rules "
                  f"{EXAMPLE.relative_to(REPO)}")
    assert sorted(actual) == sorted(expected), regenerate
    for path, text in expected.items():
        assert actual[path] == text, f"{path} differs from the new-plugin template; {regenerate}"


def test_example_is_not_installed_with_the_main_project() -> None:
    """Its package lives under src/, outside `[tool.setuptools.packages.find] where = [".", "plugins"]`."""
    from setuptools import find_namespace_packages

    assert (EXAMPLE / "src" / "alexbench_keyword_rules" / "__init__.py").is_file()
    found = find_namespace_packages(str(REPO / "plugins"), include=["alexbench*"])
    assert "alexbench_baselines" in found and not any(p.startswith("alexbench_keyword") for p in found)
    assert importlib.util.find_spec("alexbench_keyword_rules") is None
    assert "keyword_rules" not in {ep.name for ep in importlib.metadata.entry_points(group=GROUP)}


@pytest.mark.slow
def test_example_plugin_is_discovered_listed_and_run_next_to_a_broken_one(tmp_path: Path) -> None:
    bad = tmp_path / "badsig"
    bad.mkdir()
    (bad / "pyproject.toml").write_text(BAD_SIGNATURE_PYPROJECT)
    (bad / "alexbench_badsig.py").write_text(BAD_SIGNATURE_MODULE)
    # A copy: building in place would leave build/ and *.egg-info in the repository.
    example = shutil.copytree(EXAMPLE, tmp_path / "example", ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__", ".pytest_cache"))
    venv = Venv(tmp_path / "venv")
    venv.install(example, bad)

    # Its own tests (the conformance kit) pass where it is installed.
    own = venv.run("-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=example)
    assert own.returncode == 0, own.stdout + own.stderr

    listing = venv.alexbench("plugins", "--json", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    data = json.loads(listing.stdout)
    entries = {e["name"]: e for e in data["entries"]}
    rules = entries["keyword_rules"]
    assert (rules["kind"], rules["plugin"], rules["distribution"], rules["version"]) == (
        "classifier", "keyword_rules", "alexbench-keyword-rules", "0.1.0")
    assert rules["params"]["top_k"] == 20
    assert [b["name"] for b in data["broken"]] == ["badsig"]
    assert "options" in data["broken"][0]["error"] and data["broken"][0]["distribution"] == "alexbench-badsig"
    assert "badsig" not in {p["name"] for p in data["plugins"]}

    table = venv.alexbench("plugins", cwd=tmp_path)
    assert table.returncode == 0 and "keyword_rules" in table.stdout
    assert "broken plugin badsig (alexbench-badsig)" in " ".join((table.stdout + table.stderr).split())

    task_file = write_tiny_task(tmp_path / "tasks", "binary")
    run = venv.alexbench("--results", str(tmp_path / "results"), "run", "-t", str(task_file),
                         "--classifier", "keyword_rules", "--no-progress",
                         "--out", str(tmp_path / "lb"), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    run_dir = next((tmp_path / "results" / "runs" / "kit_binary").glob("*/s0-*"))
    spec = json.loads((run_dir / "run_spec.json").read_text())["variant"]
    assert spec["classifier"] == {"kind": "classifier", "name": "keyword_rules", "version": "0.1.0",
                                  "params": {"top_k": 20, "min_count": 2, "confidence": 0.8}}
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["test"]["n"] == len((task_file.parent / "data" / "test.tsv").read_text().splitlines()) - 1


def test_plugins_json_shape() -> None:
    """`alexbench plugins --json` is for tools: its keys are a contract too."""
    from click.testing import CliRunner

    from alexbench.cli.main import cli

    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"entries", "broken", "plugins"} and data["broken"] == []
    kinds = {e["kind"] for e in data["entries"]}
    assert kinds == {"augmenter", "classifier", "explainer", "metric", "renderer"}
    for entry in data["entries"]:
        common = {"kind", "name", "plugin", "distribution", "description"}
        if entry["kind"] == "renderer":  # a format: the file it writes per board, or its one page
            assert set(entry) == common | {"version", "suffix", "page"}, entry
            continue
        assert set(entry) == (common | {"multi_label", "higher_is_better"} if entry["kind"] == "metric"
                              else common | {"version", "params", "multi_label"}), entry
        if entry["kind"] != "metric":
            assert isinstance(entry["version"], str) and isinstance(entry["params"], dict)
        assert entry["multi_label"] in (True, False, None)  # None: registered lazily without saying
    entries = {(e["kind"], e["name"]): e for e in data["entries"]}
    assert entries["classifier", "tfidf_logreg"]["multi_label"] is True  # declared in add_lazy: not imported
    assert entries["classifier", "majority"]["multi_label"] is True
    assert entries["metric", "hamming_loss"]["multi_label"] is True
    assert entries["metric", "hamming_loss"]["higher_is_better"] is False
    assert entries["metric", "f1_positive"] == {**entries["metric", "f1_positive"], "multi_label": False,
                                                "higher_is_better": True}
    plugins = {p["name"]: p for p in data["plugins"]}
    assert plugins["baselines"] == {"name": "baselines", "distribution": "alexbench",
                                    "version": importlib.metadata.version("alexbench"), "module": "alexbench_baselines"}
    assert all(e["plugin"] in plugins for e in data["entries"])
    assert entries["renderer", "markdown"]["suffix"] == ".md" and entries["renderer", "html"]["page"] == "index.html"
