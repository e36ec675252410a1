"""The static HTML leaderboard: built from real runs, checked as text and in headless Chromium
(rows, sorting, expandable details, no network, a screenshot)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from alexbench import __version__
from alexbench.report.htmlpage import render_html, write_html
from alexbench.report.leaderboard import Leaderboard

from .leaderboard_runs import NASTY, make_boards

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def boards(tmp_path_factory: pytest.TempPathFactory) -> list[Leaderboard]:
    return make_boards(tmp_path_factory.mktemp("lb"))


def test_page_is_self_contained_and_escapes_user_text(boards, tmp_path) -> None:
    path = write_html(boards, tmp_path / "out" / "index.html", generated_at=WHEN)
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    # Nothing is loaded from anywhere: every src/href is a same-page anchor, no <link>, no external script.
    refs = re.findall(r'\b(?:src|href)\s*=\s*"([^"]*)"', page)
    assert refs and all(r.startswith("#") for r in refs), refs
    assert "<link" not in page and "<script src" not in page and "@import" not in page and "url(" not in page
    # The variant name full of markup is text, not markup.
    assert NASTY not in page and "<img" not in page
    assert 'tfidf &lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; 50%_{C}' in page
    assert "2026-01-02 03:04:05 UTC" in page and f"alexbench {__version__}" in page
    assert render_html(boards, generated_at=WHEN) == page  # same data, same page


def test_page_has_a_table_per_task_and_the_ranking_only_for_several_tasks(boards) -> None:
    demo = next(b for b in boards if b.task == "demo")
    one = render_html([demo], generated_at=WHEN)
    both = render_html(boards, generated_at=WHEN)
    assert "Ranking across" not in one and "Ranking across 2 tasks" in both
    assert one.count('<tbody class="entry"') == len(demo.rows)
    assert both.count('<tbody class="entry"') == sum(len(b.rows) for b in boards)
    assert one.count("<details") == len(demo.rows) and one.count('<figure class="cm">') == len(demo.rows)
    heads = re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', one)
    assert heads[:4] == ["variant", "seeds", "test f1_positive", "Δ vs majority"]
    # the explainer columns, named after the board's explainer (a rule-based one here)
    assert {"F1 [0]", "F1 [1]", "third_party_veto flips", "flip precision"} <= set(heads)
    # Explainer columns only appear when a variant has an explainer.
    no_llm = Leaderboard(demo.task, demo.official_metric, demo.labels, [r for r in demo.rows if not r.explainer],
                         demo.baseline)
    assert "third_party_veto flips" not in render_html([no_llm], generated_at=WHEN)
    # Significance: the best variant's Δ carries the marker its Holm-corrected bootstrap p-value earns.
    best = demo.rows[0]
    assert best.comparison is not None and best.comparison.marker()
    assert f'{best.delta:+.3f}<span class="sig">{best.comparison.marker()}</span>' in one
    # Confusion matrices are the summed counts.
    cm = one.split('<figure class="cm"><figcaption>' + best.variant)[1].split("</figure>")[0]
    assert [int(n) for n in re.findall(r">(\d+)</td>", cm)] == [n for r in best.confusion for n in r]
    assert sum(sum(r) for r in best.confusion) == 120 * len(best.seeds)


def test_empty_page_says_what_to_do(tmp_path) -> None:
    page = write_html([], tmp_path / "index.html", generated_at=WHEN).read_text()
    assert "No finished runs yet" in page and "alexbench demo" in page


# ------------------------------------------------------------------------------------------ browser


@pytest.fixture
def driver(tmp_path, monkeypatch):
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip(f"headless browser test needs Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER})")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must never try to download a driver
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1600,1000", f"--user-data-dir={tmp_path / 'chrome-profile'}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    drv = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield drv
    drv.quit()


def _order(table) -> list[str]:
    return [tb.get_attribute("data-variant") for tb in table.find_elements("css selector", "tbody.entry")]


def _header(table, text: str):
    return next(th for th in table.find_elements("css selector", "thead th") if th.get_attribute("textContent") == text)


def test_page_in_headless_chromium(boards, driver, tmp_path) -> None:
    path = write_html(boards, tmp_path / "leaderboards" / "index.html")
    driver.get_log("performance")  # drain what the browser did before our page (its new-tab page)
    driver.get(path.as_uri())
    assert driver.title == "alexbench leaderboards"
    demo = next(b for b in boards if b.task == "demo")
    table = driver.find_element("css selector", 'section[data-task="demo"] table.lb')

    # Rows: one per variant, in the leaderboard's order, names shown literally.
    for board in boards:
        t = driver.find_element("css selector", f'section[data-task="{board.task}"] table.lb')
        assert _order(t) == [r.variant for r in board.rows]
        shown = [s.text for s in t.find_elements("css selector", "tbody.entry summary")]
        assert shown == [r.variant for r in board.rows]
    assert NASTY in _order(table) and driver.find_elements("tag name", "img") == []
    ranking = driver.find_elements("css selector", "#ranking tbody tr")
    assert len(ranking) == len({r.variant for r in demo.rows})

    # Sorting: a numeric header sorts ascending by value, a second click descending (stable).
    initial = _order(table)
    head = _header(table, "test f1_positive")
    head.click()
    ascending = [r.variant for r in sorted(demo.rows, key=lambda r: r.test_official.mean)]
    assert head.get_attribute("aria-sort") == "ascending"
    assert _order(table) == ascending != initial
    head.click()
    by_variant = {r.variant: r for r in demo.rows}
    descending = sorted(ascending, key=lambda v: -by_variant[v].test_official.mean)
    assert head.get_attribute("aria-sort") == "descending" and _order(table) == descending
    # The cells move with their rows (read the official column back after sorting).
    cells = [float(tb.find_elements("css selector", "tr.main td")[1].get_attribute("data-sort"))
             for tb in table.find_elements("css selector", "tbody.entry")]
    assert cells == sorted(cells, reverse=True)
    # A numeric column where the order differs from the official one: accuracy.
    acc = _header(table, "accuracy")
    acc.click()
    assert _order(table) == sorted(descending, key=lambda v: by_variant[v].scalars["accuracy"].mean)
    # Text columns sort by name.
    _header(table, "variant").click()
    assert _order(table) == sorted(initial, key=str.lower)
    head.click()
    head.click()  # back to best first for the screenshot

    # Details: hidden until the variant is clicked; then components and provenance show.
    first = table.find_element("css selector", "tbody.entry")
    detail = first.find_element("css selector", "tr.detail")
    assert not detail.is_displayed()
    first.find_element("css selector", "summary").click()
    assert detail.is_displayed()
    row = by_variant[first.get_attribute("data-variant")]
    assert row.components["classifier"]["name"] in detail.text and row.run_ids[0] in detail.text
    assert "third_party_veto" in detail.text  # the best demo variant is the one with the explainer
    # Hover text on the variant names: its components with their parameters.
    tip = first.find_element("css selector", "summary").get_attribute("title")
    assert "classifier: tfidf_logreg" in tip and 'class_weight="balanced"' in tip

    # The page made no network request: everything the browser fetched was the file itself.
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    assert path.as_uri() in urls
    assert [u for u in urls if urlsplit(u).scheme not in ("file", "data", "chrome", "about")] == []
    assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []

    # Screenshot of the whole page.
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1600, min(height + 140, 6000))
    shot = tmp_path / "leaderboard.png"
    assert driver.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    if os.environ.get("ALEXBENCH_SCREENSHOT_DIR"):
        out = Path(os.environ["ALEXBENCH_SCREENSHOT_DIR"])
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, out / "leaderboard.png")


def test_published_results_render_as_marked_rows_in_chromium(boards, driver, tmp_path) -> None:
    """A task's [[references]]: their own style, the score in the official column, the source on
    hover and in the detail, sortable with the runs but never given a Δ."""
    import dataclasses

    from alexbench.config.tasks import Reference

    demo = next(b for b in boards if b.task == "demo")
    best = max(r.test_official.mean for r in demo.rows)
    refs = [Reference("Team <X> & co", round(best + 0.05, 3), "Proc. SMM4H 2023, Table 2", note="participant-reported"),
            Reference("Organisers' baseline", 0.05, "Overview paper, Table 1")]
    board = dataclasses.replace(demo, references=refs)
    path = write_html([board], tmp_path / "refs" / "index.html", generated_at=WHEN)
    page = path.read_text(encoding="utf-8")
    assert "Team &lt;X&gt; &amp; co" in page and "<X>" not in page
    driver.get(path.as_uri())
    table = driver.find_element("css selector", 'section[data-task="demo"] table.lb')
    published = table.find_elements("css selector", "tbody.reference")
    assert [tb.get_attribute("data-variant") for tb in published] == [r.name for r in refs]
    top = published[0]
    assert top.find_element("css selector", "tr.main").value_of_css_property("font-style") == "italic"
    summary = top.find_element("css selector", "summary")
    assert summary.text == "Team <X> & co†"
    assert "Proc. SMM4H 2023, Table 2" in summary.get_attribute("title")
    cells = top.find_elements("css selector", "tr.main td")
    assert cells[0].text == "published" and cells[1].text == f"{refs[0].score:g}"
    assert cells[2].text == "–"  # no Δ against the baseline
    summary.click()
    detail = top.find_element("css selector", "tr.detail")
    assert detail.is_displayed() and "participant-reported" in detail.text and "takes no part in Δ" in detail.text
    # Sorted by the official metric, the published rows fall into place among the runs.
    head = _header(table, "test f1_positive")
    head.click()
    head.click()  # descending
    order = _order(table)
    score = {**{r.variant: r.test_official.mean for r in demo.rows}, **{r.name: r.score for r in refs}}
    assert order[0] == refs[0].name and [score[v] for v in order] == sorted(score.values(), reverse=True)
    # The runs themselves are as before: same rows, same Δ.
    assert [r.variant for r in board.rows] == [r.variant for r in demo.rows]
    assert page.count('class="entry reference"') == 2 and "published result, not run here" in page
