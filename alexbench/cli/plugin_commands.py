"""Commands that plugins add to ``alexbench`` through the ``alexbench_register_commands`` hook.

The CLI calls :func:`add_plugin_commands` once, when it builds its command group. A plugin whose
hook raises or adds something that is not a click command is left out by the plugin host (listed
as broken by ``alexbench plugins``, warned about by every command that loads the plugins); a
command named like one of alexbench's own is not added, with a warning. Either way the rest of
the command line works.
"""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.markup import escape

from alexbench.plugin.host import PluginHost

err = Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else 160)


def add_plugin_commands(cli: click.Group, host: PluginHost | None = None) -> PluginHost:
    """Add every plugin command to ``cli`` (a new :class:`PluginHost` unless one is given) and
    return the host. Names ``cli`` already has stay alexbench's own."""
    host = host if host is not None else PluginHost()
    for name, (plugin, command) in host.commands().items():
        if name in cli.commands:
            err.print("[yellow]warning:[/] " + escape(f"plugin {plugin!r}: command {name!r} left out: alexbench has "
                                                       "its own command of that name"), highlight=False)
            continue
        cli.add_command(command, name)
    return host
