"""``statarb runs``: list and inspect stored backtest runs (spec §4.3).

Read-only (spec §9.5): the database comes from the project's Kedro credentials
(:mod:`statarb.project_cli`; ``--db-url`` overrides), is opened read-only and never migrated.
"""

from __future__ import annotations

import json

import click
import sqlalchemy as sa

from statarb.conventions import LATEST_RUN_ORDER
from statarb.project_cli import project_options, resolve_db_url, storage_errors
from statarb.storage.database import check_schema, get_engine
from statarb.storage.secrets import mask

LIST_SQL = """
SELECT r.run_id, r.strategy_name, r.pair_id, r.start_ts, r.end_ts, r.created_at,
       (SELECT COUNT(*) FROM backtest_signals s WHERE s.run_id = r.run_id) AS n_signals,
       (SELECT COUNT(*) FROM backtest_fills f WHERE f.run_id = r.run_id) AS n_fills,
       (SELECT e.equity FROM backtest_equity e WHERE e.run_id = r.run_id
         ORDER BY e.ts DESC LIMIT 1) AS final_equity
FROM backtest_runs r
{where}
ORDER BY {order}
LIMIT :limit
"""
_NEWEST_FIRST = ", ".join(f"r.{c} DESC" for c in LATEST_RUN_ORDER)  # statarb.conventions


def _url(db_url: str | None, project: str = ".", env: str | None = None) -> str:
    url = resolve_db_url(db_url, project, env)
    check_schema(url)
    return url


def fetch_runs(url: str, limit: int = 20, run_id: str | None = None) -> list[dict]:
    """Newest runs first, with signal/fill counts and the final equity (read-only)."""
    where = "WHERE r.run_id = :run_id" if run_id else ""
    with get_engine(url, read_only=True).connect() as conn:
        rows = conn.execute(
            sa.text(LIST_SQL.format(where=where, order=_NEWEST_FIRST)),
            {"limit": limit, "run_id": run_id},
        ).mappings()
        return [dict(r) for r in rows]


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.2f}"
    if hasattr(v, "isoformat"):
        return v.isoformat(sep=" ")[:19]
    s = str(v)  # SQLite hands timestamps back as text 'YYYY-MM-DD HH:MM:SS.ffffff'
    return s[:19] if len(s) >= 19 and s[4] == "-" and s[10] == " " else s


@click.group(name="runs")
def runs() -> None:
    """Stored backtest runs."""


@runs.command(name="list")
@click.option("--limit", default=20, show_default=True, help="Number of runs, newest first.")
@project_options
@storage_errors
def list_runs(limit: int, project: str, env: str | None, db_url: str | None) -> None:
    """Recent runs: id, strategy, pair, window, number of signals/fills, final equity."""
    rows = fetch_runs(_url(db_url, project, env), limit)
    if not rows:
        click.echo("no backtest runs stored")
        return
    cols = [
        "run_id",
        "strategy_name",
        "pair_id",
        "start_ts",
        "end_ts",
        "n_signals",
        "n_fills",
        "final_equity",
    ]
    table = [[_fmt(r[c]) for c in cols] for r in rows]
    heads = ["run_id", "strategy", "pair", "start", "end", "signals", "fills", "final_equity"]
    widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(heads)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)))
    for row in table:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


@runs.command(name="show")
@click.argument("run_id")
@project_options
@storage_errors
def show_run(run_id: str, project: str, env: str | None, db_url: str | None) -> None:
    """One run: summary, the stored config and the first signals."""
    url = _url(db_url, project, env)
    rows = fetch_runs(url, 1, run_id=run_id)
    if not rows:
        raise click.ClickException(f"backtest_runs: no run {run_id!r}")
    r = rows[0]
    for k in (
        "run_id",
        "strategy_name",
        "pair_id",
        "start_ts",
        "end_ts",
        "created_at",
        "n_signals",
        "n_fills",
        "final_equity",
    ):
        click.echo(f"{k:>14}: {_fmt(r[k])}")
    with get_engine(url, read_only=True).connect() as conn:
        cfg = conn.execute(
            sa.text("SELECT config_json FROM backtest_runs WHERE run_id = :r"), {"r": run_id}
        ).scalar()
        sigs = conn.execute(
            sa.text(
                "SELECT signal_ts, direction, symbol_a, symbol_b, hedge_ratio, size "
                "FROM backtest_signals WHERE run_id = :r ORDER BY signal_ts, id LIMIT 10"
            ),
            {"r": run_id},
        ).all()
    click.echo("config:")
    click.echo(mask(json.dumps(json.loads(cfg), indent=2, sort_keys=True)) if cfg else "-")
    click.echo("first signals:")
    for s in sigs:
        click.echo("  " + "  ".join(_fmt(v) for v in s))
