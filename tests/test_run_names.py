"""Names that become path parts (issue 30, items 15 and 12): a variant named ``..`` or ``.``, with a
separator or too long for a folder name, a ``-p`` list that makes the name too long, and an
overlong task name are refused with exit 2 and one line naming the file and field (or the
variant), before anything is written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from alexbench.run.store import ResultsStore


def alexbench(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alexbench", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600, check=False)


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


@pytest.mark.parametrize(("name", "field", "expected"), [
    ("..", 'variants."..": the variant name', "must not be empty, '.' or '..'"),
    (".", 'variants.".": the variant name', "must not be empty, '.' or '..'"),
    ("a/b", 'variants."a/b": the variant name', "must not contain '/'"),
    ("v" * 256, f"variants.{'v' * 256}: the variant name", "is 256 bytes long (UTF-8), over the 255"),
])
def test_a_variant_name_that_cannot_name_a_folder_is_refused(tmp_path: Path, name: str, field: str,
                                                             expected: str) -> None:
    variants = tmp_path / "mine.toml"
    variants.write_text(f'[variants."{name}"]\nextends = "tfidf"\n')
    err = _one_line(alexbench("run", "-t", "demo", "-v", str(variants), "--no-progress", cwd=tmp_path))
    assert f"{variants}: {field} {expected}" in err
    assert not (tmp_path / "results" / "runs").exists()


def test_a_study_variant_named_dot_dot_is_refused(tmp_path: Path) -> None:
    study = tmp_path / "study.toml"
    study.write_text('[study]\nname = "s"\ntasks = ["demo"]\nvariants = [".."]\n'
                     '[variants.".."]\nextends = "tfidf"\n')
    err = _one_line(alexbench("grid", str(study), "--no-progress", cwd=tmp_path))
    assert f'{study}: variants."..": the variant name must not be empty' in err
    assert not (tmp_path / "results" / "runs").exists()


def test_a_p_list_too_long_for_a_folder_name_names_the_variant(tmp_path: Path) -> None:
    value = "0." + "5" * 300
    err = _one_line(alexbench("run", "-t", "demo", "-v", "tfidf", "-p", f"classifier.C={value}", "--no-progress",
                              cwd=tmp_path))
    assert (f"variant 'tfidf[classifier.C={value}]' cannot name its results folder: the folder name is 322 bytes "
            "long (UTF-8), over the 255 a folder name may have; give the variant a shorter name") in err
    assert "fewer -p parameters" in err
    assert not (tmp_path / "results" / "runs").exists()


def test_an_overlong_task_name_is_refused(tmp_path: Path, tiny_task_file: Path) -> None:
    text = tiny_task_file.read_text()
    tiny_task_file.write_text(text.replace('name = "tiny"', f'name = "{"t" * 129}"'))
    err = _one_line(alexbench("validate", str(tiny_task_file), cwd=tmp_path))
    assert f"{tiny_task_file}: task.name: must be a name of letters, digits, _ - . not starting with '.', at most " \
           "128 bytes" in err


def test_no_name_leads_a_run_folder_out_of_its_task_folder(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results")
    for name in ("..", ".", "..."):
        folder = store.run_dir("demo", name, 0, "abc")
        assert folder.resolve().parent.parent == (tmp_path / "results" / "runs" / "demo").resolve()
