"""Formats are plugins (issue 29, item 4): the built-in formats are renderers registered by the
``renderers`` plugin through its entry point, each passes the conformance kit's renderer contract,
they draw the committed boards byte for byte as before, and a third-party renderer from a package
installed the way users install one appears in ``leaderboard --format`` and ``--out``."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from alexbench.errors import PluginError, UnknownNameError
from alexbench.interfaces import Renderer
from alexbench.kit.tasks import write_tiny_task
from alexbench.plugin.host import PluginHost
from alexbench.report.renderers import BUILT_IN, file_renderers
from alexbench.testing import RendererContract

from .conftest import REPO
from .test_committed_board_render import CURRENT, board_from_json
from .venvs import Venv

TSV_PACKAGE = REPO / "tests" / "packages" / "alexbench-tsv-format" / "src"
sys.path.insert(0, str(TSV_PACKAGE))  # its module, for the in-process contract below (not its entry point)
from alexbench_tsv_format import Tsv  # noqa: E402

sys.path.remove(str(TSV_PACKAGE))


class TestRich(RendererContract):
    renderer = "rich"


class TestMarkdown(RendererContract):
    renderer = "markdown"


class TestJson(RendererContract):
    renderer = "json"


class TestCsv(RendererContract):
    renderer = "csv"


class TestLatex(RendererContract):
    renderer = "latex"


class TestHtml(RendererContract):
    renderer = "html"


class TestThirdPartyTsv(RendererContract):
    renderer = "tsv"
    plugins = (Tsv,)


def test_the_built_in_formats_come_from_the_renderers_entry_point() -> None:
    host = PluginHost(disabled=[], trace=False)
    assert {cls.name for cls in BUILT_IN} <= set(host.renderers.names())
    assert {host.renderers.entry(cls.name).plugin for cls in BUILT_IN} == {"renderers"}
    assert "renderers" in {p.name for p in host.plugins() if p.distribution == "alexbench"}
    assert [r.name for r in file_renderers(host)][:5] == ["markdown", "json", "csv", "latex", "html"]
    without = PluginHost(disabled=["renderers"], trace=False)
    with pytest.raises(UnknownNameError, match="unknown renderer 'markdown'.*disabled by ALEXBENCH_DISABLE_PLUGINS"):
        without.renderer("markdown")


@pytest.mark.parametrize("path", CURRENT, ids=lambda p: p.parent.name)
def test_the_registered_renderers_draw_the_committed_board_byte_for_byte(path: Path, tmp_path: Path) -> None:
    from alexbench.report.renderers import write_board_files

    host = PluginHost(disabled=[], trace=False)
    board = board_from_json(path)
    renderers = [r for r in file_renderers(host) if r.name in ("markdown", "csv", "latex")]
    for written in write_board_files(board, renderers, tmp_path):
        assert written.read_bytes() == path.with_suffix(written.suffix).read_bytes(), written.name


def test_a_renderer_the_host_refuses_is_left_out_saying_why() -> None:
    class Escapes(Tsv):
        name = "escapes"
        suffix = "/../../etc/x"

    class Abstract(Renderer):
        name, version = "abstract", "1"

    host = PluginHost(load_entrypoints=False, trace=False, plugins=[
        ("bad-suffix", _plugin(Escapes)), ("no-render", _plugin(Abstract)), ("tsv-plugin", _plugin(Tsv))])
    assert host.renderers.names() == ["tsv"]
    errors = {b.name: b.error for b in host.broken}
    assert "suffix must be None or a file suffix such as '.md'" in errors["bad-suffix"]
    assert "must define render(self, board) -> str" in errors["no-render"]


def test_two_renderers_that_would_write_one_file_are_refused_before_any_work() -> None:
    class Md(Tsv):
        """Another Markdown."""

        name, suffix = "md2", ".md"

    host = PluginHost(disabled=[], trace=False, plugins=[("md2-plugin", _plugin(Md))])
    with pytest.raises(PluginError, match="renderers 'markdown' and 'md2' would both write the files '.md'"):
        file_renderers(host)


pytest_plugins = ["pytester"]

BROKEN_FORMATS = """
import itertools

from alexbench.interfaces import Renderer
from alexbench.safetext import terminal
from alexbench.testing import RendererContract

COUNTER = itertools.count()


class Raw(Renderer):
    name, version, suffix = "raw", "1", ".raw"

    def render(self, board):
        return "".join(row.variant + "\\n" for row in board.rows)


