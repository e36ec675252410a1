"""One test per hook, named for it (``test_<hook name>``): a real plugin implementing the hook,
registered through the real :class:`PluginHost`, and the hook's effect where the host uses it."""

from __future__ import annotations

import ast
import subprocess
import sys
import types

import click
import pytest
from click.testing import CliRunner

from alexbench import hookimpl
from alexbench.cli.plugin_commands import add_plugin_commands
from alexbench.config.tasks import TaskCatalog, load_task
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.errors import PluginError
from alexbench.interfaces import Augmenter, Classifier, Explainer, Explanation, Prediction, Renderer
from alexbench.plugin.host import PluginHost
from alexbench.run.runner import Runner
from alexbench.safetext import terminal
from alexbench.scoring.metrics import Metric

from .conftest import REPO, make_tiny_task

MAJORITY = ComponentSpec("majority")


def plugin(**hooks) -> types.SimpleNamespace:
    """A plugin object implementing ``hooks`` (hook name → function)."""
    return types.SimpleNamespace(**{name: hookimpl(function) for name, function in hooks.items()})


def explode(*_args, **_kwargs) -> None:
    raise RuntimeError("boom")


class Shout(Augmenter):
    """One upper-case copy of each positive train post."""

    name = "shout"
    version = "1.0"

    def augment(self, train, ctx):
        return [*train, *(p.replace(id=f"{p.id}#shout", text=p.text.upper(), meta={"source_id": p.id, "augmenter": self.name})
                          for p in train if p.label == ctx.task.positive)]


def test_alexbench_register_augmenters(tiny_task, store) -> None:
    """A plugin's augmenter is built by name in a run, grows the train split as it says, and is
    recorded with its plugin; a registrar that raises is left out, the others stay."""
    host = PluginHost(plugins=[("shout-plugin", plugin(alexbench_register_augmenters=lambda registry: registry.add(Shout))),
                               ("explodes", plugin(alexbench_register_augmenters=explode))])
    assert host.augmenters.entry("shout").plugin == "shout-plugin" and "resample" in host.augmenters
    assert [(b.name, "boom" in b.error) for b in host.broken] == [("explodes", True)]
    run = Runner(host, store, show_progress=False).run(tiny_task, VariantSpec("shouted", MAJORITY, (ComponentSpec("shout"),)), 0).run
    augmentation = run.provenance()["augmentation"]
    assert augmentation["after"] == {"0": augmentation["before"]["0"], "1": 2 * augmentation["before"]["1"]}
    assert run.spec().variant.augmenters[0].name == "shout"
    assert {"kind": "augmenter", "name": "shout", "plugin": "shout-plugin"}.items() <= run.provenance()["plugins"][0].items()


class SaysCovid(Classifier):
    """Predicts '1' for posts that mention covid."""

    name = "says_covid"
    version = "2.0"

    def fit(self, train, dev, ctx):
        return {"train_posts": len(train)}

    def predict(self, posts, ctx):
        labels = ["1" if "covid" in p.text.lower() else "0" for p in posts]
        return Prediction(labels, [[0.0, 1.0] if label == "1" else [1.0, 0.0] for label in labels])


def test_alexbench_register_classifiers(tiny_task, store) -> None:
    """A plugin's classifier is trained and used by a run: its fit report and its predictions are
    stored, and the run names its plugin."""
    host = PluginHost(plugins=[("covid-plugin", plugin(alexbench_register_classifiers=lambda registry: registry.add(SaysCovid)))])
    assert host.classifiers.entry("says_covid").plugin == "covid-plugin" and "majority" in host.classifiers
    run = Runner(host, store, show_progress=False).run(tiny_task, VariantSpec("covid", ComponentSpec("says_covid")), 0).run
    train_rows = tiny_task.split_path("train").read_text().splitlines()[1:]
    assert run.provenance()["fit"] == {"train_posts": len(train_rows)}
    predictions = {r["id"]: r for r in run.predictions()}
    test_rows = [line.split("\t") for line in tiny_task.split_path("test").read_text().splitlines()[1:]]
    assert [predictions[post_id]["pred"] for post_id, _, _ in test_rows] == \
        ["1" if "covid" in text.lower() else "0" for _, text, _ in test_rows]
    assert run.spec().variant.classifier.version == "2.0"


