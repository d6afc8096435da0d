"""``statarb sql [QUERY]``: ad-hoc SQL over the Parquet store and the relational database.

Examples::

    statarb sql "SELECT symbol, count(*) FROM bars_adjusted GROUP BY 1 ORDER BY 1"
    statarb sql "SELECT f.fill_ts, f.symbol, f.price, b.close
                 FROM backtest_fills f JOIN bars_adjusted b
                   ON b.symbol = f.symbol AND b.datetime = f.fill_ts LIMIT 10"
    statarb sql            # interactive prompt; end statements with ';', '.tables', '.quit'

See :mod:`statarb.reporting.duckdb_views` for how the views are built (relational tables are a
snapshot copied in when the session opens; DuckDB's sqlite/postgres extensions are not available
offline).
"""

from __future__ import annotations

import sys

import click
import duckdb

from statarb.reporting.duckdb_views import StoreSession, open_store


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
                click.echo(f"error: {exc}", err=True)


@click.command(name="sql")
@click.argument("query", required=False)
@click.option("--db-url", default=None, help="SQLAlchemy URL (default: $STATARB_DB_URL or sqlite).")
@click.option(
    "--project-root",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder holding data/ (the Kedro project root).",
)
@click.option(
    "--relational",
    type=click.Choice(["copy", "auto", "attach", "none"]),
    default="copy",
    show_default=True,
    help="How database tables enter DuckDB (copy = snapshot through SQLAlchemy).",
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
    db_url: str | None,
    project_root: str,
    relational: str,
    max_rows: int,
    fmt: str,
    list_tables: bool,
) -> None:
    """Run QUERY (or an interactive prompt) in DuckDB over bars, bars_adjusted, ticks,
    spread_series, ou_output (Parquet) and every relational table (backtest_*, symbols, ...)."""
    try:
        sess = open_store(project_root, db_url, relational)
    except FileNotFoundError as exc:
        click.echo(f"warning: {exc}; relational tables not loaded", err=True)
        sess = open_store(project_root, db_url, "none")
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
        raise click.ClickException(f"{exc.__class__.__name__}: {exc}") from exc
