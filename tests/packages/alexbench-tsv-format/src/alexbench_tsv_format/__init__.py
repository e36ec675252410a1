"""A leaderboard format: each variant and its official test metric, tab-separated (``--format tsv``;
``--out`` writes ``<task>.tsv``)."""

from __future__ import annotations

from alexbench import hookimpl
from alexbench.interfaces import Renderer
from alexbench.safetext import terminal

__version__ = "0.1.0"


class Tsv(Renderer):
    """Variant and official test metric (mean over seeds), tab-separated."""

    name = "tsv"
    version = __version__
    suffix = ".tsv"

    def render(self, board):
        lines = [f"variant\t{terminal(board.official_metric)}"]
        lines += [f"{terminal(row.variant)}\t{row.test_official.mean:.4f}" for row in board.rows]
        return "\n".join(lines) + "\n"


@hookimpl
def alexbench_register_renderers(registry):
    registry.add(Tsv)
