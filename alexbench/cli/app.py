"""What every command shares: the consoles, the :class:`App` (the Python API's
:class:`~alexbench.api.Bench` with its warnings on stderr) and the options and checks several
commands use."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from alexbench.api import Bench
from alexbench.config.seeds import MAX_SEEDS, seed_problem
from alexbench.errors import AlexbenchError
from alexbench.run.device import device_problem, select_device
from alexbench.safetext import SafeConsole, rich_text, terminal

# SafeConsole: a control character in a printed string (a name, a path, an error quoting them) is
# shown as an escape, never acted on by the terminal (alexbench.safetext).
out = SafeConsole(soft_wrap=True, width=None if sys.stdout.isatty() else 160)


err = SafeConsole(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else 160)


def _print_warning(message: str) -> None:
    err.print("[yellow]warning:[/] " + escape(terminal(message)), highlight=False)


@dataclass
class App(Bench):
    """The Python API's :class:`~alexbench.api.Bench`, built from the global options, with its
    warnings printed on stderr (a plugin left out, with its traceback under
    ALEXBENCH_TRACE_PLUGINS=1; a task file skipped; a damaged run left out)."""

    on_warning: Callable[[str], None] = _print_warning

    def warn_broken(self) -> None:
        """A warning for each plugin left out and not yet reported; the command goes on without it."""
        self._warn_broken()

    def _warn_broken(self) -> None:
        for broken in self._host.broken if self._host is not None else ():
            if (broken.name, broken.error) in self._warned:
                continue
            self._warned.add((broken.name, broken.error))
            self.on_warning(f"plugin {broken.name!r} ({broken.distribution or '?'}) left out: {broken.error}")
            if self._host.trace and broken.traceback:
                err.print(rich_text(broken.traceback.rstrip(), "dim", multiline=True), highlight=False)


def parse_seeds(_ctx: click.Context | None, _param: click.Parameter | None, text: str) -> list[int]:
    """``--seeds``: whole numbers and ranges, ``1,2,3`` or ``1-5`` or ``0,10-12``; ASCII digits
    only (``١``, an Arabic-Indic one, is not taken for 1), at most :data:`MAX_SEEDS` seeds."""
    example = "give whole numbers from 0 in ASCII digits, e.g. 1,2,3 or 1-5"
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        lo, dash, hi = part.partition("-")
        if not _digits(lo) or (dash and not _digits(hi)):
            raise click.BadParameter(f"{part!r} is not a seed or a range of seeds; {example}")
        if dash and int(hi) < int(lo):
            raise click.BadParameter(f"{part!r} is an empty range; {example}")
        for end in (lo, hi or lo):
            problem = seed_problem(int(end))
            if problem:
                raise click.BadParameter(problem)
        if len(seeds) + int(hi or lo) - int(lo) + 1 > MAX_SEEDS:
            raise click.BadParameter(f"{text!r} gives more than {MAX_SEEDS} seeds, each a run of every variant; "
                                     f"give at most {MAX_SEEDS} (e.g. 1-{MAX_SEEDS})")
        for seed in range(int(lo), int(hi or lo) + 1):
            if seed in seeds:
                raise click.BadParameter(f"seed {seed} is given twice")
            seeds.append(seed)
    return seeds


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _check_device(_ctx: click.Context | None, _param: click.Parameter | None, value: str) -> str:
    """``--device``: auto, cpu, cuda or cuda:N; CUDA must be there when it is asked for by name."""
    problem = device_problem(value)
    if problem:
        raise click.BadParameter(problem)
    if value.startswith("cuda"):
        try:
            select_device(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    return value


def device_option(fn: Any) -> Any:
    return click.option("--device", default="auto", show_default=True, callback=_check_device,
                        help="auto (CUDA when present), cpu, cuda or cuda:N.")(fn)


def store_options(fn: Any) -> Any:
    """--data-root and --results accepted after the subcommand too (they override the group's)."""
    def set_data_root(ctx: click.Context, _: Any, value: Path | None) -> None:
        if value is not None:
            ctx.find_object(App).data_root = value

    def set_results(ctx: click.Context, _: Any, value: Path | None) -> None:
        if value is not None:
            ctx.find_object(App).results = value

    fn = click.option("--data-root", type=click.Path(path_type=Path), default=None, expose_value=False,
                      callback=set_data_root, help="As the global --data-root.")(fn)
    return click.option("--results", type=click.Path(path_type=Path), default=None, expose_value=False,
                        callback=set_results, help="As the global --results.")(fn)


def writable_dir(path: Path, option: str = "--out") -> Path:
    """Check, before any work, that the folder the user asked us to write to can be written: a
    file there, or a folder we cannot write, is their input to fix (exit 2), not a traceback
    after the runs. Folders made for the probe are removed again (nothing is left behind by a
    grid that stops before its leaderboards)."""
    if path.exists() and not path.is_dir():
        raise AlexbenchError(f"{option} {path}: is a file, expected a folder")
    made = [p for p in (path, *path.parents) if not p.exists()]  # the leaf first
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".alexbench-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise AlexbenchError(f"{option} {path}: cannot write there ({exc.strerror or exc})") from None
    finally:
        for folder in made:
            try:
                folder.rmdir()
            except OSError:
                break
    return path
