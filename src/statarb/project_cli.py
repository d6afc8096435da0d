"""Options every ``statarb`` command shares to reach the project: ``--project``, ``--env``,
``--db-url`` (issue 11, "one resolver for connections and paths").

Resolution (the same in every command): ``--db-url`` if given; otherwise credentials ``db.con``
of the Kedro project at or above ``--project`` (default: the working directory) in environment
``--env`` (default ``$KEDRO_ENV``, else ``local``), which resolves ``$STATARB_DB_URL`` through
``conf/base/credentials.yml``; outside a project ``$STATARB_DB_URL`` or the SQLite default.
Store paths always come from the project's catalog (:mod:`statarb.storage.resolver`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from statarb.storage.errors import StorageError
from statarb.storage.resolver import Project, ProjectNotFound, default_db_url, load_project
from statarb.storage.secrets import mask


def project_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--project``, ``--env`` and ``--db-url`` (alias ``--url``) to a click command."""
    fn = click.option(
        "--db-url",
        "--url",
        "db_url",
        default=None,
        help="SQLAlchemy URL; overrides the project's credentials (db.con).",
    )(fn)
    fn = click.option(
        "--env",
        default=None,
        help="Kedro environment whose conf/<env> overrides conf/base (default $KEDRO_ENV or local).",
    )(fn)
    fn = click.option(
        "--project",
        "--project-root",
        "project",
        default=".",
        show_default=True,
        type=click.Path(file_okay=False),
        help="Kedro project root (or any folder below it).",
    )(fn)
    return fn


def resolve_project(project: str, env: str | None) -> Project:
    """:func:`~statarb.storage.resolver.load_project` with errors as click errors."""
    try:
        return load_project(project, env)
    except StorageError as exc:
        raise click.ClickException(mask(str(exc))) from exc


def resolve_db_url(db_url: str | None, project: str, env: str | None) -> str:
    """``db_url``, else the project's ``db`` credentials, else the environment/default."""
    if db_url:
        return db_url
    try:
        return default_db_url(project, env)
    except StorageError as exc:
        raise click.ClickException(mask(str(exc))) from exc


def maybe_project(project: str, env: str | None) -> Project | None:
    """The project, or ``None`` outside one (commands that can run on a bare URL)."""
    try:
        return load_project(project, env)
    except ProjectNotFound:
        return None
    except StorageError as exc:
        raise click.ClickException(mask(str(exc))) from exc


def storage_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a :class:`StorageError` raised by a command into a one-line click error (masked)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StorageError as exc:
            raise click.ClickException(mask(str(exc))) from exc

    return wrapper