class CovidVeto(Explainer):
    """Says a negative prediction does not hold when the post mentions covid."""

    name = "covid_veto"
    version = "1.0"

    def explain(self, posts, prediction, ctx):
        return [Explanation(p.id, label, "1", "ok", False, "mentions covid") if "covid" in p.text and label == "0"
                else Explanation(p.id, label, label, "ok", True, "holds") for p, label in zip(posts, prediction.labels)]


class Relabels(CovidVeto):
    name = "relabels"

    def explain(self, posts, prediction, ctx):
        return [Explanation(p.id, label, "1", "ok", True) for p, label in zip(posts, prediction.labels)]


def test_alexbench_register_explainers(tiny_task, store) -> None:
    """A plugin's explainer checks the classifier's labels in a run and may change them with a
    parsed False verdict; one that changes a label without it fails the run."""
    host = PluginHost(plugins=[("veto-plugin", plugin(
        alexbench_register_explainers=lambda registry: [registry.add(CovidVeto), registry.add(Relabels)]))])
    assert host.explainers.entry("covid_veto").plugin == "veto-plugin"
    runner = Runner(host, store, show_progress=False)
    run = runner.run(tiny_task, VariantSpec("vetoed", MAJORITY, (), ComponentSpec("covid_veto")), 0).run
    test_rows = [r for r in run.predictions() if r["split"] == "test"]
    assert {r["classifier_pred"] for r in test_rows} == {"0"}
    texts = {line.split("\t")[0]: line.split("\t")[1] for line in tiny_task.split_path("test").read_text().splitlines()[1:]}
    assert [r["pred"] for r in test_rows] == ["1" if "covid" in texts[r["id"]] else "0" for r in test_rows]
    assert "1" in [r["pred"] for r in test_rows]
    with pytest.raises(Exception, match="changed the label of .* without a parsed False verdict"):
        runner.run(tiny_task, VariantSpec("relabelled", MAJORITY, (), ComponentSpec("relabels")), 0)


def test_alexbench_register_metrics(tiny_task_file, store) -> None:
    """A plugin's metric is reported by every run, can be a task's official metric and gets the
    task's metric params; registering a non-metric leaves the plugin out."""
    def predicted(d):
        return float(sum(p == d.params.get("label", d.positive) for p in d.pred))

    host = PluginHost(plugins=[("count-plugin", plugin(alexbench_register_metrics=lambda registry: registry.add(
                                   Metric("predicted", predicted)))),
                               ("not-a-metric", plugin(alexbench_register_metrics=lambda registry: registry.add(len, name="len")))])
    assert host.metrics.entry("predicted").plugin == "count-plugin" and "f1_positive" in host.metrics
    assert "'len'" in next(b.error for b in host.broken if b.name == "not-a-metric") and "len" not in host.metrics
    runner = Runner(host, store, show_progress=False)
    task = load_task(tiny_task_file)
    metrics = runner.run(task, VariantSpec("majority", MAJORITY), 0).run.metrics()
    assert metrics["test"]["scalars"]["predicted"] == 0.0  # majority predicts "0": no positive predictions
    tiny_task_file.write_text(tiny_task_file.read_text().replace('official = "f1_positive"',
                                                                 'official = "predicted"\nparams = {label = "0"}'))
    metrics = runner.run(load_task(tiny_task_file), VariantSpec("majority", MAJORITY), 0).run.metrics()
    assert metrics["test"]["official"] == {"name": "predicted", "value": float(metrics["test"]["n"])}


class Words(Renderer):
    """Each row as a sentence."""

    name = "words"
    version = "1.0"
    suffix = ".txt"

    def render(self, board):
        return "".join(f"{terminal(r.variant)} scores {r.test_official.mean:.2f}.\n" for r in board.rows)


