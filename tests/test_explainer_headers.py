"""The explainer columns are named after the board's explainer (issue 30, item 7): the LLM judge's
board keeps its headers (``llm sent``, HTML and LaTeX ``LLM sent``), a rule-based explainer's board
says its name (``third_party_veto sent``), a board whose rows have different explainers says
``explainer sent``; the CSV and JSON keys (``explainer_<key>``) are the same for all three. Built
from real runs: the LLM explainer answers through a real OpenAI-style HTTP server on 127.0.0.1."""

from __future__ import annotations

import html
import io
import json
import os

import pytest
from rich.console import Console

from alexbench.config.tasks import load_task
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.plugin.host import PluginHost
from alexbench.report import leaderboard as lb
from alexbench.report.htmlpage import render_html
from alexbench.report.latex import to_latex
from alexbench.run.runner import Runner
from alexbench.run.store import ResultsStore

from .conftest import REPO
from .leaderboard_runs import PLUGIN
from .test_llm_client import DEMO_PROMPTS, ScriptedServer, rule_reply
from .test_report_columns import html_heads, latex_heads, markdown_heads

BALANCED = {"class_weight": "balanced"}
KEY_ENV = "ALEXBENCH_TEST_HEADERS_KEY"
# The committed boards' headers (the scripted model has no price: no $/1k column here).
LLM_HEADS = ["llm sent", "llm flips", "llm flip_precision", "llm unparsable_rate"]
LLM_TYPESET = ["LLM sent", "LLM flips", "flip precision", "unparsable"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> ResultsStore:
    """Runs on the demo task: the LLM judge (through the scripted server), the rule-based veto and a
    baseline without an explainer, two seeds each."""
    root = tmp_path_factory.mktemp("explainer-headers")
    server = ScriptedServer(rule_reply)
    os.environ[KEY_ENV] = "sk-scripted-not-a-key"
    try:
        store = ResultsStore(root / "results")
        runner = Runner(PluginHost(plugins=[("veto", PLUGIN)], disabled=[], trace=False), store, show_progress=False)
        task = load_task(REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml")
        llm = ComponentSpec("llm", {"model": "openai/scripted", "api_base": server.url, "api_key_env": KEY_ENV,
                                    "prompts": DEMO_PROMPTS, "backoff_s": 0.01})
        for variant in (VariantSpec("tfidf-balanced", ComponentSpec("tfidf_logreg", BALANCED)),
                        VariantSpec("tfidf-balanced+llm", ComponentSpec("tfidf_logreg", BALANCED), explainer=llm),
                        VariantSpec("tfidf-balanced+veto", ComponentSpec("tfidf_logreg", BALANCED),
                                    explainer=ComponentSpec("third_party_veto"))):
            for seed in (1, 2):
                assert runner.run(task, variant, seed).ok
        assert server.requests  # the judge was asked, for real
    finally:
        server.close()
        del os.environ[KEY_ENV]
    return store


def board_of(store: ResultsStore, *variants: str) -> lb.Leaderboard:
    (board,) = lb.build(store, variants=variants, baseline="tfidf-balanced", metrics=PluginHost().metrics, n_boot=50)
    return board


def headers(board: lb.Leaderboard) -> dict[str, list[str]]:
    """The explainer columns' headers in every table format (the last columns of each)."""
    md, tex, page = lb.to_markdown(board), to_latex(board), render_html([board])
    buf = io.StringIO()
    Console(file=buf, width=1000, color_system=None).print(lb.to_rich(board))
    term = next(line for line in buf.getvalue().splitlines() if line.startswith("┃"))
    files = sum(c.group == "explainer" for c in lb.build_table(board).columns)
    shown = sum(c.group == "explainer" for c in lb.build_table(board, machine=True).columns)
    return {"markdown": markdown_heads(md)[-files:], "latex": latex_heads(tex)[-files:],
            "html": html_heads(page, board.task)[-files:],
            "terminal": [c.strip() for c in term.strip("┃").split("┃")][-shown:]}


def test_the_llm_judges_board_keeps_its_headers(store) -> None:
    heads = headers(board_of(store, "tfidf-balanced", "tfidf-balanced+llm"))
    assert heads["markdown"] == LLM_HEADS and heads["terminal"] == LLM_HEADS + ["llm p50 s", "llm p95 s"]
    assert heads["html"] == LLM_TYPESET
    assert heads["latex"] == ["LLM sent", "LLM flips", "flip prec.", "unparsable"]


def test_a_rule_based_explainers_board_says_its_name(store) -> None:
    heads = headers(board_of(store, "tfidf-balanced", "tfidf-balanced+veto"))
    assert heads["markdown"] == heads["terminal"] == ["third_party_veto sent", "third_party_veto flips",
                                                      "third_party_veto flip_precision",
                                                      "third_party_veto unparsable_rate"]
    assert heads["html"] == ["third_party_veto sent", "third_party_veto flips", "flip precision", "unparsable"]
    assert heads["latex"] == [r"third\_party\_veto sent", r"third\_party\_veto flips", "flip prec.", "unparsable"]
    assert not any("llm" in h.lower() for h in sum(heads.values(), []))


def test_a_board_mixing_explainers_names_them_neutrally(store) -> None:
    board = board_of(store, "tfidf-balanced", "tfidf-balanced+llm", "tfidf-balanced+veto")
    heads = headers(board)
    assert heads["markdown"] == ["explainer sent", "explainer flips", "explainer flip_precision",
                                 "explainer unparsable_rate"]
    assert heads["terminal"] == heads["markdown"] + ["explainer p50 s", "explainer p95 s"]
    assert heads["html"] == ["explainer sent", "explainer flips", "flip precision", "unparsable"]
    assert heads["latex"] == ["explainer sent", "explainer flips", "flip prec.", "unparsable"]
    # the hover text says which explainers the rows have
    assert html.escape("different explainers (llm, third_party_veto)") in render_html([board])


def test_the_csv_and_json_keys_do_not_depend_on_the_explainer(store) -> None:
    boards = [board_of(store, "tfidf-balanced", "tfidf-balanced+llm"),
              board_of(store, "tfidf-balanced", "tfidf-balanced+veto"),
              board_of(store, "tfidf-balanced", "tfidf-balanced+llm", "tfidf-balanced+veto")]
    heads = {lb.to_csv(b).splitlines()[0] for b in boards}
    assert len(heads) == 1 and "explainer_sent_mean,explainer_sent_std,explainer_flips_mean" in heads.pop()
    for board in boards:
        rows = [r for r in json.loads(lb.to_json(board))["rows"] if r["explainer"]]
        assert rows and all({"sent", "flips", "flip_precision"} <= set(r["explainer"]) for r in rows)