class Stamped(Renderer):
    name, version = "stamped", "1"

    def render(self, board):
        return "".join(terminal(row.variant) + "\\n" for row in board.rows) + f"drawn #{next(COUNTER)}\\n"


class Blank(Renderer):
    name, version = "blank", "1"

    def render(self, board):
        return ""


class TestRaw(RendererContract):
    renderer, plugins = "raw", (Raw,)


class TestStamped(RendererContract):
    renderer, plugins = "stamped", (Stamped,)


class TestBlank(RendererContract):
    renderer, plugins = "blank", (Blank,)


class TestMissing(RendererContract):
    renderer = "markdwn"
"""


def test_the_renderer_contract_fails_formats_that_break_it_saying_what_to_change(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_broken_formats=BROKEN_FORMATS)
    reprec = pytester.inline_run("-p", "no:cacheprovider")
    passed, _, failed = reprec.listoutcomes()
    messages = {report.nodeid.split("::", 1)[1]: report.longreprtext for report in failed}
    assert set(messages) == {
        "TestRaw::test_names_from_the_data_are_escaped",
        "TestStamped::test_the_same_boards_give_the_same_text",
        "TestBlank::test_draws_every_board_as_text", "TestBlank::test_shows_and_writes_what_it_draws",
        *(f"TestMissing::{name}" for name in dir(RendererContract) if name.startswith("test_")),
    }
    assert "put U+0007, U+001B, U+202C, U+202E into the text" in messages["TestRaw::test_names_from_the_data_are_escaped"]
    assert "write no time stamp" in messages["TestStamped::test_the_same_boards_give_the_same_text"]
    assert "render drew nothing for the kit's kit_binary leaderboard" in messages["TestBlank::test_draws_every_board_as_text"]
    assert "no renderer named 'markdwn' is registered. Did you mean 'markdown'?" in \
        messages["TestMissing::test_is_registered_with_a_name_a_version_and_its_files"]
    assert any("TestRaw::test_shows_and_writes_what_it_draws" in r.nodeid for r in passed)


def _plugin(cls: type) -> object:
    from alexbench.kit.inline import inline_plugin

    return inline_plugin(cls)


@pytest.mark.slow
def test_a_third_party_renderer_appears_in_format_and_out(tmp_path: Path) -> None:
    """The package is installed into a throw-away venv as users install one; its entry point
    brings ``tsv`` to ``leaderboard --format`` (help, choice, error), to ``--out`` and to
    ``alexbench plugins``, and its own kit tests (RendererContract) pass there."""
    package = shutil.copytree(TSV_PACKAGE.parent, tmp_path / "pkg", ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__", ".pytest_cache"))
    venv = Venv(tmp_path / "venv")
    venv.install(package)
    results = tmp_path / "results"
    task = write_tiny_task(tmp_path / "tasks", "binary")
    run = venv.alexbench("--results", str(results), "run", "-t", str(task), "--classifier", "majority",
                         "--no-progress", cwd=tmp_path)
    assert run.returncode == 0, run.stderr

    def leaderboard(*args: str):
        return venv.alexbench("--results", str(results), "leaderboard", *args, cwd=tmp_path)

    helped = leaderboard("--help")
    assert helped.returncode == 0 and "tsv" in helped.stdout.split("--format NAME", 1)[1].split("--out", 1)[0]
    shown = leaderboard("--format", "tsv")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == "variant\tf1_positive\nmajority\t0.0000\n"
    wrong = leaderboard("--format", "tvs")
    assert wrong.returncode == 2 and "unknown renderer 'tvs'. Did you mean 'tsv'?" in wrong.stderr
    assert "Known: csv, html, json, latex, markdown, rich, tsv." in wrong.stderr
    out = leaderboard("--out", str(tmp_path / "lb"))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "lb" / "kit_binary.tsv").read_text() == shown.stdout
    assert {p.name for p in (tmp_path / "lb").iterdir()} >= {"kit_binary.md", "kit_binary.tsv", "index.html"}
    listing = json.loads(venv.alexbench("plugins", "--json", cwd=tmp_path).stdout)
    tsv = next(e for e in listing["entries"] if e["name"] == "tsv")
    assert (tsv["kind"], tsv["plugin"], tsv["distribution"], tsv["suffix"]) == (
        "renderer", "tsv_format", "alexbench-tsv-format", ".tsv")
    own = venv.run("-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=package)
    assert own.returncode == 0, own.stdout + own.stderr