def test_alexbench_register_renderers(tiny_task, store, tmp_path, capsys) -> None:
    """A plugin's format is printed by name (as ``--format words``) and its files are written with
    the built-in ones (as ``--out``); a registrar that raises is left out, the others stay."""
    from alexbench.cli.boards import print_boards, write_boards
    from alexbench.report import leaderboard as lb
    from alexbench.report.renderers import file_renderers

    host = PluginHost(plugins=[("words-plugin", plugin(alexbench_register_renderers=lambda registry: registry.add(Words))),
                               ("explodes", plugin(alexbench_register_renderers=explode))])
    assert host.renderers.entry("words").plugin == "words-plugin" and "markdown" in host.renderers
    assert [(b.name, "boom" in b.error) for b in host.broken] == [("explodes", True)]
    Runner(host, store, show_progress=False).run(tiny_task, VariantSpec("majority", MAJORITY), 0)
    boards = lb.build(store, metrics=host.metrics)
    print_boards(boards, host.renderer("words"))
    assert capsys.readouterr().out == "majority scores 0.00.\n"
    from alexbench.cli.app import App

    write_boards(App(None, store.root, _host=host), boards, tmp_path / "out", again="again",
                 renderers=file_renderers(host), plots=False)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "index.html", "tiny.csv", "tiny.json", "tiny.md", "tiny.tex", "tiny.txt"]
    assert (tmp_path / "out" / "tiny.txt").read_text() == "majority scores 0.00.\n"
    assert "tiny.md, " in capsys.readouterr().err.replace("\n", "")


def test_alexbench_task_dirs(tmp_path, monkeypatch) -> None:
    """A plugin's folders are scanned for tasks after ALEXBENCH_TASK_PATH (whose task of the same
    name wins); a plugin whose hook raises makes the look-up fail naming it."""
    plugin_task = make_tiny_task(tmp_path / "plugin")
    host = PluginHost(plugins=[("task-plugin", plugin(alexbench_task_dirs=lambda: [str(tmp_path / "plugin")]))])
    assert (tmp_path / "plugin").resolve() in host.task_dirs()
    assert TaskCatalog(host.task_dirs()).load("tiny").path == plugin_task
    user_task = make_tiny_task(tmp_path / "user")
    monkeypatch.setenv("ALEXBENCH_TASK_PATH", str(tmp_path / "user"))
    assert host.task_dirs()[0] == (tmp_path / "user").resolve()
    assert TaskCatalog(host.task_dirs()).load("tiny").path == user_task
    failing = PluginHost(plugins=[("explodes", plugin(alexbench_task_dirs=explode))])
    with pytest.raises(PluginError, match="plugin 'explodes' raised in alexbench_task_dirs: RuntimeError: boom"):
        failing.task_dirs()


