"""A plugin author's first package and usual mistakes, installed the way users install plugins.

`tests/packages/alexbench-svm-shuffle` was written from docs/plugins.md alone (a LinearSVC
classifier registered lazily with its Params, a sentence-shuffling augmenter);
`tests/packages/alexbench-mistakes` holds one plugin per usual mistake. Both go into one
throw-away venv; every mistake must be caught by the host, on every run or listing, with a
message that says what is wrong and where.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from alexbench.testing import write_tiny_task

from .conftest import REPO
from .venvs import Venv

PACKAGES = REPO / "tests" / "packages"
IGNORE = shutil.ignore_patterns("build", "*.egg-info", "__pycache__", ".pytest_cache")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    root = tmp_path_factory.mktemp("authoring")
    # Copies: building in place would leave build/ and *.egg-info in the repository.
    copies = [shutil.copytree(PACKAGES / name, root / name, ignore=IGNORE)
              for name in ("alexbench-svm-shuffle", "alexbench-mistakes")]
    env = Venv(root / "venv")
    env.install(*copies)
    env.packages = root  # type: ignore[attr-defined]
    return env


@pytest.fixture(scope="module")
def listing(venv: Venv, tmp_path_factory: pytest.TempPathFactory) -> dict:
    result = venv.alexbench("plugins", "--json", cwd=tmp_path_factory.mktemp("listing"))
    assert result.returncode == 0, result.stderr  # broken plugins never break the command
    return json.loads(result.stdout)


def test_the_package_written_from_the_docs_passes_its_own_kit_tests(venv: Venv) -> None:
    own = venv.run("-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=venv.packages / "alexbench-svm-shuffle")
    summary = own.stdout.strip().splitlines()[-1]
    assert own.returncode == 0 and "failed" not in summary and "skipped" not in summary, own.stdout + own.stderr
    # classifier on both tasks, on one, augmenter (each + its multi-label support test), its own test
    assert int(summary.split()[0]) == 12 + 7 + 12 + 1


def test_listing_reads_lazy_params_without_importing_the_component(venv: Venv, listing: dict, tmp_path: Path) -> None:
    entries = {e["name"]: e for e in listing["entries"]}
    svm = entries["linear_svm"]
    assert (svm["plugin"], svm["distribution"], svm["version"]) == ("svm_shuffle", "alexbench-svm-shuffle", "0.1.0")
    assert svm["params"] == {"C": 1.0, "loss": "squared_hinge", "class_weight": "balanced", "max_ngram": 2,
                             "max_features": None}
    assert entries["sentence_shuffle"]["params"] == {"copies": 1, "grow": "minority", "min_sentences": 2}
    code = ("import sys\nfrom alexbench.cli.main import main\ntry:\n    main(['plugins', '--json'])\nexcept SystemExit:\n"
            "    pass\nprint(sorted(m for m in sys.modules if m in ('sklearn', 'torch', 'alexbench_svm_shuffle.svm')),"
            " file=sys.stderr)")
    result = venv.run("-c", code, cwd=tmp_path)
    assert result.stderr.strip().splitlines()[-1] == "[]", result.stderr


def test_broken_plugins_are_named_with_the_reason_and_the_place(venv: Venv, listing: dict, tmp_path: Path) -> None:
    broken = {b["name"]: b for b in listing["broken"]}
    assert set(broken) == {"no_default", "bad_defaults", "lazy_no_default", "raises", "misspelt"}
    assert all(b["distribution"] == "alexbench-mistakes" for b in broken.values())
    # Params checked at registration: no default, defaults of the wrong type.
    assert "classifier 'svm_no_default': SvmParams.C has no default; every parameter needs one, so that a variant " \
           "may leave it out (e.g. C: float = 1.0) (defined at " in broken["no_default"]["error"]
    assert "no_default.py:10) (at " in broken["no_default"]["error"]  # the class, then the line registering it
    assert broken["no_default"]["where"].endswith("alexbench_mistakes/no_default.py:23")
    assert "SvmParams.C is declared float but its default '1.0' is a str; give it a default that is a number " \
           "(e.g. C: float = 1.0)" in broken["bad_defaults"]["error"]
    assert "LazyParams.threshold has no default" in broken["lazy_no_default"]["error"]  # found when listing loads it
    # An import error keeps its place and its traceback.
    raises = broken["raises"]
    assert "could not be loaded from 'alexbench_mistakes.raises_on_import': KeyError: 'c'" in raises["error"]
    assert raises["where"].endswith("alexbench_mistakes/raises_on_import.py:6") and raises["where"] in raises["error"]
    assert raises["traceback"].startswith("Traceback (most recent call last)")
    assert 'DEFAULT_C = SETTINGS["c"]' in raises["traceback"]
    # A misspelt hook: did you mean.
    assert "implements unknown hook 'alexbench_register_classifier'. Did you mean " \
           "'alexbench_register_classifiers'?" in broken["misspelt"]["error"]
    assert broken["misspelt"]["where"].endswith("misspelt_hook.py:6") and broken["misspelt"]["where"] in \
        broken["misspelt"]["error"]
    assert not {e["plugin"] for e in listing["entries"]} & set(broken)

    table = venv.alexbench("plugins", cwd=tmp_path)
    assert table.returncode == 0 and "linear_svm" in table.stdout
    assert "raises_on_import.py:6" in table.stderr and "Traceback" not in table.stderr + table.stdout
    traced = venv.run("-m", "alexbench", "plugins", cwd=tmp_path, env={"ALEXBENCH_TRACE_PLUGINS": "1"})
    assert traced.returncode == 0
    assert "Traceback (most recent call last)" in traced.stderr and 'SETTINGS["c"]' in traced.stderr


def test_runs_catch_what_an_augmenter_gets_wrong(venv: Venv, tmp_path: Path) -> None:
    task = write_tiny_task(tmp_path / "tasks", "binary")
    results = tmp_path / "results"

    def run(*args: str):
        return venv.alexbench("--results", str(results), "run", "-t", str(task), "--no-progress", *args, cwd=tmp_path)

    wrong = run("--augmenter", "shuffle_wrong_label", "--classifier", "linear_svm")
    assert wrong.returncode == 1
    assert "augmenter 'shuffle_wrong_label' gave generated row 'r-1-2~s' the label '0', but its source post " \
           "'r-1-2' is labelled '1': a generated row carries its source's label" in " ".join(wrong.stderr.split())
    relabel = run("--augmenter", "relabel_originals", "--classifier", "linear_svm")
    assert relabel.returncode == 1
    assert "changed the label of train post 'r-1-2' from '1' to '0'" in " ".join(relabel.stderr.split())

    leaky = run("--augmenter", "leaky_copies", "--classifier", "linear_svm")
    assert leaky.returncode == 0, leaky.stderr
    said = " ".join(leaky.stderr.split())
    assert "warning: kit_binary/leaky_copies+linear_svm/s0: dropped 25 generated train row(s) whose text is a dev " \
           "or test post's (by augmenter 'leaky_copies': 25; e.g. more-dev-0" in said
    run_dir = next((results / "runs" / "kit_binary" / "leaky_copies_linear_svm").glob("s0-*"))
    prov = json.loads((run_dir / "provenance.json").read_text())
    assert prov["augmentation"]["dropped"]["same_text_as_dev_or_test"] == 25
    assert any(line.startswith("WARNING: dropped 25 generated train row(s)") for line in prov["log"])
    # Each run names the distribution and version of every plugin it used.
    assert {(p["kind"], p["name"], p["plugin"], p["distribution"], p["version"]) for p in prov["plugins"]} == {
        ("augmenter", "leaky_copies", "leaky", "alexbench-mistakes", "0.0.1"),
        ("classifier", "linear_svm", "svm_shuffle", "alexbench-svm-shuffle", "0.1.0"),
        ("metric", "f1_positive", "metrics", "alexbench", prov["environment"]["alexbench"])}


def test_a_rewritten_data_file_fails_the_run_and_warns_on_the_leaderboard(venv: Venv, tmp_path: Path) -> None:
    task = write_tiny_task(tmp_path / "tasks", "binary")
    test_file = task.parent / "data" / "test.tsv"
    results = tmp_path / "results"

    def alexbench(*args: str):
        return venv.alexbench("--results", str(results), *args, cwd=tmp_path)

    before = alexbench("run", "-t", str(task), "--classifier", "linear_svm", "--no-progress")
    assert before.returncode == 0, before.stderr
    original = test_file.read_bytes()
    rewrite = alexbench("run", "-t", str(task), "--augmenter", "rewrite_test", "--classifier", "linear_svm",
                        "--no-progress")
    assert rewrite.returncode == 1 and test_file.read_bytes() != original  # the plugin did write it
    assert f"the task's file {test_file} changed on disk during augmentation" in " ".join(rewrite.stderr.split())
    assert "An augmenter ('rewrite_test') must never write to the task's files" in " ".join(rewrite.stderr.split())
    # Later runs score on the changed file: the leaderboard says the rows do not compare.
    after = alexbench("run", "-t", str(task), "--classifier", "majority", "--no-progress")
    assert after.returncode == 0, after.stderr
    board = alexbench("leaderboard", "-t", str(task), "--format", "json")
    assert board.returncode == 0, board.stderr
    warnings = json.loads(board.stdout)["warnings"]
    assert len(warnings) == 1 and warnings[0].startswith("the rows of this table were run on different test data")
    assert "for linear_svm" in warnings[0] and "for majority" in warnings[0]
    assert "warning: kit_binary: the rows of this table were run on different test data" in \
        " ".join(board.stderr.split())


def test_a_left_out_plugin_is_named_where_its_component_is_asked_for(venv: Venv, tmp_path: Path) -> None:
    task = write_tiny_task(tmp_path / "tasks", "binary")
    run = venv.alexbench("--results", str(tmp_path / "r"), "run", "-t", str(task), "--classifier", "svm_no_default",
                         cwd=tmp_path)
    assert run.returncode == 2
    said = " ".join(run.stderr.split())
    assert "unknown classifier 'svm_no_default'." in said
    assert "Known: embed_logreg, lazy_no_default, linear_svm, llm, majority, tfidf_logreg, transformer. Left out: plugin 'no_default' " \
           "(alexbench-mistakes): classifier 'svm_no_default': SvmParams.C has no default" in said
    assert "; also plugin(s) raises, misspelt, bad_defaults (see 'alexbench plugins')." in said
    # Under pytest too: a contract for it says the plugin was left out, and why.
    (tmp_path / "test_mine.py").write_text("from alexbench.testing import ClassifierContract\n\n\n"
                                           "class TestMine(ClassifierContract):\n    component = 'svm_no_default'\n")
    kit = venv.run("-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "describe", "test_mine.py", cwd=tmp_path)
    assert kit.returncode == 1
    said = " ".join(kit.stdout.split())
    assert "TestMine: no classifier named 'svm_no_default' is registered." in said
    assert "Left out: plugin 'no_default' (alexbench-mistakes): classifier 'svm_no_default'" in said


def test_ad_hoc_parameters_and_a_variants_file(venv: Venv, tmp_path: Path) -> None:
    task = write_tiny_task(tmp_path / "tasks", "binary")
    (tmp_path / "mine.toml").write_text('[variants.svm-shuffled]\naugmenters = [{ name = "sentence_shuffle" }]\n'
                                        'classifier = { name = "linear_svm" }\n')
    run = venv.alexbench("--results", str(tmp_path / "r"), "run", "-t", str(task), "-v", "mine.toml",
                         "-p", "linear_svm.C=0.25", "-p", "augmenter.copies=2", "--no-progress", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    (run_dir,) = (tmp_path / "r" / "runs" / "kit_binary").glob("*/s0-*")
    spec = json.loads((run_dir / "run_spec.json").read_text())["variant"]
    assert spec["name"] == "svm-shuffled[linear_svm.C=0.25,augmenter.copies=2]"
    assert spec["classifier"]["params"]["C"] == 0.25 and spec["augmenters"][0]["params"]["copies"] == 2
