"""The runner's own checks hold under ``python -O`` (no assert), and an interrupt is not a failed run."""

from __future__ import annotations

import ast
import inspect
import types

import pytest

from alexbench import hookimpl
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.errors import PluginError, RunError
from alexbench.interfaces import Classifier
from alexbench.plugin.host import PluginHost
from alexbench.run import executors
from alexbench.run import runner as runner_module
from alexbench.run.executors import variant_from_dict
from alexbench.run.runner import Runner


class Interrupted(Classifier):
    name = "interrupted"
    version = "1.0"

    def fit(self, train, dev, ctx):
        raise KeyboardInterrupt

    def predict(self, posts, ctx):  # pragma: no cover - never reached
        raise AssertionError


PLUGIN = types.SimpleNamespace(alexbench_register_classifiers=hookimpl(lambda registry: registry.add(Interrupted)))


def test_an_interrupt_propagates_and_records_no_failure(tiny_task, store) -> None:
    runner = Runner(PluginHost(plugins=[("interrupt-plugin", PLUGIN)]), store, show_progress=False)
    with pytest.raises(KeyboardInterrupt):
        runner.run(tiny_task, VariantSpec("stop", ComponentSpec("interrupted")), 0)
    assert store.failures() == [] and not list(store.runs())
    assert not list((store.root / "runs").rglob("*.tmp"))


def test_a_component_of_the_wrong_kind_is_a_plugin_error(tiny_task, store, monkeypatch) -> None:
    host = PluginHost()
    explainer = host.build("explainer", "llm", {})
    monkeypatch.setattr(host, "build", lambda kind, name, params: explainer)
    with pytest.raises(PluginError, match=r"classifier 'llm' of variant 'odd' is a LLMExplainer, not a subclass of "
                                          r"Classifier"):
        Runner(host, store, show_progress=False).build(VariantSpec("odd", ComponentSpec("majority")))


def test_a_job_without_a_classifier_is_a_run_error() -> None:
    with pytest.raises(RunError, match="job for variant 'x' has no classifier"):
        variant_from_dict({"name": "x", "classifier": None})


def test_the_checks_are_not_asserts() -> None:
    """``python -O`` strips asserts: none guards the runner or the executors."""
    for module in (runner_module, executors):
        tree = ast.parse(inspect.getsource(module))
        assert not [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Assert)], module.__name__
