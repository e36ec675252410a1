"""One test per hook, named for it (``test_<hook name>``): a real plugin implementing the hook,
registered through the real :class:`PluginHost`, and the hook's effect where the host uses it."""

from __future__ import annotations

import ast
import subprocess
import sys
import types

import click
from click.testing import CliRunner

from alexbench import hookimpl
from alexbench.cli.plugin_commands import add_plugin_commands
from alexbench.plugin.host import PluginHost

from .conftest import REPO


def test_alexbench_register_commands(capsys) -> None:
    """A plugin's commands join the command group and run there; a plugin whose hook raises, adds
    a non-command or takes another plugin's name is left out and reported; a command named like
    one of alexbench's own is not added (with a warning); the rest of the command line works."""
    @click.command("hello")
    @click.option("--name", default="world")
    def hello(name: str) -> None:
        click.echo(f"hello {name}")

    def explode(cli: click.Group) -> None:
        cli.add_command(click.Command("half-done"))
        raise RuntimeError("boom")

    def not_a_command(cli: click.Group) -> None:
        cli.commands["junk"] = "junk"

    plugins = [("hello-plugin", types.SimpleNamespace(alexbench_register_commands=hookimpl(lambda cli: cli.add_command(hello)))),
               ("explodes", types.SimpleNamespace(alexbench_register_commands=hookimpl(explode))),
               ("junk", types.SimpleNamespace(alexbench_register_commands=hookimpl(not_a_command))),
               ("again", types.SimpleNamespace(alexbench_register_commands=hookimpl(lambda cli: cli.add_command(hello)))),
               ("own", types.SimpleNamespace(alexbench_register_commands=hookimpl(
                   lambda cli: cli.add_command(click.Command("run", callback=lambda: click.echo("impostor"))))))]
    host = PluginHost(plugins=plugins)
    group = click.Group("alexbench", commands=[click.Command("run", callback=lambda: click.echo("own run"))])
    assert add_plugin_commands(group, host) is host
    assert {"hello", "setup-data", "run"} <= set(group.commands) and not {"half-done", "junk"} & set(group.commands)
    assert CliRunner().invoke(group, ["hello", "--name", "you"]).output == "hello you\n"
    assert CliRunner().invoke(group, ["run"]).output == "own run\n"
    assert "plugin 'own': command 'run' left out: alexbench has its own command of that name" in capsys.readouterr().err
    assert host.commands()["setup-data"][0] == "augment"  # the built-in augment plugin owns setup-data
    broken = {b.name: b.error for b in host.broken}
    assert set(broken) == {"explodes", "junk", "again"}
    assert "raised in alexbench_register_commands: RuntimeError: boom" in broken["explodes"]
    assert "command 'junk': 'junk' is not a click command" in broken["junk"]
    assert "command 'hello' registered twice: by plugin hello-plugin and by plugin again" in broken["again"]


def test_setup_data_belongs_to_the_augment_plugin() -> None:
    """`alexbench setup-data` comes from the augment plugin: without it there is no such command,
    and no module of the host imports the plugin."""
    from alexbench.cli.main import cli

    assert cli.commands["setup-data"].callback.__module__ == "alexbench_augment.commands"
    result = subprocess.run([sys.executable, "-m", "alexbench", "setup-data", "--help"], capture_output=True, text=True,
                            env={**__import__("os").environ, "ALEXBENCH_DISABLE_PLUGINS": "augment"}, check=False)
    assert result.returncode == 2 and "No such command 'setup-data'" in result.stderr
    for path in (REPO / "alexbench").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(name.split(".")[0] == "alexbench_augment" for name in names), path
