"""Markdown and CSV injection (issue 30, item 16): text from the data (variant, label, task and
reference names, notes and warnings, a sweep's sections) is escaped for each format. The Markdown
files are rendered by a real CommonMark + GFM-tables renderer (markdown-it-py, rich's own): no
HTML, image or link comes out of them, no row is split by a newline, and each cell reads as the
name. CSV text cells are never spreadsheet formulas, while numbers (``-0.389``) are written as they
are. Built from real runs on a task whose labels are markup, with variants named like attacks."""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import json
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from alexbench.config.studies import load_study
from alexbench.config.sweeps import expand
from alexbench.config.tasks import Reference, load_task
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.kit.tasks import write_task
from alexbench.plugin.host import PluginHost
from alexbench.report import leaderboard as lb
from alexbench.report import sweep, sweep_tables
from alexbench.run.runner import Runner
from alexbench.run.store import ResultsStore
from alexbench.safetext import csv_text, terminal

from .test_sweeps import make_task, variants_of

SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="alert(1)">'
PIXEL = "![seen](http://tracker.example/p.png)"
LINK = "[click me](http://phish.example)"
ENTITY = "&lt;b&gt; as written"
NEWLINE = "two\nlines | and a pipe"
FORMULAS = ['=HYPERLINK("http://x.example","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\t=1+1"]
NUMBER = "-1"  # a name that is a number stays as it is
#: A variant file refuses control characters in names (they name folders): a study's names can
#: still hold the Markdown table's own separator and a formula's first character.
PIPE = "=a | pipe and <b>bold"
NAMES = [SCRIPT, IMG, PIXEL, LINK, ENTITY, NEWLINE, *FORMULAS, NUMBER]
LABELS = ["<b>no</b>", "yes & <i>sure</i>"]
REFS = [Reference(SCRIPT, 0.5, f"Proc. {PIXEL}", note="=1+2"), Reference("Team <X> & co", 0.25, "a paper")]
ALLOWED_TAGS = {"h2", "h3", "p", "table", "thead", "tbody", "tr", "th", "td", "code", "em", "strong", "blockquote",
                "ul", "li"}


class Tags(HTMLParser):
    """The tags of rendered HTML, and the text of each table row's cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def rendered(markdown: str) -> Tags:
    tags = Tags()
    tags.feed(MarkdownIt("commonmark").enable("table").render(markdown))
    return tags


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> lb.Leaderboard:
    """Every attack name as a variant of the majority baseline, against a TF-IDF baseline, on a
    task whose labels are markup; a published result and a warning full of markup too."""
    root = tmp_path_factory.mktemp("escaping")
    rows = [(f"p{i}", f"fever cough positive test {i}", LABELS[1]) for i in range(8)]
    rows += [(f"n{i}", f"weather football lunch {i}", LABELS[0]) for i in range(16)]
    task = load_task(write_task(root / "tasks" / "markup", {"train": rows, "dev": rows[::3], "test": rows[1::2]},
                                name="markup", labels=LABELS, positive=LABELS[1], metric="f1_positive"))
    store = ResultsStore(root / "results")
    runner = Runner(PluginHost(), store, show_progress=False)
    for name in ["tfidf", *NAMES]:
        classifier = ComponentSpec("tfidf_logreg" if name == "tfidf" else "majority")
        assert runner.run(task, VariantSpec(name, classifier), 1).ok
    (built,) = lb.build(store, baseline="tfidf", metrics=PluginHost().metrics, n_boot=50)
    return dataclasses.replace(built, references=REFS, warnings=[f"the rows of {IMG} do not compare"])


def test_markdown_holds_no_html_image_or_link_and_every_name_reads_as_written(board) -> None:
    md = lb.to_markdown(board)
    page = rendered(md)
    assert page.tags <= ALLOWED_TAGS, page.tags - ALLOWED_TAGS  # no script, img, a: the names are text
    head, *body = page.rows
    assert len(body) == len(board.rows) + len(board.references)  # the newline split no row
    assert all(len(cells) == len(head) for cells in body)  # the "|" ended no cell
    assert [cells[0] for cells in body[:len(board.rows)]] == [terminal(r.variant) for r in board.rows]
    assert [cells[0] for cells in body[len(board.rows):]] == [f"{r.name} †" for r in REFS]
    assert "F1[<b>no</b>]" in head and "F1[yes & <i>sure</i>]" in head  # labels, as text
    assert "two\\nlines | and a pipe" in {cells[0] for cells in body}  # the newline shown, as in the terminal
    # the footnotes and the warning: as text
    text = html.unescape(MarkdownIt("commonmark").render(md))
    assert f"Proc. {PIXEL}" in text and f"the rows of {IMG} do not compare" in text


def test_markdown_escapes_only_what_would_be_markup(board) -> None:
    """Escaping touches only what would be markup: ordinary cells are written as they are."""
    md = lb.to_markdown(board)
    assert "| tfidf | 1 |" in md and "F1[&lt;b&gt;no&lt;/b&gt;]" in md and "Team &lt;X&gt; & co" in md
    assert "`f1_positive`" in md and md.startswith("## markup\n")


def test_csv_text_cells_are_never_formulas_and_numbers_are_kept(board) -> None:
    text = lb.to_csv(board)
    head, *rows = list(csv.reader(io.StringIO(text)))
    cells = {name: dict(zip(head, row)) for name, row in zip([r.variant for r in board.rows] + [r.name for r in REFS],
                                                              rows)}
    for name in FORMULAS:
        assert cells[name]["variant"] == "'" + terminal(name, multiline=True)
        assert cells[name]["delta"].startswith("-")  # a number, below the baseline: as it is
    for name in (SCRIPT, IMG, NUMBER, NEWLINE):
        assert cells[name]["variant"] == name  # not a formula: as written (CSV quotes the newline)
    assert cells[SCRIPT]["reference_note"] == "'=1+2" and cells[SCRIPT]["kind"] == "reference"
    assert cells["tfidf"]["test_official_mean"] == f"{board.rows[0].test_official.mean:.6f}"
    # the JSON keeps every name exactly
    assert [r["variant"] for r in json.loads(lb.to_json(board))["rows"]] == [r.variant for r in board.rows]


def test_the_csv_rule(board) -> None:
    assert [csv_text(v) for v in ("=1", "+1", "-0.389", "+2", "1e-3", "-", "@", "a=b", "-x")] == [
        "'=1", "+1", "-0.389", "+2", "1e-3", "'-", "'@", "a=b", "'-x"]


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> lb.Leaderboard:
    """A swept study (two points) with a variant named like an attack."""
    tmp_path = tmp_path_factory.mktemp("swept")
    task_file = make_task(tmp_path)
    study = tmp_path / "s.toml"
    study.write_text(f"""
[study]
name = "s"
tasks = ["{task_file}"]
variants = ["majority", {json.dumps(IMG)}, {json.dumps(PIPE)}]
seeds = [1]
baseline = "majority"

[study.sweep]
minority_share = ["natural", 0.2]

[variants.{json.dumps(IMG)}]
classifier = {{ name = "majority" }}

[variants.{json.dumps(PIPE)}]
classifier = {{ name = "tfidf_logreg" }}
""")
    host = PluginHost()
    spec = load_study(study, variants_of(host))
    plan = expand(study, spec.sweep, spec.variants, lambda kind, name: host.component_info(kind, name)[1])
    store = ResultsStore(tmp_path / "results")
    runner = Runner(host, store, show_progress=False)
    for cell in plan.cells:
        assert runner.run(load_task(task_file), cell.variant, 1, transform=cell.transform).ok
    (board,) = lb.build(store, baseline="majority", variants=[c.variant.name for c in plan.cells],
                        metrics=host.metrics, n_boot=50)
    sweep.attach([board], plan, [c.base for c in plan.cells if c.is_reference], host.metrics, 50)
    return board


def test_a_sweeps_sections_are_escaped_too(swept) -> None:
    section = "\n".join(sweep_tables.to_markdown(swept.sweeps[0]))
    page = rendered(section)
    assert page.tags <= ALLOWED_TAGS, page.tags - ALLOWED_TAGS
    names = [cells[0] for cells in page.rows if cells and cells[0] not in ("variant", "stage (variant)")]
    assert IMG in names and PIPE in names
    assert all(len(cells) == len(page.rows[0]) for cells in page.rows[:3])
    rows = list(csv.reader(io.StringIO(sweep_tables.to_csv(swept.sweeps))))
    assert all(len(row) == len(rows[0]) for row in rows)
    assert {row[3] for row in rows[1:]} >= {IMG, "'" + PIPE}  # a formula's "=" is neutralised, the rest as written

