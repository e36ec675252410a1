"""``alexbench doctor``: what this installation is, then a self-test of every native part."""

from __future__ import annotations

import json
import sys

import click
from rich.markup import escape

from alexbench.cli.app import App, err, out, store_options
from alexbench.cli.errors import reports_errors
from alexbench.config.tasks import default_data_root
from alexbench.doctor import DoctorReport, machine_facts, self_tests
from alexbench.errors import EXIT_FAILURE


@click.command()
@store_options
@click.option("--brief", is_flag=True, help="Only the self-tests, one line each (what scripts/install.sh runs last).")
@click.option("--json", "as_json", is_flag=True, help="The whole report as JSON on stdout.")
@click.pass_obj
@reports_errors
def doctor(app: App, brief: bool, as_json: bool) -> None:
    """Check this installation: versions, paths, plugins, then run every native part (llama.cpp,
    torch with MiniLM, WordNet, scikit-learn) once in a child process, so a crash is reported,
    not suffered. Exit 0 when every part works, 1 when one does not (its line says the fix)."""
    report = DoctorReport({} if brief else machine_facts(app.host, app.store().root,
                                                          app.data_root or default_data_root()))
    if not brief and not as_json:
        width = max(len(k) for k in report.machine)
        for key, value in report.machine.items():
            out.print(escape(f"{key:<{width}}  {value}"), highlight=False)
        out.print("\nself-tests, each in a child process:", highlight=False)

    def starting(part: str) -> None:
        if not as_json:
            err.print(escape(f"  … {part}"), style="dim", highlight=False)

    for result in self_tests(app.host, on_start=starting):
        report.results.append(result)
        if as_json:
            continue
        out.print(("[green]" if result.ok else "[red]") + escape(result.line()) + "[/]", highlight=False)
        if not brief:
            width = max((len(k) for k in result.facts), default=0)
            for key, value in result.facts.items():
                out.print(escape(f"        {key:<{width}}  {value}"), highlight=False)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    elif report.ok:
        out.print(f"all {len(report.results)} native parts work", highlight=False)
    else:
        failed = [r.part for r in report.results if not r.ok]
        err.print(escape(f"{len(failed)} of {len(report.results)} native parts failed: {', '.join(failed)}"),
                  style="red", highlight=False)
    if not report.ok:
        sys.exit(EXIT_FAILURE)
