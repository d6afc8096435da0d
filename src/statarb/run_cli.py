"""``kedro run`` of this project: a user-input error is shown as one paragraph, not a traceback.

Kedro lets a project's ``cli.py`` replace its ``run`` command (Kedro docs, "Use case 3: how to add
or modify CLI commands"); :data:`run` is Kedro's own command (same options, same behaviour) plus
``--verbose``. When the run fails on an error a user causes and can fix -- a raw file or a
parameter (:data:`USER_ERRORS`: :class:`statarb.ingest.IngestionError`, which names the file, the
row and the rule, and :class:`statarb.config.strict.ConfigError`, which names the key) -- the
message is printed alone, as one paragraph, and the command exits with status 1; the traceback is
written to the ``statarb.errors`` logger at DEBUG level and, with ``--verbose``, printed after
the message. Any other exception (a bug) keeps Kedro's full traceback.
"""

from __future__ import annotations

import importlib
import logging
import sys
import traceback
from typing import IO, Any

import click
from kedro.framework.cli.project import run as kedro_run

log = logging.getLogger("statarb.errors")

#: exception types whose message is the whole story for the user ("module:Class")
USER_ERRORS = (
    "statarb.ingest.errors:IngestionError",
    "statarb.config.strict:ConfigError",
)


def user_error_types() -> tuple[type[BaseException], ...]:
    """The classes named by :data:`USER_ERRORS`."""
    out = []
    for target in USER_ERRORS:
        module, name = target.split(":")
        out.append(getattr(importlib.import_module(module), name))
    return tuple(out)


def user_error_in(exc: BaseException) -> BaseException | None:
    """``exc`` or the first exception of its cause/context chain that is a user error."""
    types, seen = user_error_types(), set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, types):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


class UserInputError(click.ClickException):
    """Printed as ``<Type>: <message>`` plus a hint (and, if verbose, the traceback after it)."""

    exit_code = 1

    def __init__(self, error: BaseException, verbose: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.verbose = verbose
        self.trace = "".join(traceback.format_exception(error))

    def show(self, file: IO[Any] | None = None) -> None:
        out = file or sys.stderr
        hint = "" if self.verbose else "\n(run with --verbose to see the traceback)"
        click.echo(f"{type(self.error).__name__}: {self.message}{hint}", file=out)
        if self.verbose:
            click.echo(f"\n{self.trace}", file=out, nl=False)


def _callback(verbose: bool, **kwargs: Any) -> Any:
    try:
        return kedro_run.callback(**kwargs)  # type: ignore[misc]
    except Exception as exc:
        user = user_error_in(exc)
        if user is None:
            raise
        log.debug("user-input error, traceback:\n%s", "".join(traceback.format_exception(exc)))
        raise UserInputError(user, verbose) from exc


run = click.Command(
    name="run",
    callback=_callback,
    params=[
        *kedro_run.params,
        click.Option(
            ["--verbose", "-v"],
            is_flag=True,
            default=False,
            help="On an input or configuration error, print the traceback after the message.",
        ),
    ],
    help=kedro_run.help,
    short_help=kedro_run.short_help,
    context_settings=kedro_run.context_settings,
)
