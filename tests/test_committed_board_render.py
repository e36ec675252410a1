"""The committed demo board, rebuilt from its own JSON (``Leaderboard.to_dict``), renders to its
committed Markdown, CSV and LaTeX byte for byte: escaping text from the data (issue 30) and naming
the explainer columns after the explainer change nothing for ordinary names. (The fresh-clone test,
tests/test_clean_checkout.py, reruns the whole main job; this one takes a second.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from alexbench.config.tasks import Reference
from alexbench.report import leaderboard as lb
from alexbench.report.board import Leaderboard, Row, Stat
from alexbench.report.latex import to_latex
from alexbench.safetext import csv_text, markdown
from alexbench.scoring.significance import Comparison

from .conftest import REPO

#: Boards rendered by the current code (the others were rendered before the latencies left the files).
CURRENT = [REPO / "leaderboards" / "demo" / "demo.json", REPO / "leaderboards" / "alex-ablation" / "demo.json"]


def _stat(data: dict[str, Any]) -> Stat:
    return Stat(list(data["values"]))


def board_from_json(path: Path) -> Leaderboard:
    """A leaderboard as its JSON file holds it: rows, statistics, comparisons, references, notes."""
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = []
    for r in data["rows"]:
        c = r["comparison"]
        rows.append(Row(
            task=r["task"], variant=r["variant"], official_metric=r["official_metric"], seeds=r["seeds"],
            run_ids=r["run_ids"], test_official=_stat(r["test_official"]), dev_official=_stat(r["dev_official"]),
            scalars={k: _stat(v) for k, v in r["test"].items()},
            per_class_f1={k: _stat(v) for k, v in r["test_per_class_f1"].items()},
            explainer={k: _stat(v) for k, v in r["explainer"].items()}, components=r["components"],
            classifier_usage={k: _stat(v) for k, v in r.get("classifier_usage", {}).items()},
            delta=r["delta_vs_baseline"], comparison=Comparison(**{**c, "discordant": tuple(c["discordant"])}) if c
            else None, confusion=r["test_confusion_summed"], provenance=r["provenance"],
            label_counts=r.get("test_label_counts_summed", {}), simulated=r.get("simulated", False)))
    refs = [Reference(x["name"], x["score"], x["source"], x["split"], x["note"]) for x in data["references"]]
    return Leaderboard(data["task"], data["official_metric"], data["labels"], rows, baseline=data["baseline"],
                       notes=data["notes"], references=refs, warnings=data["warnings"],
                       multi_label=data.get("multi_label", False),
                       higher_is_better=data.get("official_higher_is_better", True))


@pytest.mark.parametrize("path", CURRENT, ids=lambda p: p.parent.name)
def test_the_committed_board_renders_byte_identically(path: Path) -> None:
    board = board_from_json(path)
    assert any(r.explainer for r in board.rows)  # its explainer columns (the LLM judge's) are among them
    assert "| llm sent | llm flips |" in lb.to_markdown(board)
    for suffix, render in ((".md", lb.to_markdown), (".csv", lb.to_csv), (".tex", to_latex)):
        assert render(board) == path.with_suffix(suffix).read_text(encoding="utf-8"), suffix


#: Every committed board, whatever code rendered it.
COMMITTED = sorted(p for p in (REPO / "leaderboards").glob("*/*.json") if "rows" in json.loads(p.read_text("utf-8")))


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_no_committed_board_changes_at_its_next_render(path: Path) -> None:
    """Escaping (Markdown, CSV) leaves every text of the committed boards as it is, and their
    explainer columns keep the LLM judge's headers: the new rules change none of them. (The boards
    but the demo's were rendered before the machine's latencies left the files: their next render
    drops those columns, an older change.)"""
    board = board_from_json(path)
    texts = [board.task, board.official_metric, *board.labels, *(r.variant for r in board.rows), board.baseline or "",
             *board.notes, *board.warnings, *(x for ref in board.references for x in (ref.name, ref.source, ref.note))]
    assert texts and all(markdown(t) == t and csv_text(t) == t for t in texts if t)
    heads = [c.header for c in lb.build_table(board).columns if c.group == "explainer"]
    assert heads and all(h.startswith("llm ") for h in heads)
