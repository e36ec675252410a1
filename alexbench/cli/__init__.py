"""The ``alexbench`` command line: one module per command group, ``main`` the entry point."""

from alexbench.cli.main import main

__all__ = ["main"]
