"""How every command reports an :class:`~alexbench.errors.AlexbenchError`: one line on stderr,
``error: <file, line or field>: <what was expected>``, and the error's exit code (2 for a user
error, 1 for a failure). Applied to each command, so a command behaves the same whether it runs
under ``alexbench`` or on its own (click's test runner, another group)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import IO, Any, TypeVar

import click

from alexbench.errors import AlexbenchError
from alexbench.safetext import terminal

F = TypeVar("F", bound=Callable[..., Any])


class CommandError(click.ClickException):
    """An :class:`AlexbenchError` on its way out of a command, keeping its exit code."""

    def __init__(self, error: AlexbenchError) -> None:
        super().__init__(str(error))
        self.exit_code = error.exit_code

    def show(self, file: IO[Any] | None = None) -> None:
        # the message may quote a name, a title or a data row: its control characters are shown, not run
        message = terminal(self.format_message(), multiline=True)
        click.echo(click.style("error:", fg="red") + " " + message, file=file, err=file is None)


def reports_errors(command: F) -> F:
    """Turn an :class:`AlexbenchError` raised by ``command`` into a :class:`CommandError`."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AlexbenchError as exc:
            raise CommandError(exc) from exc

    return wrapper  # type: ignore[return-value]
