"""A task's [metric] params are checked against what its official metric declares when the task
is read (validate, run, grid, score), naming the file and the field; a plugin metric that
declares nothing still gets its params as given (issue 30, item 14)."""

from __future__ import annotations

import types
from pathlib import Path

import pytest
from click.testing import CliRunner

from alexbench import hookimpl
from alexbench.cli.main import cli
from alexbench.config.tasks import TaskCatalog, load_task
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.errors import TaskFileError
from alexbench.plugin.host import PluginHost
from alexbench.run.runner import Runner
from alexbench.scoring.metric_params import MetricParam
from alexbench.scoring.metrics import Metric, check_official

OFFICIAL = 'official = "f1_positive"'


def _task(tiny_task_file: Path, metric: str) -> Path:
    text = tiny_task_file.read_text(encoding="utf-8")
    assert OFFICIAL in text
    tiny_task_file.write_text(text.replace(OFFICIAL, metric), encoding="utf-8")
    return tiny_task_file


BAD = [
    ('official = "macro_f1"\nparams = { labels = "0" }', "metric.params.labels",
     "expected a non-empty array of distinct labels of the task (e.g. ['0', '1']), got '0'"),
    ('official = "macro_f1"\nparams = { lables = ["0"] }', "metric.params.lables",
     "unknown parameter of 'macro_f1'. Did you mean 'labels'? It takes: labels"),
    ('official = "macro_f1"\nparams = { labels = ["0", "7"] }', "metric.params.labels[1]",
     "'7' is not one of the labels ['0', '1']"),
    ('official = "macro_f1"\nparams = { labels = ["1", "1"] }', "metric.params.labels[1]", "'1' is listed twice"),
    ('official = "macro_f1"\nparams = { labels = [] }', "metric.params.labels", "expected a non-empty array"),
    ('official = "accuracy"\nparams = { labels = ["0"] }', "metric.params.labels",
     "unknown parameter of 'accuracy'. It takes: no parameters"),
    ('official = "grouped_macro_f1"', "metric.params.group_by",
     "is required by 'grouped_macro_f1': the extra column whose groups are averaged (the task has no extra columns"),
    ('official = "grouped_macro_f1"\nparams = { group_by = "claim" }', "metric.params.group_by",
     "expected the key of one of the task's extra columns ([columns] extra), got 'claim'; the task has none"),
    ('official = "grouped_macro_f1"\nparams = { group_by = 3 }', "metric.params.group_by",
     "expected the key of one of the task's extra columns ([columns] extra), got 3"),
]


@pytest.mark.parametrize(("metric", "field", "message"), BAD)
def test_bad_metric_params_are_refused_by_validate_with_file_and_field(tiny_task_file: Path, metric: str, field: str,
                                                                       message: str) -> None:
    path = _task(tiny_task_file, metric)
    result = CliRunner().invoke(cli, ["validate", "--no-data", str(path)])
    assert result.exit_code == 2, result.output
    assert f"{path}: {field}: {message}" in result.output and "Traceback" not in result.output


def test_f1_positive_needs_a_positive_label(tiny_task_file: Path) -> None:
    text = tiny_task_file.read_text(encoding="utf-8").replace('positive = "1"\n', "")
    tiny_task_file.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", "--no-data", str(tiny_task_file)])
    assert result.exit_code == 2
    assert (f"{tiny_task_file}: labels.positive: is required: the official metric 'f1_positive' scores the positive "
            "class") in result.output
    # With another official metric the same task is fine: f1_positive is then just not reported.
    _task(tiny_task_file, 'official = "macro_f1"')
    assert CliRunner().invoke(cli, ["validate", "--no-data", str(tiny_task_file)]).exit_code == 0


def test_run_and_score_refuse_bad_params_before_any_work(tiny_task_file: Path, tmp_path: Path) -> None:
    path = _task(tiny_task_file, 'official = "macro_f1"\nparams = { labels = ["0", "maybe"] }')
    results = tmp_path / "results"
    run = CliRunner().invoke(cli, ["--results", str(results), "run", "-t", str(path), "-v", "majority",
                                   "--no-progress"])
    assert run.exit_code == 2 and f"{path}: metric.params.labels[1]: 'maybe' is not one of" in run.output
    assert not (results / "runs").exists()  # refused before any run (it used to fail late, or score wrongly)
    test_file = str(path.parent / "data" / "test.tsv")
    scored = CliRunner().invoke(cli, ["score", "--task", str(path), "--gold", test_file, "--pred", test_file])
    assert scored.exit_code == 2 and "metric.params.labels[1]" in scored.output


def test_valid_params_run_and_score_as_declared(tiny_task_file: Path, store) -> None:
    """A subset given right is used: macro-F1 over ["1"] alone is the F1 of class 1."""
    host = PluginHost()
    task = load_task(_task(tiny_task_file, 'official = "macro_f1"\nparams = { labels = ["1"] }'))
    check_official(task, host.metrics)
    metrics = Runner(host, store, show_progress=False).run(
        task, VariantSpec("tfidf", ComponentSpec("tfidf_logreg", {"class_weight": "balanced"})), 1).run.metrics()
    assert metrics["test"]["official"]["value"] == pytest.approx(metrics["test"]["per_class"]["1"]["f1"])


def test_every_shipped_task_passes_the_params_check() -> None:
    host = PluginHost()
    catalog = TaskCatalog(host.task_dirs())
    for name in catalog.names():
        check_official(catalog.load(name), host.metrics)  # raises on a wrong param


def _host_with(metric: Metric) -> PluginHost:
    plugin = types.SimpleNamespace(alexbench_register_metrics=hookimpl(lambda registry: registry.add(metric)))
    return PluginHost(plugins=[("metric-plugin", plugin)])


def test_a_plugin_metric_that_declares_nothing_gets_any_params(tiny_task_file: Path) -> None:
    host = _host_with(Metric("counted", lambda d: float(len(d.params))))
    task = load_task(_task(tiny_task_file, 'official = "counted"\nparams = { anything = [1, "x"], more = true }'))
    check_official(task, host.metrics)  # unchecked, as before metrics could declare params


def test_a_plugin_metric_declares_its_params_and_requirements(tiny_task_file: Path) -> None:
    metric = Metric("over", lambda d: 0.0, params={"threshold": MetricParam("float", required=True),
                                                   "label": MetricParam("label")}, requires=("positive",))
    host = _host_with(metric)
    task = load_task(_task(tiny_task_file, 'official = "over"\nparams = { threshold = 0.5, label = "0" }'))
    check_official(task, host.metrics)
    for params, field, message in [("{ label = \"0\" }", "metric.params.threshold", "is required by 'over': a number"),
                                   ("{ threshold = \"high\" }", "metric.params.threshold", "expected a number"),
                                   ("{ threshold = 1, label = \"2\" }", "metric.params.label", "one label of the task")]:
        text = tiny_task_file.read_text(encoding="utf-8")
        tiny_task_file.write_text(text[:text.index("params = ")] + f"params = {params}\n" + text[text.index("\n[submission]"):],
                                  encoding="utf-8")
        with pytest.raises(TaskFileError) as exc:
            check_official(load_task(tiny_task_file), host.metrics)
        assert exc.value.field == field and message in str(exc.value)
    with pytest.raises(ValueError, match="MetricParam kind must be one of"):
        MetricParam("colour")
    with pytest.raises(ValueError, match="requires \\['gpu'\\]"):
        Metric("bad", lambda d: 0.0, requires=("gpu",))
