"""Command-line helpers the edge, central and curbwatch commands share: the one-line error and exit, for a
message (`fail`) and for any CurbwatchError raised below a command (`ReportsErrors`)."""

from __future__ import annotations

from typing import Any, NoReturn

import click

from models.errors import CurbwatchError

EXIT_INTERRUPTED = 130
"""Exit code after Ctrl-C (128 + SIGINT, the shell's convention), for a command stopped before it was done."""

DB_HELP = "SQLAlchemy URL (sqlite:///FILE or postgresql+psycopg://...); default a SQLite file in ./data."


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


def exit_with(exc: CurbwatchError) -> NoReturn:
    """The error's lines on stderr (one, or one per problem of a config), then its exit code."""
    for line in exc.lines():
        click.echo(line, err=True)
    raise SystemExit(exc.exit_code)


class ReportsErrors(click.Command):
    """A command that ends any CurbwatchError raised while it runs in `exit_with`, so the commands below it raise
    instead of catching: the one place an error becomes a line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CurbwatchError as exc:
            exit_with(exc)
        except KeyboardInterrupt:
            # Click would print "Aborted!" and exit 1, which reads like a failure in a log. A command that has work
            # to finish (edge run, edge replay, demo) handles SIGINT itself; anything else simply stops here.
            click.echo("interrupted (Ctrl-C): stopped", err=True)
            raise SystemExit(EXIT_INTERRUPTED) from None


class ReportsErrorsGroup(ReportsErrors, click.Group):
    """`ReportsErrors` for a group: covers every subcommand, however deep."""