def test_alexbench_register_commands(capsys) -> None:
    """A plugin's commands join the command group and run there; a plugin whose hook raises, adds
    a non-command or takes another plugin's name is left out and reported; a command named like
    one of alexbench's own is not added (with a warning); the rest of the command line works."""
    @click.command("hello")
    @click.option("--name", default="world")
    def hello(name: str) -> None:
        click.echo(f"hello {name}")

    def explode(cli: click.Group) -> None:
        cli.add_command(click.Command("half-done"))
        raise RuntimeError("boom")

    def not_a_command(cli: click.Group) -> None:
        cli.commands["junk"] = "junk"

    plugins = [("hello-plugin", types.SimpleNamespace(alexbench_register_commands=hookimpl(lambda cli: cli.add_command(hello)))),
               ("explodes", types.SimpleNamespace(alexbench_register_commands=hookimpl(explode))),
               ("junk", types.SimpleNamespace(alexbench_register_commands=hookimpl(not_a_command))),
               ("again", types.SimpleNamespace(alexbench_register_commands=hookimpl(lambda cli: cli.add_command(hello)))),
               ("own", types.SimpleNamespace(alexbench_register_commands=hookimpl(
                   lambda cli: cli.add_command(click.Command("run", callback=lambda: click.echo("impostor"))))))]
    host = PluginHost(plugins=plugins)
    group = click.Group("alexbench", commands=[click.Command("run", callback=lambda: click.echo("own run"))])
    assert add_plugin_commands(group, host) is host
    assert {"hello", "setup-data", "run"} <= set(group.commands) and not {"half-done", "junk"} & set(group.commands)
    assert CliRunner().invoke(group, ["hello", "--name", "you"]).output == "hello you\n"
    assert CliRunner().invoke(group, ["run"]).output == "own run\n"
    assert "plugin 'own': command 'run' left out: alexbench has its own command of that name" in capsys.readouterr().err
    assert host.commands()["setup-data"][0] == "augment"  # the built-in augment plugin owns setup-data
    broken = {b.name: b.error for b in host.broken}
    assert set(broken) == {"explodes", "junk", "again"}
    assert "raised in alexbench_register_commands: RuntimeError: boom" in broken["explodes"]
    assert "command 'junk': 'junk' is not a click command" in broken["junk"]
    assert "command 'hello' registered twice: by plugin hello-plugin and by plugin again" in broken["again"]


def test_setup_data_belongs_to_the_augment_plugin() -> None:
    """`alexbench setup-data` comes from the augment plugin: without it there is no such command,
    and no module of the host imports the plugin."""
    from alexbench.cli.main import cli

    setup_data = cli.get_command(click.Context(cli), "setup-data")
    assert setup_data is not None and setup_data.callback.__module__ == "alexbench_augment.commands"
    result = subprocess.run([sys.executable, "-m", "alexbench", "setup-data", "--help"], capture_output=True, text=True,
                            env={**__import__("os").environ, "ALEXBENCH_DISABLE_PLUGINS": "augment"}, check=False)
    assert result.returncode == 2 and "No such command 'setup-data'" in result.stderr
    for path in (REPO / "alexbench").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(name.split(".")[0] == "alexbench_augment" for name in names), path


def test_alexbench_self_tests(tmp_path, monkeypatch) -> None:
    """A plugin's self-tests join the built-in ones and run in a child process each, through the
    same runner as ``alexbench doctor``; a hook that raises or returns something else is a failed
    self-test naming the plugin, and the other self-tests still run."""
    from alexbench.doctor import self_tests
    from alexbench.selftest import SelfTest

    (tmp_path / "tagger_check.py").write_text("def check():\n    return {'tagged': 'covid/NN'}\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    mine = SelfTest("a native tagger", "tagger_check:check", fix="pip install --force-reinstall tagger")
    host = PluginHost(load_entrypoints=False, plugins=[
        ("tagger", plugin(alexbench_self_tests=lambda: [mine])),
        ("explodes", plugin(alexbench_self_tests=explode)),
        ("junk", plugin(alexbench_self_tests=lambda: ["not a SelfTest"]))])
    listed = host.self_tests()
    assert listed[0] == ("tagger", mine) and [p for p, _ in listed] == ["tagger", "explodes", "junk"]
    results = list(self_tests(host))
    assert results[0].ok and results[0].facts == {"tagged": "covid/NN"} and results[0].plugin == "tagger"
    assert not results[1].ok and "raised in alexbench_self_tests: RuntimeError: boom" in results[1].problem
    assert not results[2].ok and "must return a list of alexbench.selftest.SelfTest" in results[2].problem
    assert results[2].part == "plugin 'junk'"
    # The built-in plugins test their native parts (run for real in tests/test_doctor.py).
    builtin = {p: t.target for p, t in PluginHost().self_tests()}
    assert builtin == {"augment": "alexbench_augment.selftest:check_wordnet",
                       "baselines": "alexbench_baselines.selftest:check_sklearn",
                       "llm": "alexbench_llm.selftest:check_engine",
                       "transformers": "alexbench_transformers.selftest:check_minilm"}
