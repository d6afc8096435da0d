"""``statarb backup DEST`` and ``statarb restore SRC`` (spec §9.4; :mod:`statarb.storage.backup`).

The project (``--project``, ``--env``) says what to back up and where to restore: its catalog's
files and folders and the database of its ``db`` credentials (``--db-url`` overrides). Retention
is the ``storage.backup.keep_last`` parameter (``--keep-last`` overrides).
"""

from __future__ import annotations

import click

from statarb.project_cli import project_options, resolve_project, storage_errors
from statarb.storage import backup as store_backup
from statarb.storage.params import StorageParams


@click.command(name="backup")
@click.argument("dest", type=click.Path(file_okay=False))
@project_options
@click.option("--keep-last", type=int, default=None, help="Sets to keep (default: parameter).")
@storage_errors
def backup(
    dest: str, project: str, env: str | None, db_url: str | None, keep_last: int | None
) -> None:
    """Back up the project's stores (incrementally, by partition) and its database into DEST."""
    proj = resolve_project(project, env)
    keep = (
        keep_last
        or StorageParams.from_params(proj.params.get("storage"), "storage").backup.keep_last
    )
    m = store_backup.backup(proj, dest, keep, db_url)
    click.echo(
        f"backup set {m['created_at']}: {len(m['files'])} files ({m['copied']} copied, "
        f"{m['reused']} unchanged), {m['db']['backend']} database {m['db']['url']} "
        f"({sum(m['db']['tables'].values())} rows), corporate actions kept: "
        f"{m['corporate_actions_history']}"
    )
    if m["pruned"]:
        click.echo(f"pruned {len(m['pruned'])} old set(s): {', '.join(m['pruned'])}")


@click.command(name="restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False))
@project_options
@click.option("--set", "set_name", default=None, help="Backup set (default: the newest).")
@click.option("--force", is_flag=True, help="Overwrite existing files and database.")
@storage_errors
def restore(
    src: str, project: str, env: str | None, db_url: str | None, set_name: str | None, force: bool
) -> None:
    """Restore a backup set from SRC into the project (empty stores and database)."""
    proj = resolve_project(project, env)
    m = store_backup.restore(proj, src, set_name, force, db_url)
    click.echo(
        f"restored set {m['created_at']} into {proj.root}: {len(m['files'])} files and the "
        f"{m['db']['backend']} database ({sum(m['db']['tables'].values())} rows), all verified"
    )
