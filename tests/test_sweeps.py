"""Condition sweeps (issue 27): task transforms (exact counts, seeded, dev and test untouched, a run
id per point, the reference point's runs as before), study validation errors, the simulated judge
at its extreme rates and its marking in every format, and the stage-effect table on a synthetic
study whose answer is known by construction."""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys
import types
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

from alexbench import hookimpl
from alexbench.config.studies import load_study
from alexbench.config.sweeps import TaskTransform, expand
from alexbench.config.tasks import TaskCatalog, load_task
from alexbench.config.variants import ComponentSpec, VariantCatalog, VariantSpec
from alexbench.data.splits import load_dataset
from alexbench.data.transforms import transformed
from alexbench.errors import ParamError, TaskFileError
from alexbench.interfaces import Classifier, Prediction
from alexbench.kit.tasks import write_task
from alexbench.plugin.host import PluginHost
from alexbench.report import leaderboard as lb
from alexbench.report import sweep, sweep_tables
from alexbench.report.htmlpage import render_html, write_html
from alexbench.report.latex import to_latex
from alexbench.run.runner import Runner
from alexbench.run.store import ResultsStore

from .conftest import REPO
from .test_html import driver  # noqa: F401 - the headless Chromium fixture


def variants_of(host: PluginHost) -> VariantCatalog:
    """The named variants of the host's task folders (built-in and plugins')."""
    return VariantCatalog(TaskCatalog(host.task_dirs()).variant_files)


def make_task(root: Path, *, pos: int = 60, neg: int = 140, group: bool = False) -> Path:
    """A binary task: ``pos`` + ``neg`` train posts (words that tell the classes apart), 40 dev and
    60 test posts; with ``group``, an extra column ``claim`` (three values) the metric groups by."""
    def rows(prefix: str, n_pos: int, n_neg: int) -> list[tuple[str, ...]]:
        out = []
        for i in range(n_pos + n_neg):
            label = "1" if i < n_pos else "0"
            text = f"{'fever cough positive test' if label == '1' else 'weather football lunch'} {prefix} post {i}"
            out.append((f"{prefix}{i}", *((["masks", "schools", "homes"][i % 3],) if group else ()), text, label))
        return out

    extra = {"extra": ["claim"], "metric": "grouped_macro_f1",
             "metric_params": {"labels": ["0", "1"], "group_by": "claim"}} if group else {"metric": "f1_positive"}
    return write_task(root / "sweepy", {"train": rows("r", pos, neg), "dev": rows("d", 12, 28), "test": rows("t", 20, 40)},
                      name="sweepy", labels=["0", "1"], positive="1", **extra)


def test_minority_share_keeps_exact_counts_and_leaves_dev_and_test_alone(tmp_path) -> None:
    task = load_task(make_task(tmp_path, group=True))
    data = load_dataset(task)
    for share, kept in ((0.2, 35), (0.1, 16), (0.05, 7)):  # 140 majority posts: round(share * 140 / (1 - share))
        point = transformed(data, TaskTransform("minority_share", share), seed=1)
        counts = Counter(p.label for p in point.train)
        assert counts == {"0": 140, "1": kept} and point.transform["train_after"] == {"0": 140, "1": kept}
        assert point.transform["minority"] == "1" and abs(point.transform["minority_share_after"] - share) < 0.01
        assert point.dev is data.dev and point.test is data.test  # the same posts, not copies
        assert point.splits["dev"].fingerprint == data.splits["dev"].fingerprint
        assert {p.id for p in point.train} <= {p.id for p in data.train}
        assert [p.id for p in point.train] == [p.id for p in data.train if p.id in {q.id for q in point.train}]
    # stratified within the minority class by the metric's grouping column: every claim keeps its share
    point = transformed(data, TaskTransform("minority_share", 0.2), seed=1)
    by_claim = Counter(p.extra["claim"] for p in point.train if p.label == "1")
    assert sorted(by_claim.values()) == [11, 12, 12] and set(by_claim) == {"masks", "schools", "homes"}  # 35 of 3 × 20
    # above the natural share (0.3), the majority class is thinned instead
    up = transformed(data, TaskTransform("minority_share", 0.5), seed=1)
    assert Counter(p.label for p in up.train) == {"0": 60, "1": 60}


