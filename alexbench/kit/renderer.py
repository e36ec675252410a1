"""The conformance kit's renderer contract: what every leaderboard format must do, checked on the
leaderboards of real runs on the kit's tiny tasks (:mod:`alexbench.kit.boards`) and on copies whose
names are made to break formats."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from alexbench.kit.boards import HOSTILE, hostile
from alexbench.kit.inline import make_host, named_plugins

if TYPE_CHECKING:
    from alexbench.interfaces import Renderer
    from alexbench.plugin.host import PluginHost
    from alexbench.report.board import Leaderboard

#: What a terminal acts on instead of showing (:mod:`alexbench.safetext`), but newline and tab.
UNSAFE = re.compile("(?![\n\t])[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class RendererContract:
    """What every renderer must do. Set ``renderer`` (the registered name) in a ``Test*`` subclass;
    ``plugins`` registers in-process ones (renderer classes, plugin objects, ``(name, plugin)``).
    The boards come from the ``alexbench_boards`` fixture (built once per session)."""

    #: The registered name of the renderer under test (required).
    renderer: ClassVar[str] = ""
    #: In-process plugins to register besides the installed ones.
    plugins: ClassVar[Sequence[Any]] = ()

    def host(self) -> PluginHost:
        """The real plugin host with the installed plugins and this contract's ``plugins``; the
        test fails at once, saying why, when the renderer is not there."""
        if not self.renderer:
            raise TypeError(f"{type(self).__name__} must set 'renderer' to the registered renderer name")
        host = make_host(*self.plugins)
        if self.renderer in host.renderers:
            return host
        from alexbench.errors import did_you_mean

        mine = {name for name, _ in named_plugins(self.plugins)}
        broken = [f"plugin {b.name!r}: {b.error}" for b in host.broken if b.name in mine]
        missing = (f"{type(self).__name__}: no renderer named {self.renderer!r} is registered."
                   f"{did_you_mean(self.renderer, host.renderers.names())}")
        if broken:
            pytest.fail(f"{missing} This contract's plugins were left out: {'; '.join(broken)}", pytrace=False)
        pytest.fail(f"{missing} Install your plugin where these tests run (pip install -e .), or name its class "
                    f"in the contract's plugins.{host.left_out_note(self.renderer)}", pytrace=False)

    def build(self) -> Renderer:
        """An instance of the renderer, as ``--format`` and ``--out`` get it (checked by the host)."""
        return self.host().renderer(self.renderer)

    def drawn(self, renderer: Renderer, board: Leaderboard) -> str:
        try:
            text = renderer.render(board)
        except Exception as exc:
            pytest.fail(f"render raised {type(exc).__name__}: {exc} on the kit's {board.task} leaderboard: draw every "
                        "board (single- and multi-label, with a baseline, notes, warnings, published results)",
                        pytrace=False)
        assert isinstance(text, str), f"render returned {type(text).__name__}: return the board as text (str)"
        return text

    # -- the contract -------------------------------------------------------------------------
    def test_is_registered_with_a_name_a_version_and_its_files(self) -> None:
        from alexbench.renderer import PAGE, SUFFIX

        renderer = self.build()  # the host checked the class: name, version, render, suffix, page
        assert renderer.name == self.renderer
        assert renderer.suffix is None or SUFFIX.fullmatch(renderer.suffix)
        assert renderer.page is None or PAGE.fullmatch(renderer.page)

    def test_draws_every_board_as_text(self, alexbench_boards: list[Leaderboard]) -> None:
        renderer = self.build()
        for board in alexbench_boards:
            text = self.drawn(renderer, board)
            assert text.strip(), f"render drew nothing for the kit's {board.task} leaderboard: draw its rows"
            missing = [row.variant for row in board.rows if row.variant not in text]
            assert not missing, (f"the {board.task} leaderboard's text does not name its rows {missing}: show each "
                                 "row's variant (ordinary names, like these, as they are)")

    def test_the_same_boards_give_the_same_text(self, alexbench_boards: list[Leaderboard]) -> None:
        first, second = self.build(), self.build()
        for board in alexbench_boards:
            assert self.drawn(first, board) == self.drawn(second, board), \
                ("two renderings of one board differ: write no time stamp, random id or unordered set (sort what "
                 "you list), so a board rendered again from the same runs is the same file")
        assert first.show(alexbench_boards) == second.show(alexbench_boards)

    def test_names_from_the_data_are_escaped(self, alexbench_boards: list[Leaderboard]) -> None:
        renderer = self.build()
        for board in map(hostile, alexbench_boards):
            text = self.drawn(renderer, board)
            found = sorted({f"U+{ord(ch):04X}" for ch in UNSAFE.findall(text)})
            assert not found, (f"names from the data put {', '.join(found)} into the text: write control "
                               "characters and bidi overrides as escapes (alexbench.safetext.terminal does), so a "
                               f"name cannot recolour a terminal or reorder the text (a variant was named {HOSTILE!r})")
        page = renderer.show([hostile(b) for b in alexbench_boards])
        assert isinstance(page, str) and not UNSAFE.search(page), \
            "show() of boards with hostile names holds control characters: escape them as render does"

    def test_shows_and_writes_what_it_draws(self, alexbench_boards: list[Leaderboard], tmp_path: Path) -> None:
        from alexbench.report.renderers import write_board_files, write_pages

        renderer = self.build()
        shown = renderer.show(alexbench_boards)
        assert isinstance(shown, str) and shown.strip(), \
            f"show() returned {shown!r}: return the text --format {renderer.name} prints for the boards"
        written = [p for b in alexbench_boards for p in write_board_files(b, [renderer], tmp_path)]
        written += write_pages(alexbench_boards, [renderer], tmp_path)
        files = {p.name for p in written}
        assert files == {p.name for p in tmp_path.iterdir()}, "writing wrote files besides <task><suffix> and page"
        if renderer.suffix is not None:
            for board in alexbench_boards:
                path = tmp_path / f"{board.task}{renderer.suffix}"
                assert path.read_text(encoding="utf-8") == self.drawn(renderer, board)
        if renderer.page is not None:
            assert (tmp_path / renderer.page).read_text(encoding="utf-8") == renderer.render_page(alexbench_boards)
        if renderer.suffix is None and renderer.page is None:
            assert not files
