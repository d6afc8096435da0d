"""``statarb db ...``: migrate the relational store and show where it is.

The URL is ``--url``, else ``db.con`` from the Kedro credentials (``conf/base`` overridden by
``conf/local``, which resolves ``$STATARB_DB_URL``) when run inside the project, else
:func:`~statarb.storage.database.resolve_db_url`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import click
import sqlalchemy as sa

from statarb.storage import database


def cli_db_url(url: str | None = None, conf_source: str | Path = "conf") -> str:
    """URL for the CLI: explicit ``url``, then Kedro credentials ``db.con``, then the default."""
    if url:
        return url
    if Path(conf_source, "base").is_dir():
        from kedro.config import OmegaConfigLoader

        try:
            with warnings.catch_warnings():  # omegaconf deprecation noise from Kedro internals
                warnings.simplefilter("ignore", UserWarning)
                creds = OmegaConfigLoader(
                    conf_source=str(conf_source), base_env="base", default_run_env="local"
                )["credentials"]
        except Exception as exc:  # a broken credentials file should be reported, not hidden
            msg = f"cannot read credentials under {conf_source}: {exc}"
            raise click.ClickException(msg) from exc
        return database.resolve_db_url(creds.get("db"))
    return database.resolve_db_url()


_url_option = click.option("--url", default=None, help="SQLAlchemy URL (default: see `db url`).")


@click.group(name="db")
def db() -> None:
    """Relational store: Alembic migrations and connection info."""


@db.command()
@_url_option
def upgrade(url: str | None) -> None:
    """Migrate the database to the newest schema (alembic upgrade head)."""
    target = cli_db_url(url)
    database.upgrade(target)
    click.echo(f"{database.redact_url(target)} at revision {database.current_revision(target)}")


@db.command()
@_url_option
def current(url: str | None) -> None:
    """Show the Alembic revision and the newest schema_version row."""
    target = cli_db_url(url)
    rev = database.current_revision(target)
    click.echo(f"url:      {database.redact_url(target)}")
    click.echo(
        f"revision: {rev or '(none: run `statarb db upgrade`)'} (head {database.head_revision()})"
    )
    if rev is None:
        return
    with database.get_engine(target).connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT version, applied_at, description FROM schema_version "
                "ORDER BY version DESC LIMIT 1"
            )
        ).first()
    if row is not None:
        click.echo(f"schema_version: {row.version} (applied {row.applied_at}): {row.description}")


@db.command()
@_url_option
@click.option("-m", "--message", required=True, help="Revision message.")
def revision(url: str | None, message: str) -> None:
    """Autogenerate a new migration from schema.py (developers; the database must be at head)."""
    from alembic import command

    target = cli_db_url(url)
    database.upgrade(target)
    command.revision(database.alembic_config(target), message=message, autogenerate=True)


@db.command()
@_url_option
def url(url: str | None) -> None:
    """Print the resolved database URL (password hidden)."""
    click.echo(database.redact_url(cli_db_url(url)))
