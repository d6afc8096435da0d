"""``statarb sql [QUERY]``: ad-hoc SQL over the Parquet store and the relational database.

Examples::

    statarb sql "SELECT symbol, count(*) FROM bars_adjusted GROUP BY 1 ORDER BY 1"
    statarb sql "SELECT f.fill_ts, f.symbol, f.price, b.close
                 FROM backtest_fills f JOIN bars_adjusted b
                   ON b.symbol = f.symbol AND b.datetime = f.fill_ts LIMIT 10"
    statarb sql            # interactive prompt; end statements with ';', '.tables', '.quit'

The project's Kedro configuration says where the stores and the database are (``--project``,
``--env``; ``--db-url`` overrides the database). The session is read-only and locked down (spec
§9.5): relational tables are a snapshot copied in through a read-only connection, so ``DELETE`` or
``DROP`` never reach the database; ``COPY ... TO`` writes only into the reports folder; file
functions cannot read outside it. See :mod:`statarb.reporting.duckdb_views`.
"""

from __future__ import annotations

import sys

import click
import duckdb

from statarb.project_cli import project_options
from statarb.reporting.duckdb_views import StoreSession, open_store
from statarb.storage.errors import StorageError
from statarb.storage.secrets import mask


def _render(sess: StoreSession, query: str, max_rows: int, fmt: str) -> None:
    rel = sess.con.sql(query)
    if rel is None:  # DDL / SET etc.
        return
    if fmt == "csv":
        df = rel.pl()
        click.echo(df.write_csv(), nl=False)
    elif fmt == "json":
        click.echo(rel.pl().write_ndjson(), nl=False)
    else:
        click.echo(rel.__str__() if max_rows <= 0 else _boxed(rel, max_rows))


def _boxed(rel: duckdb.DuckDBPyRelation, max_rows: int) -> str:
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        rel.show(max_rows=max_rows, max_width=250)
    return buf.getvalue().rstrip("\n")


def _describe(sess: StoreSession) -> str:
    lines = []
    for name in sess.tables():
        where = sess.parquet_views.get(name) or f"database ({sess.relational[name]})"
        lines.append(f"{name:24s} {where}")
    return "\n".join(lines)


def _repl(sess: StoreSession, max_rows: int, fmt: str) -> None:
    click.echo("statarb sql - DuckDB over the store. End statements with ';'. .tables, .quit")
    buf: list[str] = []
    while True:
        try:
            line = input("sql> " if not buf else "...> ")
        except EOFError:
            click.echo()
            return
        stripped = line.strip()
        if not buf and stripped in (".quit", ".exit", "\\q"):
            return
        if not buf and stripped == ".tables":
            click.echo(_describe(sess))
            continue
        buf.append(line)
        if stripped.endswith(";"):
            query, buf = "\n".join(buf), []
            try:
                _render(sess, query, max_rows, fmt)
            except duckdb.Error as exc:
                click.echo(f"error: {mask(exc)}", err=True)


@click.command(name="sql")
@click.argument("query", required=False)
@project_options
@click.option(
    "--relational",
    type=click.Choice(["copy", "none"]),
    default="copy",
    show_default=True,
    help="Database tables: a read-only snapshot (copy) or none.",
)
@click.option(
    "--max-rows", default=40, show_default=True, help="Rows printed (0 = DuckDB default)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@click.option("--tables", "list_tables", is_flag=True, help="List the queryable names and exit.")
def sql(
    query: str | None,
    project: str,
    env: str | None,
    db_url: str | None,
    relational: str,
    max_rows: int,
    fmt: str,
    list_tables: bool,
) -> None:
    """Run QUERY (or an interactive prompt) in a read-only DuckDB session over every columnar
    catalog entry (bars, bars_adjusted, ticks, spread_series, ...) and every relational table."""
    try:
        sess = open_store(project, db_url, relational, env=env)
    except StorageError as exc:
        raise click.ClickException(mask(str(exc))) from exc
    for warning in sess.warnings:
        click.echo(f"warning: {mask(warning)}", err=True)
    if list_tables:
        click.echo(_describe(sess))
        return
    if query is None:
        if not sys.stdin.isatty():
            query = sys.stdin.read()
        else:
            _repl(sess, max_rows, fmt)
            return
    try:
        _render(sess, query, max_rows, fmt)
    except duckdb.Error as exc:
        raise click.ClickException(mask(f"{exc.__class__.__name__}: {exc}")) from exc
