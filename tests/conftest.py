"""Shared fixtures: real task files and data written to a temporary folder, a real plugin host."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from alexbench.config.tasks import TaskSpec, load_task
from alexbench.data.splits import load_dataset
from alexbench.kit.tasks import task_toml, write_task, write_tsv
from alexbench.plugin.host import PluginHost
from alexbench.run.store import ResultsStore

REPO = Path(__file__).resolve().parents[1]

# Third-party plugin packages the tests install into throw-away venvs (tests/test_plugin_authoring.py):
# their own tests run there, where they are installed, never in this session.
collect_ignore = ["packages"]

# Property tests explore new random inputs on every developer run (that is how they find bugs:
# ":\x85:0" showed that a spacing test asked too much of identical tokens), but CI replays the same
# derandomized examples, so that a submission's result does not depend on the luck of the draw.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
SHARED_DATA = Path(os.environ.get("ALEXBENCH_SHARED_DATA", REPO.parent / "shared" / "data"))

#: The tiny task's definition (binary, positive "1", with a submission format); TINY_TASK is its
#: task file's text, which tests edit to make bad task files.
TINY = {"name": "tiny", "title": "Tiny test task", "labels": ["0", "1"], "positive": "1", "metric": "f1_positive",
        "submission": "prediction_tiny.tsv"}
TINY_TASK = task_toml(**TINY)

#: Tests write their own TSV files with the kit's writer (``write_rows(path, rows, header)``).
write_rows = write_tsv

POSITIVE = ["tested positive for covid today", "my pcr came back positive", "doctor says I have covid",
            "admitted to hospital with covid", "positive lateral flow this morning", "covid test positive ugh",
            "I got covid, isolating now", "diagnosed with covid yesterday"]
NEGATIVE = ["cases are rising in the city", "my mum tested positive", "negative test, phew",
            "wear a mask on the bus", "vaccine appointment booked", "lockdown again next week",
            "news report on hospital capacity", "hope I never get covid", "school closed for the week",
            "the government announced new rules", "stats look bad this month", "bought more hand gel",
            "long queue at the testing centre", "my flatmate has a cold", "working from home again",
            "covid numbers dropped in march"]


def make_tiny_task(root: Path) -> Path:
    """A real task folder: task.toml plus train/dev/test TSVs (binary, imbalanced 1:2)."""
    rows = [(f"p{i}", t, "1") for i, t in enumerate(POSITIVE)] + [(f"n{i}", t, "0") for i, t in enumerate(NEGATIVE)]
    heldout = [r for i, r in enumerate(rows) if i % 4 == 0]
    splits = {"train": [r for i, r in enumerate(rows) if i % 4 != 0],
              "dev": [(f"d{a}", f"{b} again", c) for a, b, c in heldout],
              "test": [(f"t{a}", f"{b} today", c) for a, b, c in heldout]}
    return write_task(root / "tiny", splits, **TINY)


@pytest.fixture
def tiny_task_file(tmp_path: Path) -> Path:
    return make_tiny_task(tmp_path / "tasks")


@pytest.fixture
def tiny_task(tiny_task_file: Path) -> TaskSpec:
    return load_task(tiny_task_file)


@pytest.fixture
def host() -> PluginHost:
    return PluginHost(disabled=[], trace=False)


@pytest.fixture
def store(tmp_path: Path) -> ResultsStore:
    return ResultsStore(tmp_path / "results")


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED_DATA / "smm4h22_task2_stance" / "train.tsv").is_file():
        pytest.skip(f"public stand-in data not found under {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="module")
def ta():
    """The augment plugin's offline TextAttack (imports TextAttack: only for tests that use it)."""
    from alexbench_augment import ta_offline

    return ta_offline


@pytest.fixture(scope="module")
def demo_positives() -> list[str]:
    """The demo task's positive train posts (real tweets of several lengths)."""
    task = load_task(REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml")
    return [p.text for p in load_dataset(task).train if p.label == "1"]
