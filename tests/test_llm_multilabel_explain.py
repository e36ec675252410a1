"""``alexbench explain`` on a multi-label run (issue 18): one row per (post, label asked about)
with that label's verdict and reason, and ``--reasons`` asking the local Gemma-3-270M afterwards
about each kept label, exactly as the judge asked it, cached and never written into the run. The
judge's removal precision is in the JSON leaderboard only."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from alexbench.cli.explain import explain
from alexbench.config.tasks import TaskSpec
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.interfaces import split_labels
from alexbench.plugin.host import PluginHost
from alexbench.report import leaderboard as lb
from alexbench.run.explanations import explained_rows
from alexbench.run.runner import Runner

from .test_llm_multilabel import PLUGIN, vc  # noqa: F401 - the fixture and the classifier's plugin


def cache_rows(store) -> list[tuple[str, dict]]:
    with sqlite3.connect(store.cache_dir / "llm" / "responses.sqlite") as db:
        return [(h, json.loads(p)) for h, p in db.execute("SELECT prompt_hash, params FROM responses")]


def cli(store, run, *args: str) -> list[dict]:
    got = CliRunner().invoke(explain, ["--run", run.path.name.rsplit("-", 1)[1], "--results", str(store.root),
                                       "--no-text", *args])
    assert got.exit_code == 0, got.output
    return [json.loads(line) for line in got.output.splitlines()] if "--json" in args else got.output


@pytest.mark.slow
def test_explain_shows_and_asks_each_label_of_a_multi_label_run(store, vc: TaskSpec) -> None:  # noqa: F811
    """Three test posts, each predicted with its gold concerns plus the two rarest (6 to 8
    questions), judged by P(false) against a fixed threshold between the scores the judge gives
    them: the removed labels carry the reason the judge generated; the kept ones get theirs from
    ``--reasons``, asked with the verdict fixed to true and the same prompt as the question (its
    stored prompt hash)."""
    runner = Runner(PluginHost(plugins=[("rare-concerns", PLUGIN)]), store, show_progress=False)
    clf = ComponentSpec("rare_concerns", {"n": 3})
    # The scores depend on the kernels llama.cpp was built with (docs/explainers.md): a first run
    # that removes nothing gives them (cached), and the threshold goes between the two middle ones,
    # so the judged run removes some labels and keeps others whatever the build.
    scout = runner.run(vc, VariantSpec("rare3+llm-scout", clf, (), ComponentSpec(
        "llm", {"model": "local/gemma-3-270m", "verdict": "score", "threshold": 1.0})), seed=0).run
    scores = sorted(r["p_false_norm"] for e in scout.explanations() if e["status"] != "not_sent"
                    for r in e["details"]["labels"])
    middle = len(scores) // 2
    assert scores[middle - 1] < scores[middle], scores
    params = {"model": "local/gemma-3-270m", "verdict": "score", "threshold": (scores[middle - 1] + scores[middle]) / 2}
    variant = VariantSpec("rare3+llm-score", clf, (), ComponentSpec("llm", params))
    run = runner.run(vc, variant, seed=0).run
    sent = [e for e in run.explanations() if e["status"] != "not_sent"]
    records = {(e["post_id"], r["label"]): (e, r) for e in sent for r in e["details"]["labels"]}
    assert len(sent) == 3 and len(records) >= 6
    gold = {r["id"]: r["gold"] for r in run.predictions() if r["split"] == "test"}

    rows = explained_rows(run)
    assert [(r["id"], r["label"]) for r in rows] == list(records)  # posts in order, labels in task order
    for row in rows:
        e, record = records[row["id"], row["label"]]
        assert (row["classifier"], row["final"], row["gold"]) == (e["old_label"], e["new_label"], gold[row["id"]])
        assert (row["status"], row["verdict"], row["reason"], row["error"]) == \
            (record["status"], record["verdict"], record["reason"], record["error"])
        assert row["flipped"] is record["removed"] and row["kept_by_empty_rule"] is False  # the task has "none"
        assert row["fixed"] is (record["removed"] and row["label"] not in split_labels(gold[row["id"]]))
        assert bool(row["reason"]) is row["flipped"]  # score mode: reasons of removals only
    removed = [r for r in rows if r["flipped"]]
    kept = {(r["id"], r["label"]) for r in rows if r["status"] == "ok" and r["verdict"]}
    assert removed and kept, rows
    assert [(r["id"], r["label"]) for r in explained_rows(run, only_flips=True)] == \
        [(r["id"], r["label"]) for r in removed]
    with_not_sent = explained_rows(run, include_not_sent=True)
    assert [r for r in with_not_sent if r["label"] is None] and all(
        r["status"] == "not_sent" for r in with_not_sent if r["label"] is None)

    # the command line: JSON lines carry the label; the table has a label column
    rows = [{**row, "text": None} for row in rows]  # --no-text
    assert cli(store, run, "--json") == rows
    table = cli(store, run)
    assert "(post, label) questions" in table and " label " in table

    # --reasons: asked about each kept label only, with that question's prompt; cached
    before = (run.path / "explanations.jsonl").read_bytes()
    cached_before = cache_rows(store)
    asked = cli(store, run, "--json", "--reasons")
    for got, row in zip(asked, rows, strict=True):
        if (row["id"], row["label"]) in kept:
            assert got["reason_generated"] is True and isinstance(got["reason"], str)
            assert {k: v for k, v in got.items() if k not in ("reason", "reason_generated")} == \
                {k: v for k, v in row.items() if k != "reason"}
        else:
            assert got == row  # the stored reason of a removal is shown as stored
    assert any(r["reason"] for r in asked if r.get("reason_generated"))
    new = [entry for entry in cache_rows(store) if entry not in cached_before]
    assert len(new) == len(kept) and all(params["kind"] == "reason-true" for _, params in new)
    assert sorted(h for h, _ in new) == sorted(records[r["id"], r["label"]][1]["prompt_hash"] for r in rows
                                               if (r["id"], r["label"]) in kept)
    assert (run.path / "explanations.jsonl").read_bytes() == before  # never written into the run
    assert cli(store, run, "--json", "--reasons") == asked and len(cache_rows(store)) == len(cached_before) + len(new)

    # the JSON leaderboard (only) has the judge's per-label removals and their precision
    wrong = [r for r in rows if r["flipped"] and r["label"] not in split_labels(r["gold"])]
    (board,) = lb.build(store)
    row = next(r for r in json.loads(lb.to_json(board))["rows"] if r["variant"] == "rare3+llm-score")["explainer"]
    assert row["label_questions"]["mean"] == len(rows) and row["label_removals"]["mean"] == len(removed)
    assert row["label_removals_right"]["mean"] == len(wrong)
    assert row["removal_precision"]["mean"] == pytest.approx(len(wrong) / len(removed))
    assert "removal" not in lb.to_csv(board) and "removal" not in lb.to_markdown(board)
