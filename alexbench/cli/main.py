"""The ``alexbench`` command group: its global options, the commands of every module of this
package (and of plugins), and ``main``."""

from __future__ import annotations

import faulthandler
import sys
from collections.abc import Sequence
from pathlib import Path

import click
from rich.markup import escape

from alexbench import __version__
from alexbench.cli import boards, catalog, competition, running
from alexbench.cli.app import App, err
from alexbench.cli.augment import augment
from alexbench.cli.doctor import doctor
from alexbench.cli.errors import reports_errors
from alexbench.cli.explain import explain
from alexbench.cli.newplugin import new_plugin
from alexbench.cli.plugin_commands import PluginCommandGroup
from alexbench.errors import AlexbenchError


@click.group(cls=PluginCommandGroup)
@click.version_option(__version__, prog_name="alexbench")
@click.option("--data-root", type=click.Path(path_type=Path), default=None,
              help="Folder holding the tasks' data folders ({data_root} in task files). Env: ALEXBENCH_DATA_ROOT.")
@click.option("--results", type=click.Path(path_type=Path), default=None,
              help="Results store folder (default ./results). Env: ALEXBENCH_RESULTS.")
@click.pass_context
@reports_errors
def cli(ctx: click.Context, data_root: Path | None, results: Path | None) -> None:
    """Benchmark augmenters, classifiers and LLM explainers on SMM4H-style tasks."""
    ctx.obj = App(data_root, results)


for _command in (catalog.plugins, catalog.tasks, catalog.variants, catalog.validate, running.run, running.grid,
                 running.demo, boards.leaderboard, competition.submit, competition.score, competition.rescore,
                 augment, explain, new_plugin, doctor):
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None) -> None:
    # A crash in native code in this process (torch, a plugin's C library) prints the Python stack
    # it happened under; the local LLM engine runs in a child process of its own (README, Native builds).
    if not faulthandler.is_enabled():
        faulthandler.enable()
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="alexbench", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(130)
    except AlexbenchError as exc:  # raised outside a command (the group's own options)
        err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
