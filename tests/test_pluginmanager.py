"""The plugin host: discovery through entry points, validation, isolation, switches, look-ups."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from alexbench import hookimpl
from alexbench.errors import PluginError, UnknownNameError
from alexbench.interfaces import Classifier, Prediction
from alexbench.pluginmanager import PluginHost

from .conftest import REPO


def test_builtins_come_through_entry_points() -> None:
    host = PluginHost(disabled=[])
    plugins = {p.name: p for p in host.plugins()}
    for name in ("metrics", "baselines", "tasks"):
        assert plugins[name].distribution == "alexbench"
    assert {"majority", "tfidf_logreg"} <= set(host.classifiers.names())
    assert host.classifiers.entry("majority").plugin == "baselines"
    assert not host.broken


def test_lazy_entries_import_only_on_use() -> None:
    code = ("import sys; from alexbench.pluginmanager import PluginHost; h = PluginHost();"
            "assert 'tfidf_logreg' in h.classifiers; assert 'sklearn' not in sys.modules, 'eager';"
            "h.component_class('classifier', 'tfidf_logreg'); assert 'sklearn' in sys.modules; print('ok')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.stdout.strip() == "ok", result.stderr


def test_disable_switch_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("ALEXBENCH_DISABLE_PLUGINS", "baselines, tasks")
    host = PluginHost()
    assert "majority" not in host.classifiers and host.task_dirs() == []
    names = {p.name for p in host.plugins()}
    assert "metrics" in names and not names & {"baselines", "tasks"}


def test_trace_switch_writes_hook_calls(monkeypatch, capsys) -> None:
    monkeypatch.setenv("ALEXBENCH_TRACE_PLUGINS", "1")
    PluginHost().classifiers  # noqa: B018 - building the registry calls the hooks
    assert "alexbench_register_classifiers -> plugin baselines" in capsys.readouterr().err


def test_did_you_mean_on_typos() -> None:
    host = PluginHost()
    with pytest.raises(UnknownNameError, match="Did you mean 'tfidf_logreg'"):
        host.build("classifier", "tfidf_logrg")
    with pytest.raises(Exception, match="Did you mean 'class_weight'"):
        host.build("classifier", "tfidf_logreg", {"class_weights": "balanced"})
    with pytest.raises(Exception, match="expects a number"):
        host.build("classifier", "tfidf_logreg", {"C": "big"})


class KeywordClassifier(Classifier):
    """Predicts '1' when a keyword occurs (an in-process third-party plugin for tests)."""

    name = "keyword"
    version = "9.9"

    def fit(self, train, dev, ctx):
        return {}

    def predict(self, posts, ctx):
        labels = ["1" if "positive" in p.text else "0" for p in posts]
        return Prediction(labels, [[0.0, 1.0] if lab == "1" else [1.0, 0.0] for lab in labels])


def test_inline_plugin_registers_and_runs(tiny_task, store) -> None:
    from alexbench.runner import Runner
    from alexbench.spec import ComponentSpec, VariantSpec

    plugin = types.SimpleNamespace(alexbench_register_classifiers=hookimpl(lambda registry: registry.add(KeywordClassifier)))
    host = PluginHost(plugins=[("keyword-plugin", plugin)])
    assert host.classifiers.entry("keyword").plugin == "keyword-plugin"
    outcome = Runner(host, store, show_progress=False).run(tiny_task, VariantSpec("kw", ComponentSpec("keyword")), 0)
    spec = outcome.run.spec()
    assert spec["variant"]["classifier"] == {"kind": "classifier", "name": "keyword", "version": "9.9", "params": {}}
    assert outcome.run.metrics()["test"]["n"] == 6


def test_invalid_plugins_are_named() -> None:
    misspelt = types.SimpleNamespace(alexbench_register_clasifiers=hookimpl(lambda registry: None))
    with pytest.raises(PluginError, match=r"plugin 'typo' implements unknown hook 'alexbench_register_clasifiers'"):
        PluginHost(plugins=[("typo", misspelt)])
    bad_args = types.SimpleNamespace(alexbench_register_classifiers=hookimpl(lambda registry, extra: None))
    with pytest.raises(PluginError, match=r"(?s)plugin 'badsig' is invalid: .*alexbench_register_classifiers.*extra"):
        PluginHost(plugins=[("badsig", bad_args)])


def test_raising_registrar_is_isolated() -> None:
    def explode(registry):
        registry.add(KeywordClassifier)
        raise RuntimeError("boom")

    host = PluginHost(plugins=[("explodes", types.SimpleNamespace(alexbench_register_classifiers=hookimpl(explode)))])
    assert "keyword" not in host.classifiers and "majority" in host.classifiers
    assert [(b.name, "boom" in b.error) for b in host.broken] == [("explodes", True)]


def test_duplicate_names_and_non_components_are_rejected() -> None:
    class Impostor(KeywordClassifier):
        name = "majority"

    dup = types.SimpleNamespace(alexbench_register_classifiers=hookimpl(lambda registry: registry.add(Impostor)))
    host = PluginHost(plugins=[("dup", dup)])
    assert "registered twice: by plugin baselines and by plugin dup" in host.broken[0].error
    wrong = types.SimpleNamespace(alexbench_register_classifiers=hookimpl(lambda registry: registry.add(dict, name="d")))
    assert "is not a subclass of alexbench.interfaces.Classifier" in PluginHost(plugins=[("w", wrong)]).broken[0].error


PLUGIN_PYPROJECT = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"
[project]
name = "alexbench-throwaway"
version = "0.0.1"
[project.entry-points.alexbench]
throwaway = "alexbench_throwaway"
broken = "alexbench_throwaway_broken"
[tool.setuptools]
py-modules = ["alexbench_throwaway", "alexbench_throwaway_broken"]
"""

