"""Terminal escape injection (issue 30, item 17): whatever alexbench prints to a terminal shows the
control characters of data as escapes (``\\x1b``) instead of passing them to the terminal. Post
texts (``explain``), task titles (``tasks``, with a window-title sequence), variant names and
descriptions (``variants``, leaderboards in every format), a plugin's error (``plugins`` and the
warning every command prints) and errors quoting names: run as the real command line, off a
terminal (where rich writes no escape sequence of its own, so any ESC or BEL is the data's) and on
a pseudo-terminal (where only rich's colour sequences may appear)."""

from __future__ import annotations

import ast
import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from alexbench.config.tasks import load_task
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.kit.tasks import write_task
from alexbench.plugin.host import PluginHost
from alexbench.run.runner import Runner
from alexbench.run.store import ResultsStore
from alexbench.safetext import rich_text, terminal

from .conftest import NEGATIVE, POSITIVE, REPO
from .leaderboard_runs import PLUGIN

CLEAR = "\x1b[2J\x1b[H"  # clear the screen, cursor home
TITLE = "\x1b]0;owned\x07"  # set the window title
RED = "\x1b[31m"
C1 = "\x9b31m"  # CSI as one C1 character
BIDI = "\u202e"  # right-to-left override
EVIL = f"{CLEAR}{TITLE}{RED}{C1}{BIDI}"
VARIANT = f"tfidf{RED}-red"
#: A variant file refuses control characters in a name (it names a folder: tests/test_run_names.py);
#: its description may hold them, and a run stored through the API (VARIANT) may be named with them.
VARIANTS = r'''
[variants."tfidf-red"]
classifier = { name = "tfidf_logreg", params = { class_weight = "balanced" } }
description = "a description that clears the screen \u001b[2J\u001b[H and sets the title \u001b]0;owned\u0007"
'''
BROKEN_PLUGIN = 'raise RuntimeError("cannot import \\x1b]0;owned\\x07\\x1b[2J")\n'


def injected(text: str) -> list[str]:
    """The data's control characters in printed text (ESC, BEL, C1 controls, bidi overrides)."""
    return re.findall("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A task folder (a title and test posts full of escape sequences, a variant named and
    described with them), a broken plugin installed for real, and stored runs: the evil variant,
    the majority baseline and the rule-based veto explainer on posts with escape sequences."""
    root = tmp_path_factory.mktemp("terminal")
    rows = [(f"p{i}", t, "1") for i, t in enumerate(POSITIVE)] + [(f"n{i}", t, "0") for i, t in enumerate(NEGATIVE)]
    test = [(f"t{i}", f"{text} {EVIL} breaking", label) for i, (_, text, label) in enumerate(rows[::2])]
    task_file = write_task(root / "tasks" / "evil", {"train": rows, "dev": rows[1::3], "test": test}, name="evil",
                           title=f"Vaccines {EVIL}", labels=["0", "1"], positive="1", metric="f1_positive")
    (root / "tasks" / "evil" / "variants.toml").write_text(VARIANTS, encoding="utf-8")
    site = root / "site"
    (site / "alexbench_evil-1.0.dist-info").mkdir(parents=True)
    (site / "evil_plugin.py").write_text(BROKEN_PLUGIN)
    (site / "alexbench_evil-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: alexbench-evil\n"
                                                                   "Version: 1.0\n")
    (site / "alexbench_evil-1.0.dist-info" / "entry_points.txt").write_text("[alexbench]\nevil = evil_plugin\n")
    store = ResultsStore(root / "results")
    runner = Runner(PluginHost(plugins=[("veto", PLUGIN)], disabled=[], trace=False), store, show_progress=False)
    task = load_task(task_file)
    for variant in (VariantSpec("majority", ComponentSpec("majority")),
                    VariantSpec(VARIANT, ComponentSpec("tfidf_logreg", {"class_weight": "balanced"})),
                    VariantSpec("veto", ComponentSpec("tfidf_logreg", {"class_weight": "balanced"}),
                                explainer=ComponentSpec("third_party_veto"))):
        outcome = runner.run(task, variant, 1)
        assert outcome.ok, outcome
    veto = next((root / "results" / "runs" / "evil" / "veto").iterdir())
    return {"root": root, "task": task_file, "site": site, "veto": veto}


def environment(world: dict[str, Path]) -> dict[str, str]:
    path = os.pathsep.join([str(world["site"]), str(REPO), str(REPO / "plugins"), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "ALEXBENCH_TASK_PATH": str(world["root"] / "tasks"),
            "ALEXBENCH_RESULTS": str(world["root"] / "results"), "COLUMNS": "400"}


def alexbench(world: dict[str, Path], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alexbench", *args], capture_output=True, text=True,
                          env=environment(world), cwd=world["root"], timeout=600)


def test_tasks_shows_a_titles_escape_sequences_as_text(world) -> None:
    out = alexbench(world, "tasks")
    assert out.returncode == 0, out.stderr
    assert not injected(out.stdout) and not injected(out.stderr)
    assert "Vaccines" in out.stdout and r"\x1b[2J\x1b[H\x1b]0;owned\x07" in re.sub(r"\s|│", "", out.stdout)  # the cell may end in "…"


def test_variants_and_every_leaderboard_format(world) -> None:
    out = alexbench(world, "variants")
    assert out.returncode == 0, out.stderr
    assert not injected(out.stdout + out.stderr) and "tfidf-red" in out.stdout
    assert r"\x1b]0;owned\x07" in out.stdout
    for fmt in ("rich", "markdown", "csv", "latex"):
        out = alexbench(world, "leaderboard", "--baseline", "majority", "--format", fmt)
        assert out.returncode == 0, out.stderr
        assert not injected(out.stdout + out.stderr), fmt
    assert r"tfidf\x1b[31m-red" in alexbench(world, "leaderboard").stdout


def test_explain_shows_a_posts_escape_sequences_as_text(world) -> None:
    out = alexbench(world, "explain", "--run", str(world["veto"]), "--all")
    assert out.returncode == 0, out.stderr
    assert not injected(out.stdout + out.stderr)
    assert "breaking" in out.stdout and r"\x1b[2J" in out.stdout and r"\u202e" in out.stdout
    out = alexbench(world, "explain", "--run", str(world["veto"]), "--all", "--json")
    assert out.returncode == 0 and not injected(out.stdout + out.stderr)
    texts = [json.loads(line)["text"] for line in out.stdout.splitlines()]
    assert texts and all(text.endswith(f"{EVIL} breaking") for text in texts)  # the same data, as JSON


def test_a_broken_plugins_error_and_an_error_quoting_names(world) -> None:
    out = alexbench(world, "plugins")
    assert "broken plugin" in out.stdout and "evil" in out.stderr  # listed, and warned about
    assert not injected(out.stdout + out.stderr) and r"\x1b]0;owned\x07" in out.stdout
    out = alexbench(world, "run", "-t", str(world["task"]), "-v", "no-such-variant", "--no-progress")
    assert out.returncode == 2 and "unknown variant 'no-such-variant'" in out.stderr  # Known: lists the evil one
    assert not injected(out.stdout + out.stderr) and "tfidf-red" in out.stderr


def test_on_a_terminal_only_rich_colours_are_written(world) -> None:
    """On a pseudo-terminal rich colours its output: those SGR sequences are the only ones."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "alexbench", "tasks"], stdin=follower, stdout=follower,
                            stderr=follower, env={**environment(world), "TERM": "xterm-256color"}, cwd=world["root"])
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 120)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(leader)
    text = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")  # the terminal's own line ends
    assert "\x1b[" in text  # rich did colour it: this is a terminal
    assert not injected(re.sub(r"\x1b\[[0-9;]*m", "", text))
    assert r"\x1b]0;owned\x07" in re.sub(r"\x1b\[[0-9;]*m|\s|│", "", text)


