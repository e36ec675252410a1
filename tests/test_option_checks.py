"""Command-line options that used to hang or end in a traceback (issue 30, items 12 and 18):
``leaderboard --bootstrap``, ``--seeds``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from alexbench.cli.main import cli


@pytest.fixture(scope="module")
def two_variants(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A results store with majority and tfidf on the tiny task, seeds 1 and 2."""
    from .conftest import make_tiny_task

    root = tmp_path_factory.mktemp("boards")
    task = make_tiny_task(root / "tasks")
    result = CliRunner().invoke(cli, ["--results", str(root / "results"), "run", "-t", str(task), "-v", "majority",
                                      "-v", "tfidf", "--seeds", "1-2", "--no-progress"])
    assert result.exit_code == 0, result.output
    return root / "results", task


@pytest.mark.parametrize("value", ["0", "-5"])
def test_leaderboard_bootstrap_below_one_is_a_usage_error(two_variants: tuple[Path, Path], value: str) -> None:
    results, _ = two_variants
    result = CliRunner().invoke(cli, ["--results", str(results), "leaderboard", "-b", "majority", "--bootstrap", value])
    assert result.exit_code == 2, result.output  # was an IndexError from numpy's percentile of no resamples
    assert f"Invalid value for '--bootstrap': {value} is not in the range x>=1" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_leaderboard_with_one_resample_works(two_variants: tuple[Path, Path]) -> None:
    results, _ = two_variants
    result = CliRunner().invoke(cli, ["--results", str(results), "leaderboard", "-b", "majority", "--bootstrap", "1",
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    assert '"n_boot": 1' in result.output
