"""Shared fixtures: real task files and data written to a temporary folder, a real plugin host."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from alexbench.config.tasks import TaskSpec, load_task
from alexbench.plugin.host import PluginHost
from alexbench.run.store import ResultsStore

REPO = Path(__file__).resolve().parents[1]

# Third-party plugin packages the tests install into throw-away venvs (tests/test_plugin_authoring.py):
# their own tests run there, where they are installed, never in this session.
collect_ignore = ["packages"]
SHARED_DATA = Path(os.environ.get("ALEXBENCH_SHARED_DATA", REPO.parent / "shared" / "data"))

TINY_TASK = """
[task]
name = "tiny"
title = "Tiny test task"
data_dir = "data"

[columns]
id = "tweet_id"
text = "text"
label = "label"

[splits.train]
file = "train.tsv"
[splits.dev]
file = "dev.tsv"
[splits.test]
file = "test.tsv"

[labels]
values = ["0", "1"]
positive = "1"

[metric]
official = "f1_positive"

[submission]
file = "prediction_tiny.tsv"
id_column = "tweet_id"
label_column = "label"
"""

POSITIVE = ["tested positive for covid today", "my pcr came back positive", "doctor says I have covid",
            "admitted to hospital with covid", "positive lateral flow this morning", "covid test positive ugh",
            "I got covid, isolating now", "diagnosed with covid yesterday"]
NEGATIVE = ["cases are rising in the city", "my mum tested positive", "negative test, phew",
            "wear a mask on the bus", "vaccine appointment booked", "lockdown again next week",
            "news report on hospital capacity", "hope I never get covid", "school closed for the week",
            "the government announced new rules", "stats look bad this month", "bought more hand gel",
            "long queue at the testing centre", "my flatmate has a cold", "working from home again",
            "covid numbers dropped in march"]


def write_rows(path: Path, rows: list[tuple[str, str, str]], header: str = "tweet_id\ttext\tlabel") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "\n" + "".join(f"{a}\t{b}\t{c}\n" for a, b, c in rows), encoding="utf-8")


def make_tiny_task(root: Path) -> Path:
    """A real task folder: task.toml plus train/dev/test TSVs (binary, imbalanced 1:2)."""
    task_file = root / "tiny" / "task.toml"
    task_file.parent.mkdir(parents=True, exist_ok=True)
    task_file.write_text(TINY_TASK, encoding="utf-8")
    data = task_file.parent / "data"
    rows = [(f"p{i}", t, "1") for i, t in enumerate(POSITIVE)] + [(f"n{i}", t, "0") for i, t in enumerate(NEGATIVE)]
    train = [r for i, r in enumerate(rows) if i % 4 != 0]
    heldout = [r for i, r in enumerate(rows) if i % 4 == 0]
    write_rows(data / "train.tsv", train)
    write_rows(data / "dev.tsv", [(f"d{a}", f"{b} again", c) for a, b, c in heldout])
    write_rows(data / "test.tsv", [(f"t{a}", f"{b} today", c) for a, b, c in heldout])
    return task_file


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
