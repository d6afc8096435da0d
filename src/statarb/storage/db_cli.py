"""``statarb db ...``: migrate the relational store, show where it is, create its roles.

The URL is ``--db-url`` (alias ``--url``), else ``db.con`` of the project's Kedro credentials
(``conf/base`` overridden by ``conf/<env>``; :mod:`statarb.project_cli`), else ``$STATARB_DB_URL``
or the SQLite default outside a project. ``upgrade``, ``revision`` and ``roles`` write (run them
with the owner's credentials); ``current`` and ``url`` only read.
"""

from __future__ import annotations

import click
import sqlalchemy as sa

from statarb.project_cli import project_options, resolve_db_url, storage_errors
from statarb.storage import database


def cli_db_url(url: str | None = None, project: str = ".", env: str | None = None) -> str:
    """URL for the CLI: explicit ``url``, then the project's credentials ``db.con``, then the
    environment/default (kept for callers of the former helper)."""
    return resolve_db_url(url, project, env)


@click.group(name="db")
def db() -> None:
    """Relational store: Alembic migrations, connection info and access roles."""


@db.command()
@project_options
@storage_errors
def upgrade(project: str, env: str | None, db_url: str | None) -> None:
    """Migrate the database to the newest schema (alembic upgrade head)."""
    target = resolve_db_url(db_url, project, env)
    database.upgrade(target)
    click.echo(f"{database.redact_url(target)} at revision {database.current_revision(target)}")


@db.command()
@project_options
@storage_errors
def current(project: str, env: str | None, db_url: str | None) -> None:
    """Show the Alembic revision and the newest schema_version row (read-only)."""
    target = resolve_db_url(db_url, project, env)
    click.echo(f"url:      {database.redact_url(target)}")
    try:
        rev = database.current_revision(target, read_only=True)
    except database.SchemaNotReady as exc:
        click.echo(f"revision: (none: {exc})")
        return
    click.echo(
        f"revision: {rev or '(none: run `statarb db upgrade`)'} (head {database.head_revision()})"
    )
    if rev is None:
        return
    with database.get_engine(target, read_only=True).connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT version, applied_at, description FROM schema_version "
                "ORDER BY version DESC LIMIT 1"
            )
        ).first()
    if row is not None:
        click.echo(f"schema_version: {row.version} (applied {row.applied_at}): {row.description}")


@db.command()
@project_options
@click.option("-m", "--message", required=True, help="Revision message.")
@storage_errors
def revision(project: str, env: str | None, db_url: str | None, message: str) -> None:
    """Autogenerate a new migration from schema.py (developers; the database must be at head)."""
    from alembic import command

    target = resolve_db_url(db_url, project, env)
    database.upgrade(target)
    command.revision(database.alembic_config(target), message=message, autogenerate=True)


@db.command()
@project_options
def url(project: str, env: str | None, db_url: str | None) -> None:
    """Print the resolved database URL (password hidden)."""
    click.echo(database.redact_url(resolve_db_url(db_url, project, env)))


@db.command()
@project_options
@click.option("--prefix", default="statarb", show_default=True, help="Role names <prefix>_<kind>.")
@click.option("--drop", is_flag=True, help="Revoke and drop the roles instead.")
@storage_errors
def roles(project: str, env: str | None, db_url: str | None, prefix: str, drop: bool) -> None:
    """Create the writer / reader / reporting roles and their grants (PostgreSQL; spec §9.5)."""
    from statarb.storage import roles as pg_roles

    target = resolve_db_url(db_url, project, env)
    if drop:
        pg_roles.drop_roles(target, prefix)
        click.echo(f"dropped roles {', '.join(pg_roles.role_names(prefix).values())}")
        return
    names = pg_roles.create_roles(target, prefix)
    click.echo(f"{database.redact_url(target)}:")
    click.echo(f"  {names['writer']:24s} ingestion, alpha, backtest: read + write data tables")
    click.echo(f"  {names['reader']:24s} research, statarb sql: read only")
    click.echo(f"  {names['reporting']:24s} reporting: read + write backtest_metrics")
    click.echo("point each service's conf/<env>/credentials.yml db.con at its role")
