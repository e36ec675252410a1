"""The leaderboards the renderer contract draws: real runs of the built-in baselines on the kit's
tiny tasks (binary, three-class, multi-label), built with a baseline and paired significance, and a
copy of each whose names, notes, warnings and published results are made to break formats."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from alexbench.kit.tasks import write_tiny_task

if TYPE_CHECKING:
    from alexbench.plugin.host import PluginHost
    from alexbench.report.board import Leaderboard

BOARD_TASKS = ("binary", "multiclass", "multilabel")
BASELINE = "majority"
SEEDS = (0, 1)
#: Markup of every built-in format, a formula, a terminal escape, BEL, a bidi override and a newline.
HOSTILE = ("\x1b[31mred\x1b[0m <b>bold</b> &amp; | =1+1 \\textbf{x} $_%#{}^~ `code` ![i](http://x.example) "
           "\u202eevil\u202c\x07\nsecond line")


def kit_boards(root: Path, host: PluginHost) -> list[Leaderboard]:
    """Leaderboards of real runs (``majority`` and ``tfidf_logreg``, two seeds) on the tiny tasks,
    in a results store under ``root``, against the ``majority`` baseline."""
    from alexbench.config.tasks import load_task
    from alexbench.config.variants import ComponentSpec, VariantSpec
    from alexbench.report.board import build
    from alexbench.run.runner import Runner
    from alexbench.run.store import ResultsStore

    store = ResultsStore(root / "results")
    runner = Runner(host, store, show_progress=False)
    variants = [VariantSpec(BASELINE, ComponentSpec("majority")), VariantSpec("tfidf", ComponentSpec("tfidf_logreg"))]
    for kind in BOARD_TASKS:
        task = load_task(write_tiny_task(root / "tasks", kind))
        for variant in variants:
            for seed in SEEDS:
                runner.run(task, variant, seed)
    return build(store, baseline=BASELINE, metrics=host.metrics, n_boot=200)


def hostile(board: Leaderboard) -> Leaderboard:
    """``board`` with :data:`HOSTILE` in every variant name, the baseline, a note, a warning and a
    published result (name, source and note): what a format must escape."""
    from alexbench.config.tasks import Reference

    def named(name: str) -> str:
        return f"{name} {HOSTILE}"

    return dataclasses.replace(
        board, rows=[dataclasses.replace(row, variant=named(row.variant)) for row in board.rows],
        baseline=named(board.baseline) if board.baseline else None, notes=[*board.notes, HOSTILE],
        warnings=[*board.warnings, HOSTILE], references=[*board.references, Reference(HOSTILE, 0.5, HOSTILE, note=HOSTILE)])
