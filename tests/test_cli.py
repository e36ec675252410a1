"""The command line, as a user runs it: real processes, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def alexbench(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alexbench", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600, check=False)


def test_baselines_study_prints_and_writes_the_leaderboard(tmp_path: Path) -> None:
    result = alexbench("grid", "demo-baselines", "--no-progress", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for variant in ("majority", "tfidf", "tfidf-balanced"):
        assert variant in result.stdout
    assert "test f1_positive" in result.stdout
    board = json.loads((tmp_path / "leaderboards" / "demo-baselines" / "demo.json").read_text())
    rows = {r["variant"]: r for r in board["rows"]}
    assert rows["majority"]["test_official"]["mean"] == 0.0  # the majority class is the negative one
    assert rows["tfidf-balanced"]["test_official"]["mean"] > rows["majority"]["test_official"]["mean"]
    assert all(r["seeds"] == [1, 2, 3] for r in rows.values())
    assert (tmp_path / "leaderboards" / "demo-baselines" / "demo.md").read_text().count("\n| ") == 4  # header + 3 rows
    # A rerun reuses every finished run.
    again = alexbench("grid", "demo-baselines", "--no-progress", cwd=tmp_path)
    assert again.returncode == 0 and again.stderr.count("reused") == 9


def test_leaderboard_formats(tmp_path: Path) -> None:
    assert alexbench("run", "-t", "demo", "-v", "majority", "--no-progress", cwd=tmp_path).returncode == 0
    md = alexbench("leaderboard", "--format", "markdown", cwd=tmp_path)
    assert md.returncode == 0 and "| majority | 1 | 0.000 |" in md.stdout
    csv_out = alexbench("leaderboard", "--format", "csv", cwd=tmp_path)
    assert csv_out.stdout.splitlines()[0].startswith("task,variant,official_metric,n_seeds,baseline,delta")


def test_errors_are_one_line_and_precise(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[task]\nname = "x"\ndata_dir = "d"\n[columns]\nid = "i"\ntext = "t"\nlabel = "l"\n')
    result = alexbench("validate", str(bad), cwd=tmp_path)
    assert result.returncode == 2 and f"{bad}: splits: is required" in result.stderr
    assert "Traceback" not in result.stderr
    typo = alexbench("run", "-t", "demo", "-v", "tfidf-balance", cwd=tmp_path)
    assert typo.returncode == 2 and "Did you mean 'tfidf-balanced'" in typo.stderr
    missing = alexbench("run", "-t", "smm4h23_task1", "-v", "tfidf", "--data-root", str(tmp_path), cwd=tmp_path)
    assert missing.returncode == 2 and str(tmp_path / "smm4h23_task1" / "train.tsv") in missing.stderr


def test_validate_reports_a_bad_row(tmp_path: Path, tiny_task_file: Path) -> None:
    data = tiny_task_file.parent / "data" / "dev.tsv"
    lines = data.read_text().splitlines()
    lines[3] = lines[3].rsplit("\t", 1)[0] + "\tpositive"
    data.write_text("\n".join(lines) + "\n")
    result = alexbench("validate", str(tiny_task_file), cwd=tmp_path)
    assert result.returncode == 2
    assert f"{data}:4: label: unknown label 'positive'; expected one of ['0', '1']" in result.stderr


def test_plugins_json_lists_builtins(tmp_path: Path) -> None:
    result = alexbench("plugins", "--json", cwd=tmp_path)
    data = json.loads(result.stdout)
    tfidf = next(e for e in data["entries"] if e["name"] == "tfidf_logreg")
    assert tfidf["kind"] == "classifier" and tfidf["distribution"] == "alexbench" and tfidf["params"]["C"] == 4.0


def test_standin_task_runs_end_to_end(tmp_path: Path, shared_data: Path) -> None:
    result = alexbench("--data-root", str(shared_data), "run", "-t", "smm4h22_task2_stance", "-v", "tfidf",
                       "--no-progress", "--out", "lb", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    board = json.loads((tmp_path / "lb" / "smm4h22_task2_stance.json").read_text())
    row = board["rows"][0]
    assert board["official_metric"] == "grouped_macro_f1" and 0.2 < row["test_official"]["mean"] < 0.9
    run_dir = next((tmp_path / "results" / "runs" / "smm4h22_task2_stance" / "tfidf").iterdir())
    prov = json.loads((run_dir / "provenance.json").read_text())
    assert prov["data"]["test"]["skipped_unlabeled"] == 507 and prov["data"]["train"]["renamed_duplicate_ids"] > 0


@pytest.mark.parametrize("seeds", ["1,2", "3-4"])
def test_seed_lists(tmp_path: Path, seeds: str) -> None:
    result = alexbench("run", "-t", "demo", "-v", "majority", "--seeds", seeds, "--no-progress", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr.count("done") == 2


def test_bracketed_text_is_printed_as_written_not_read_as_markup(tmp_path: Path, tiny_task_file: Path) -> None:
    """The terminal output is rich text: labels, variant names and paths are data, so a label
    "positive" must show as "F1[positive]" (rich would read "[positive]" as a style and drop it),
    and text that looks like a closing tag must not crash the command."""
    task_dir = tiny_task_file.parent
    tiny_task_file.write_text(tiny_task_file.read_text().replace('values = ["0", "1"]', 'values = ["negative", "positive"]')
                              .replace('positive = "1"', 'positive = "positive"'))
    for split in ("train", "dev", "test"):
        path = task_dir / "data" / f"{split}.tsv"
        lines = path.read_text().splitlines()
        path.write_text("\n".join([lines[0]] + [line[:-1] + ("positive" if line.endswith("1") else "negative")
                                                for line in lines[1:]]) + "\n")
    weird = tmp_path / "res[/]ults[bold]"
    result = alexbench("run", "-t", str(tiny_task_file), "--classifier", "tfidf_logreg", "--no-progress",
                       "--results", str(weird), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "F1[positive]" in result.stdout and "F1[negative]" in result.stdout
    assert str(weird) in result.stderr  # the run folder, shown as written
    missing = alexbench("run", "-t", str(tmp_path / "no[/]such[red].toml"), "--classifier", "majority", cwd=tmp_path)
    assert missing.returncode == 2 and "no[/]such[red].toml" in missing.stderr and "Traceback" not in missing.stderr


@pytest.mark.parametrize(("args", "code", "message"), [
    # user errors: exit 2, whatever the command
    (["explain", "--run", "nosuchrun"], 2, "no finished run 'nosuchrun'"),
    (["submit", "--run", "nosuchrun"], 2, "no finished run 'nosuchrun'"),
    (["augment", "-t", "demo", "-a", "nlpaug_keybord"], 2, "Did you mean 'nlpaug_keyboard'"),
    (["new-plugin", "Bad Name", "--kind", "classifier"], 2, "must be lower-case letters and digits"),
    (["leaderboard", "-t", "demo"], 2, "no finished runs under results"),
    (["run", "-t", "demo"], 2, "give --variant NAME"),
    # failures: exit 1
    (["setup-data", "--dir", "n", "--wordnet-dir", "none"], 1, "apt-get install wordnet-base"),
])
def test_exit_codes_are_the_same_for_every_command(tmp_path: Path, args: list[str], code: int, message: str) -> None:
    """2: the input is wrong; 1: the work failed (README 'Exit codes'); one line, no traceback."""
    result = subprocess.run([sys.executable, "-m", "alexbench", *args], capture_output=True, text=True, cwd=tmp_path,
                            timeout=300, check=False)
    assert result.returncode == code, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if "error" in line.lower()]) == 1


@pytest.mark.parametrize(("option", "message"), [
    (["--seeds", "1,x"], "'x' is not a seed or a range of seeds; give whole numbers from 0"),
    (["--seeds", "-1"], "'-1' is not a seed"),
    (["--seeds", "1,-1"], "'-1' is not a seed"),
    (["--seeds", "5-3"], "'5-3' is an empty range"),
    (["--seeds", "1,1"], "seed 1 is given twice"),
    (["--seeds", "4294967296"], "seeds are whole numbers from 0 to 4294967295"),
    (["--seeds", ""], "'' is not a seed"),
    (["--device", "bogus"], "device must be auto, cpu, cuda or cuda:N, got 'bogus'"),
    (["--device", "cuda:x"], "device must be auto, cpu, cuda or cuda:N, got 'cuda:x'"),
])
def test_bad_run_options_are_usage_errors_before_any_work(tmp_path: Path, option: list[str], message: str) -> None:
    result = alexbench("run", "-t", "demo", "-v", "majority", "--no-progress", *option, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "results").exists()


def test_grid_options_and_study_seeds_are_checked(tmp_path: Path) -> None:
    workers = alexbench("grid", "demo-baselines", "--workers", "0", cwd=tmp_path)
    assert workers.returncode == 2 and "--workers" in workers.stderr and "0 is not in the range x>=1" in workers.stderr
    device = alexbench("grid", "demo-baselines", "--device", "gpu", cwd=tmp_path)
    assert device.returncode == 2 and "got 'gpu'" in device.stderr
    study = tmp_path / "s.toml"
    study.write_text('[study]\nname = "s"\ntasks = ["demo"]\nvariants = ["majority"]\nseeds = [1, -1]\n')
    negative = alexbench("grid", str(study), cwd=tmp_path)
    assert negative.returncode == 2 and f"{study}: study.seeds[1]: seeds are whole numbers from 0" in negative.stderr
    assert not (tmp_path / "results").exists()


def test_device_cuda_without_a_gpu_is_refused_up_front(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    result = alexbench("run", "-t", "demo", "-v", "majority", "--device", "cuda", cwd=tmp_path)
    assert result.returncode == 2 and "device 'cuda' requested but CUDA is not available" in result.stderr


def test_submit_and_explain_find_a_task_given_by_path(tmp_path: Path, tiny_task_file: Path) -> None:
    """A run of a task given by path (-t path/to/task.toml) records the task file: submit and
    explain find it there; when it is gone they say so (explain still shows the verdicts) and
    --task names it."""
    from .conftest import REPO

    prompts = REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "prompts" / "demo.toml"
    study = tmp_path / "s.toml"
    study.write_text(f'[study]\nname = "s"\ntasks = ["{tiny_task_file}"]\nvariants = ["checked"]\nseeds = [1]\n'
                     '[variants.checked]\nextends = "majority"\n'  # predicts "0" only: nothing is sent to the LLM
                     f'explainer = {{ name = "llm", params = {{ model = "openai/none", api_base = "http://127.0.0.1:9/v1", '
                     f'prompts = "{prompts}" }} }}\n')
    grid = alexbench("grid", str(study), "--no-progress", "--bootstrap", "20", cwd=tmp_path)
    assert grid.returncode == 0, grid.stderr
    run_dir = next((tmp_path / "results" / "runs" / "tiny" / "checked").iterdir())
    assert json.loads((run_dir / "provenance.json").read_text())["task_file"] == str(tiny_task_file)

    submit = alexbench("submit", "--run", str(run_dir), "--out", "subs", cwd=tmp_path)
    assert submit.returncode == 0, submit.stderr
    assert (tmp_path / "subs" / "tiny" / run_dir.name / "prediction_tiny.zip").is_file()
    shown = alexbench("explain", "--run", str(run_dir), "--all", "--json", cwd=tmp_path)
    assert shown.returncode == 0 and "note:" not in shown.stderr, shown.stderr
    rows = [json.loads(line) for line in shown.stdout.splitlines()]
    assert len(rows) == 6 and all(r["text"] and r["text"].endswith(" today") for r in rows)

    moved = tmp_path / "elsewhere" / "tiny.toml"
    moved.parent.mkdir()
    tiny_task_file.rename(moved)
    (tiny_task_file.parent / "data").rename(moved.parent / "data")
    lost = alexbench("explain", "--run", str(run_dir), "--all", "--json", cwd=tmp_path)
    assert lost.returncode == 0, lost.stderr
    assert f"note: post texts not shown: task 'tiny' is not in the task folders and its task file {tiny_task_file} " \
           "is not there: give it with --task path/to/task.toml" in lost.stderr
    assert all(json.loads(line)["text"] is None for line in lost.stdout.splitlines())
    found = alexbench("explain", "--run", str(run_dir), "--all", "--json", "--task", str(moved), cwd=tmp_path)
    assert found.returncode == 0 and all(json.loads(line)["text"] for line in found.stdout.splitlines())
    no_task = alexbench("submit", "--run", str(run_dir), "--out", "subs2", cwd=tmp_path)
    assert no_task.returncode == 2 and "give it with --task path/to/task.toml" in no_task.stderr
    assert alexbench("submit", "--run", str(run_dir), "--out", "subs2", "-t", str(moved), cwd=tmp_path).returncode == 0
    wrong = alexbench("submit", "--run", str(run_dir), "-t", "demo", cwd=tmp_path)
    assert wrong.returncode == 2 and "is task 'demo', but the run is a run of task 'tiny'" in wrong.stderr


def test_run_takes_ad_hoc_parameters_and_a_variants_file(tmp_path: Path) -> None:
    """-p COMPONENT.KEY=VALUE gives one run a parameter (a variant of its own on the leaderboard);
    -v takes a variants file, whose variants may extend the built-in ones."""
    (tmp_path / "mine.toml").write_text('[variants.tfidf-c1]\nextends = "tfidf"\nclassifier = { params = { C = 1 } }\n'
                                        '[variants.mine-majority]\nclassifier = { name = "majority" }\n')
    result = alexbench("--results", "r", "run", "-t", "demo", "-v", "mine.toml", "-v", "tfidf", "-p",
                       "tfidf_logreg.class_weight=balanced", "-p", "tfidf_logreg.C=0.5", "--no-progress",
                       "--out", "lb", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {r["variant"]: r for r in json.loads((tmp_path / "lb" / "demo.json").read_text())["rows"]}
    ours = "[tfidf_logreg.class_weight=balanced,tfidf_logreg.C=0.5]"
    assert set(rows) == {f"tfidf-c1{ours}", f"tfidf{ours}", "mine-majority"}
    assert rows[f"tfidf-c1{ours}"]["components"]["classifier"]["params"]["C"] == 0.5
    assert rows[f"tfidf{ours}"]["components"]["classifier"]["params"]["class_weight"] == "balanced"
    for args, message in ((["-v", "tfidf", "-p", "C=1"], "-p 'C=1': expected COMPONENT.KEY=VALUE"),
                          (["-v", "tfidf", "-p", "explainer.model=x"], "-p explainer.model=x: no such component in "
                           "the variant(s) tfidf; COMPONENT is one of: classifier, tfidf_logreg"),
                          (["-v", "tfidf", "-p", "classifier.Cc=1"], "has no parameter 'Cc'. Did you mean 'C'?"),
                          (["-v", "tfidf", "-p", "classifier.C=big"], "parameter 'C' expects a positive number, got 'big'"),
                          (["-v", "missing.toml"], "missing.toml: file not found")):
        bad = alexbench("--results", "r", "run", "-t", "demo", *args, "--no-progress", cwd=tmp_path)
        assert bad.returncode == 2 and message in " ".join(bad.stderr.split()), (args, bad.stderr)