def test_a_point_is_seeded_by_the_run_and_the_same_in_any_process(tmp_path) -> None:
    task_file = make_task(tmp_path)
    data = load_dataset(load_task(task_file))
    one = [p.id for p in transformed(data, TaskTransform("train_size", 50), seed=1).train]
    assert one == [p.id for p in transformed(data, TaskTransform("train_size", 50), seed=1).train]
    assert one != [p.id for p in transformed(data, TaskTransform("train_size", 50), seed=2).train]
    code = ("import sys; from alexbench.config.tasks import load_task; from alexbench.data.splits import load_dataset;"
            "from alexbench.data.transforms import transformed; from alexbench.config.sweeps import TaskTransform;"
            f"d = load_dataset(load_task({str(task_file)!r}));"
            "print(','.join(p.id for p in transformed(d, TaskTransform('train_size', 50), 1).train))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "123", "PATH": "/usr/bin:/bin"}).stdout.strip()
    assert other.split(",") == one
    assert Counter(data.train[[p.id for p in data.train].index(i)].label for i in one) == {"0": 35, "1": 15}


def test_a_transform_that_does_not_fit_is_refused(tmp_path) -> None:
    data = load_dataset(load_task(make_task(tmp_path)))
    for transform, message in ((TaskTransform("train_size", 500), "train_size 500 is more than the 200 training posts"),
                               (TaskTransform("train_size", 1), "fewer than the 2 classes"),
                               (TaskTransform("minority_share", 0.001), "leaves no minority post")):
        with pytest.raises(ParamError, match=message):
            transformed(data, transform, seed=1)


def test_each_point_is_a_run_of_its_own_and_the_reference_keeps_its_ids(tmp_path, store) -> None:
    task = load_task(make_task(tmp_path))
    runner = Runner(PluginHost(), store, show_progress=False)
    variant = VariantSpec("tfidf", ComponentSpec("tfidf_logreg"))
    plain = runner.run(task, variant, seed=1)
    point = TaskTransform("minority_share", 0.1)
    swept = runner.run(task, dataclasses.replace(variant, name="tfidf[minority_share=0.1]"), seed=1, transform=point)
    assert swept.run_id != plain.run_id
    spec = swept.run.spec()
    assert spec.transform == {"minority_share": 0.1} and plain.run.spec().transform is None
    assert "transform" not in json.loads((plain.run.path / "run_spec.json").read_text())  # as every run before
    data = swept.run.provenance()["data"]["transform"]
    assert data["train_before"] == {"0": 140, "1": 60} and data["train_after"] == {"0": 140, "1": 16}
    assert data["seconds"] < 1
    # dev and test are the task's own: the spec's fingerprints agree, train's does not
    assert spec.posts["dev"] == plain.run.spec().posts["dev"] and spec.posts["train"] != plain.run.spec().posts["train"]
    # each seed draws its own posts, yet the seeds make one leaderboard row
    runner.run(task, dataclasses.replace(variant, name="tfidf[minority_share=0.1]"), seed=2, transform=point)
    (board,) = lb.build(store)
    row = next(r for r in board.rows if r.variant == "tfidf[minority_share=0.1]")
    assert row.seeds == [1, 2] and not board.notes and not board.warnings


STUDY = """
[study]
name = "s"
tasks = ["sweepy"]
variants = ["tfidf", "tfidf-balanced"]
seeds = [1]
baseline = "tfidf"

[study.sweep]
{sweep}
"""


@pytest.mark.parametrize(("sweep", "field", "message"), [
    ('minority_shares = ["natural", 0.1]', "study.sweep.minority_shares", "unknown axis. Did you mean 'minority_share'?"),
    ('minority_share = ["natural", 1.5]', "study.sweep.minority_share[1]", "a share between 0 and 1"),
    ('minority_share = ["natral", 0.1]', "study.sweep.minority_share[0]", 'expected "natural" or a share'),
    ('train_size = ["all", 0]', "study.sweep.train_size[1]", "a whole number of training posts from 1"),
    ('minority_share = [0.1, 0.1]', "study.sweep.minority_share[1]", "listed twice"),
    ("minority_share = []", "study.sweep.minority_share", "lists no values"),
    ('fixed = ["nope"]\nminority_share = [0.1]', "study.sweep.fixed[0]", "'nope' is not one of the study's variants"),
    ("", "study.sweep", "declares no axis"),
])
def test_sweep_errors_name_the_file_and_the_field(tmp_path, sweep, field, message) -> None:
    path = tmp_path / "s.toml"
    path.write_text(STUDY.format(sweep=sweep))
    with pytest.raises(TaskFileError) as info:
        load_study(path, variants_of(PluginHost()))
    assert info.value.path == path and info.value.field == field and message in str(info.value)


def test_a_parameter_path_no_variant_has_is_an_error(tmp_path) -> None:
    host = PluginHost()
    path = tmp_path / "s.toml"
    path.write_text(STUDY.format(sweep='"classifier.max_lenght" = [1, 2]'))
    spec = load_study(path, variants_of(host))

    def params(kind, name):
        return host.component_info(kind, name)[1]

    with pytest.raises(TaskFileError) as info:
        expand(path, spec.sweep, spec.variants, params)
    assert info.value.field == 'study.sweep."classifier.max_lenght"'
    assert "no variant of the study has a classifier with the parameter 'max_lenght'" in str(info.value)
    path.write_text(STUDY.format(sweep='"explainer.catch_rate" = [0.5]'))
    spec = load_study(path, variants_of(host))
    with pytest.raises(TaskFileError, match="No variant has a explainer|no variant of the study has a explainer"):
        expand(path, spec.sweep, spec.variants, params)
    # a parameter every variant has: each value a variant of its own, the variant's own value its reference runs
    path.write_text(STUDY.format(sweep='"classifier.C" = [1.0, 4.0]'))
    spec = load_study(path, variants_of(host))
    plan = expand(path, spec.sweep, spec.variants, params)
    names = [c.variant.name for c in plan.cells]
    assert names[:2] == ["tfidf", "tfidf-balanced"] and "tfidf[classifier.C=1.0]" in names
    assert "tfidf-balanced[classifier.C=4.0]" not in names  # tfidf-balanced has C = 4.0 already
    assert plan.positions[("classifier.C", "tfidf-balanced")] == 4.0


# -- the simulated judge ---------------------------------------------------------------------------
@dataclass(frozen=True)
class FlipParams:
    wrong_every: int = 3  # every n-th test post predicted wrong


class SometimesWrong(Classifier):
    """Predicts the gold label, except every ``wrong_every``-th post (the other label)."""

    name = "sometimes_wrong"
    version = "1.0"
    Params = FlipParams

    def fit(self, train, dev, ctx):
        return {}

    def predict(self, posts, ctx):
        labels = [str(p.label) if i % self.params.wrong_every else ("0" if p.label == "1" else "1")
                  for i, p in enumerate(posts)]
        return Prediction(labels, [[1.0, 0.0] if lab == "0" else [0.0, 1.0] for lab in labels])


PLUGIN = types.SimpleNamespace(alexbench_register_classifiers=hookimpl(lambda registry: registry.add(SometimesWrong)))
PROMPT = '''[prompt]
version = "1"
send = ["0", "1"]
relabel_to = ["0", "1"]
system = "Check the label."
user = "Post: {text}\\nLabel: {label}\\nAnswer:"
example = ""
'''


def test_the_oracle_at_rates_0_and_1(tmp_path, store) -> None:
    task_file = make_task(tmp_path)
    (task_file.parent / "prompts").mkdir()
    (task_file.parent / "prompts" / "sweepy.toml").write_text(PROMPT)
    task = load_task(task_file)
    runner = Runner(PluginHost(plugins=[("wrong", PLUGIN)]), store, show_progress=False)
    clf = ComponentSpec("sometimes_wrong")

    def judged(catch: float, false: float) -> list[dict]:
        variant = VariantSpec(f"judged-{catch}-{false}", clf, (), ComponentSpec(
            "oracle_judge", {"catch_rate": catch, "false_flip_rate": false}))
        return runner.run(task, variant, seed=1).run.explanations()

    wrong = {e["post_id"] for e in judged(0.0, 0.0) if e["details"]["wrong"]}
    assert len(wrong) == 20  # every third of 60 test posts
    assert all(e["verdict"] is True and e["new_label"] == e["old_label"] for e in judged(0.0, 0.0))
    perfect = judged(1.0, 0.0)
    assert {e["post_id"] for e in perfect if e["verdict"] is False} == wrong
    gold = {p.id: str(p.label) for p in load_dataset(task).test}
    assert all(e["new_label"] == gold[e["post_id"]] for e in perfect)  # every error fixed
    assert all(e["verdict"] is False for e in judged(1.0, 1.0))  # every post flipped, right ones broken
    half = {e["post_id"] for e in judged(0.5, 0.0) if e["verdict"] is False}
    assert half < wrong and 4 <= len(half) <= 16  # seeded per post: a subset of the errors
    assert half <= {e["post_id"] for e in judged(0.7, 0.0) if e["verdict"] is False}  # monotone in the rate
    (board,) = lb.build(store, baseline="judged-0.0-0.0", metrics=PluginHost().metrics, n_boot=50)
    rows = {r.variant: r for r in board.rows}
    assert all(r.simulated for r in board.rows)
    assert rows["judged-1.0-0.0"].explainer["flip_precision"].mean == 1.0
    assert rows["judged-1.0-0.0"].test_official.mean == 1.0


def test_simulated_rows_are_marked_in_every_format_and_never_ranked(tmp_path) -> None:
    from .leaderboard_runs import make_boards

    boards = make_boards(tmp_path / "b")
    demo = next(b for b in boards if b.task == "demo")
    marked = dataclasses.replace(demo, rows=[dataclasses.replace(r, simulated=r.variant == "tfidf") for r in demo.rows])
    buf = io.StringIO()
    Console(file=buf, width=1000, color_system=None).print(lb.to_rich(marked))
    assert "tfidf ‡" in buf.getvalue() and "simulated" in buf.getvalue()
    md = lb.to_markdown(marked)
    assert "| tfidf ‡ |" in md and "‡ simulated" in md
    assert r"tfidf$^\ddagger$" in to_latex(marked) and "Simulated" in to_latex(marked)
    head, *lines = lb.to_csv(marked).splitlines()
    assert head.endswith(",simulated") and sum(line.endswith(",true") for line in lines) == 1
    rows = json.loads(lb.to_json(marked))["rows"]
    assert [r["variant"] for r in rows if r.get("simulated")] == ["tfidf"]
    page = render_html([marked])
    assert 'data-variant="tfidf" data-simulated="true"' in page and "‡ simulated" in page
    other = next(b for b in boards if b.task != "demo")
    ranked = [r["variant"] for r in lb.ranking([marked, other])]
    assert "tfidf" in [r["variant"] for r in lb.ranking([demo, other])] and "tfidf" not in ranked


# -- the stage-effect table, known by construction --------------------------------------------------
@dataclass(frozen=True)
class WhenParams:
    below: float = 0.25  # predicts the gold labels when train's minority share is below this


class GoldWhenImbalanced(Classifier):
    """A stage that helps only on imbalanced training data: the gold labels when the minority
    share of train is below ``below``, else the majority label (as the baseline does)."""

    name = "gold_when_imbalanced"
    version = "1.0"
    Params = WhenParams

    def fit(self, train, dev, ctx):
        counts = Counter(str(p.label) for p in train)
        self._share = min(counts.values()) / len(train)
        self._majority = max(sorted(counts), key=counts.get)
        return {"share": self._share}

    def predict(self, posts, ctx):
        gold = self._share < self.params.below
        labels = [str(p.label) if gold else self._majority for p in posts]
        return Prediction(labels, [[1.0, 0.0] if lab == "0" else [0.0, 1.0] for lab in labels])


KNOWN = types.SimpleNamespace(alexbench_register_classifiers=hookimpl(
    lambda registry: registry.add(GoldWhenImbalanced)))


@pytest.fixture(scope="module")
def known(tmp_path_factory: pytest.TempPathFactory) -> lb.Leaderboard:
    """A swept study whose answer is known by construction, run for real. Baseline: the majority
    class. 'helps-when-imbalanced' predicts the gold labels only at minority shares below 0.25, so
    its Δ is 0 at natural (0.3) and significant from 0.2 on: its first significant gain is 0.2.
    'same' is the baseline under another name: Δ 0 everywhere, 'none'."""
    tmp_path = tmp_path_factory.mktemp("known")
    store = ResultsStore(tmp_path / "results")
    task_file = make_task(tmp_path)
    study = tmp_path / "known.toml"
    study.write_text(f"""
[study]
name = "known"
tasks = ["{task_file}"]
variants = ["majority", "same", "helps-when-imbalanced"]
seeds = [1, 2]
baseline = "majority"

[study.sweep]
minority_share = ["natural", 0.2, 0.1]

[variants.same]
classifier = {{ name = "majority" }}

[variants.helps-when-imbalanced]
classifier = {{ name = "gold_when_imbalanced" }}
""")
    host = PluginHost(plugins=[("known", KNOWN)])
    spec = load_study(study, variants_of(host))
    plan = expand(study, spec.sweep, spec.variants, lambda kind, name: host.component_info(kind, name)[1])
    task = load_task(task_file)
    runner = Runner(host, store, show_progress=False)
    for seed in spec.seeds:
        for cell in plan.cells:
            runner.run(task, cell.variant, seed, transform=cell.transform)
    (board,) = lb.build(store, baseline="majority", variants=[c.variant.name for c in plan.cells], metrics=host.metrics,
                        n_boot=200)
    sweep.attach([board], plan, ["majority", "same", "helps-when-imbalanced"], host.metrics, 200)
    return board


def test_the_stage_effect_table_on_a_study_whose_answer_is_known(known) -> None:
    board = known
    (report,) = board.sweeps
    series = {s.variant: s for s in report.series}
    helps = series["helps-when-imbalanced"]
    assert [p.delta for p in helps.points] == [0.0, 1.0, 1.0]  # f1_positive: 0 for the majority class, 1 for gold
    assert helps.first_significant == "0.2" and series["same"].first_significant == "none"
    assert series["majority"].first_significant is None  # the baseline has no stage effect
    assert [p.mean for p in helps.points] == [0.0, 1.0, 1.0] and helps.points[1].seeds == 2
    assert helps.points[1].comparison.p_bootstrap_holm < 0.05 and helps.points[0].comparison.p_bootstrap_holm >= 0.05
    # every format carries it
    md = lb.to_markdown(board)
    assert "### sweepy: sweep over minority_share" in md and "| helps-when-imbalanced |" in md
    assert "+1.000** [+1.000, +1.000]" in md and md.count("| none |") == 1
    assert "minority_share" in to_latex(board) and r"+1.000^{**}" in to_latex(board)
    sweep_json = json.loads(lb.to_json(board))["sweep"][0]
    assert sweep_json["axis"] == "minority_share" and sweep_json["points"] == ["natural", "0.2", "0.1"]
    assert {s["variant"]: s["first_significant_gain"] for s in sweep_json["series"]} == {
        "majority": None, "same": "none", "helps-when-imbalanced": "0.2"}
    csv_lines = sweep_tables.to_csv(board.sweeps).splitlines()
    assert len(csv_lines) == 1 + 3 * 3 and "helps-when-imbalanced[minority_share=0.2]" in csv_lines[8]
    page = render_html([board])
    assert page.count('<g class="series"') == 3 and 'class="sweep-effects"' in page


def test_the_sweep_section_in_headless_chromium(known, driver, tmp_path) -> None:  # noqa: F811
    path = write_html([known], tmp_path / "index.html")
    driver.get(path.as_uri())
    section = driver.find_element("css selector", 'section.sweep[data-axis="minority_share"]')
    chart = section.find_element("css selector", "svg.sweep-chart")
    assert chart.size["width"] > 300 and chart.size["height"] > 100  # drawn, not collapsed
    lines = chart.find_elements("css selector", "g.series")
    assert [g.get_attribute("data-variant") for g in lines] == ["majority", "same", "helps-when-imbalanced"]
    assert all(len(g.find_elements("css selector", "circle")) == 3 for g in lines)
    heads = [th.text for th in section.find_elements("css selector", "table.sweep-effects thead th")]
    assert heads == ["stage (variant)", "natural", "0.2", "0.1", "first significant gain"]
    first = {tr.get_attribute("data-variant"): tr.find_element("css selector", "td.first").text
             for tr in section.find_elements("css selector", "table.sweep-effects tbody tr")}
    assert first == {"same": "none", "helps-when-imbalanced": "0.2"}
    bold = section.find_elements("css selector", 'table.sweep-effects tr[data-variant="helps-when-imbalanced"] td.sig')
    assert [td.text.split()[0] for td in bold] == ["+1.000**", "+1.000**"]
    assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_grid_runs_a_swept_study_and_validate_shows_its_points(tmp_path) -> None:
    """The command line end to end: validate prints each point's counts, grid runs every point,
    writes the sweep's files and prints its tables; a rerun reuses every run."""
    task_file = make_task(tmp_path)
    study = tmp_path / "cli.toml"
    study.write_text(f"""
[study]
name = "cli"
tasks = ["{task_file}"]
variants = ["tfidf", "tfidf-balanced"]
seeds = [1]
baseline = "tfidf"

[study.sweep]
minority_share = ["natural", 0.1]
train_size = ["all", 80]
""")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "alexbench", *args], cwd=tmp_path, capture_output=True, text=True,
                              timeout=600)

    checked = cli("validate", str(study))
    assert checked.returncode == 0, checked.stderr
    assert "sweepy at minority_share=0.1: train {'0': 140, '1': 16}" in checked.stdout
    assert "sweepy at train_size=80: train {'0': 56, '1': 24}" in checked.stdout
    first = cli("grid", str(study), "--no-progress", "--bootstrap", "50")
    assert first.returncode == 0, first.stderr
    assert first.stderr.count(": done,") == 2 * 3 and "sweep over minority_share" in first.stdout
    out = tmp_path / "leaderboards" / "cli"
    assert {p.name for p in out.iterdir()} >= {"sweepy.sweep.csv", "sweepy_sweep_minority_share.png",
                                              "sweepy_sweep_train_size.png", "index.html"}
    again = cli("grid", str(study), "--no-progress", "--bootstrap", "50")
    assert again.returncode == 0 and again.stderr.count("reused") == 6
    shown = cli("leaderboard", "--study", str(study), "--format", "json", "--bootstrap", "50")
    assert [s["axis"] for s in json.loads(shown.stdout)["sweep"]] == ["minority_share", "train_size"]
    too_big = study.read_text().replace('["all", 80]', '["all", 900]')
    study.write_text(too_big)
    refused = cli("grid", str(study), "--no-progress")
    assert refused.returncode == 2 and "study.sweep.train_size[1]" in refused.stderr
    assert "train_size 900 is more than the 200 training posts" in refused.stderr


def test_the_imbalance_study_is_valid() -> None:
    host = PluginHost()
    path = REPO / "plugins" / "alexbench_tasks" / "studies" / "imbalance.toml"
    spec = load_study(path, variants_of(host))
    plan = expand(path, spec.sweep, spec.variants, lambda kind, name: host.component_info(kind, name)[1], spec.fixed)
    assert spec.baseline == "minilm" and spec.fixed == ("minilm+llm",)
    assert [a.name for a in spec.sweep] == ["minority_share", "explainer.catch_rate"]
    assert not any(c.base == "minilm+llm" and not c.is_reference for c in plan.cells)
    assert {c.base for c in plan.cells if c.axis == "explainer.catch_rate"} == {"minilm+oracle", "minilm+oracle-ffr0.2"}