def test_the_helper_escapes_control_characters_only() -> None:
    ordinary = "tfidf-balanced+llm · F1[side_effects] 0.682±0.012 «ünïcode» 疫苗 🦠\u200d"
    assert terminal(ordinary) == ordinary and rich_text(ordinary).plain == ordinary
    assert terminal("a\nb\tc\rd\x1b[2J\x07") == r"a\nb\tc\rd\x1b[2J\x07"
    assert terminal("a\nb\tc\x1b", multiline=True) == "a\nb\tc\\x1b"


def test_every_rich_text_of_the_cli_and_report_is_made_safe() -> None:
    """Data reaches a rich Text only through safetext.rich_text: a Text() of anything but a
    literal in alexbench/cli or alexbench/report would print its control characters raw."""
    raw = []
    for path in [*(REPO / "alexbench" / "cli").glob("*.py"), *(REPO / "alexbench" / "report").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Text"
                    and node.args and not (isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str))):
                raw.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not raw, f"use alexbench.safetext.rich_text for text from the data: {raw}"


@pytest.mark.parametrize("on_terminal", [False, True], ids=["log", "terminal"])
def test_progress_lines_show_a_variants_escape_sequences_as_text(on_terminal) -> None:
    """Progress lines (in a log) and bars (on a terminal) name the task and variant being run."""
    import io

    from rich.console import Console

    from alexbench.progress import ProgressDisplay

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=on_terminal, color_system=None, width=200)
    display = ProgressDisplay(console, interval=0.0)
    display.prefix = f"evil/{VARIANT}[bold]/s1: "
    with display.active():
        assert sum(display.track(range(3), "batches")) == 3
    text = buf.getvalue()
    assert not injected(re.sub(r"\x1b\[\?25[lh]|\x1b\[2K|\x1b\[1A|\r", "", text))  # rich's own cursor moves aside
    assert r"evil/tfidf\x1b[31m-red[bold]/s1: batches" in text  # the name as written, not read as markup