PLUGIN_MODULE = '''
from alexbench import hookimpl
from alexbench.interfaces import Classifier, Prediction

class Always(Classifier):
    """Always predicts the task's positive label."""
    name = "always_positive"
    version = "0.0.1"
    def fit(self, train, dev, ctx):
        return {"seen": len(train)}
    def predict(self, posts, ctx):
        pos = ctx.task.positive
        probs = [1.0 if label == pos else 0.0 for label in ctx.task.labels]
        return Prediction([pos] * len(posts), [probs for _ in posts])

@hookimpl
def alexbench_register_classifiers(registry):
    registry.add(Always)
'''


@pytest.mark.slow
def test_third_party_package_in_a_venv(tmp_path: Path, tiny_task_file: Path) -> None:
    """A separate package installed into a real venv is discovered, listed and run; a broken one
    (import error) is reported by name and does not break the CLI."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "pyproject.toml").write_text(PLUGIN_PYPROJECT)
    (pkg / "alexbench_throwaway.py").write_text(PLUGIN_MODULE)
    (pkg / "alexbench_throwaway_broken.py").write_text("import no_such_module_anywhere\n")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", str(pkg)]
    subprocess.run(pip, check=True, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    cli = [str(venv / "bin" / "python"), "-m", "alexbench.cli"]
    listing = subprocess.run([*cli, "plugins", "--json"], capture_output=True, text=True, check=True, cwd=tmp_path)
    data = json.loads(listing.stdout)
    entry = next(e for e in data["entries"] if e["name"] == "always_positive")
    assert (entry["plugin"], entry["distribution"], entry["version"]) == ("throwaway", "alexbench-throwaway", "0.0.1")
    assert data["broken"][0]["name"] == "broken" and "no_such_module_anywhere" in data["broken"][0]["error"]
    assert "plugin 'broken'" in listing.stderr
    run = subprocess.run([*cli, "--results", str(tmp_path / "r"), "run", "--task", str(tiny_task_file),
                          "--classifier", "always_positive", "--no-progress", "--out", str(tmp_path / "lb")],
                         capture_output=True, text=True, cwd=tmp_path, check=False)
    assert run.returncode == 0, run.stderr
    board = json.loads((tmp_path / "lb" / "tiny.json").read_text())
    row = board["rows"][0]
    assert row["variant"] == "always_positive"
    assert row["test_per_class_f1"]["0"]["mean"] == 0.0 and row["test_per_class_f1"]["1"]["mean"] == pytest.approx(0.5)


def test_every_hook_is_documented_and_tested() -> None:
    """datasette-style meta-test: each hook spec appears in docs/hooks.md with its signature
    and is named in at least one test module other than this one."""
    import inspect

    from alexbench import hookspecs

    docs = (REPO / "docs" / "hooks.md").read_text()
    tests = "".join(p.read_text() for p in (REPO / "tests").rglob("test_*.py") if p.name != Path(__file__).name)
    names = PluginHost.hook_names()
    assert len(names) >= 5
    for name in names:
        params = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
        assert f"{name}({params})" in docs, f"{name} is not documented in docs/hooks.md"
        assert name in tests, f"no test exercises {name}"
