"""Commands that plugins add to ``alexbench`` through the ``alexbench_register_commands`` hook.

The ``alexbench`` group (:class:`PluginCommandGroup`) looks them up when a command line is
resolved, so they are the commands of the plugins loaded at that moment (``ALEXBENCH_DISABLE_PLUGINS``
as it is then), not at import time. A plugin whose
hook raises or adds something that is not a click command is left out by the plugin host (listed
as broken by ``alexbench plugins``, warned about by every command that loads the plugins); a
command named like one of alexbench's own is not added, with a warning. Either way the rest of
the command line works.
"""

from __future__ import annotations

import os

import click
from rich.markup import escape

from alexbench.cli.app import err
from alexbench.plugin.host import DISABLE_ENV, PluginHost


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


class PluginCommandGroup(click.Group):
    """alexbench's command group: its own commands first, then those the plugins add."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._plugin_groups: dict[str, click.Group] = {}

    def plugin_commands(self) -> dict[str, click.Command]:
        """The plugins' commands, for the plugins enabled now (one plugin host per setting of
        ALEXBENCH_DISABLE_PLUGINS in this process)."""
        key = os.environ.get(DISABLE_ENV, "")
        if key not in self._plugin_groups:
            group = self._plugin_groups[key] = click.Group(commands=dict(self.commands))
            add_plugin_commands(group)
        return {name: cmd for name, cmd in self._plugin_groups[key].commands.items() if name not in self.commands}

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or self.plugin_commands().get(cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.plugin_commands()})
