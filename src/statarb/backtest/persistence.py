"""Persist one backtest run atomically (spec §4.3, §6.3, §8, §9.3).

:func:`save_run` writes the ``backtest_runs`` row, ``backtest_signals`` (explicit ids, so every
fill's ``signal_id`` points at its signal), ``backtest_fills`` and ``backtest_equity`` in ONE
transaction: any failure rolls everything back. Runs are immutable: saving under an existing
``run_id`` raises :class:`RunExistsError`; a new config always gets a new id
``bt_YYYYMMDD_NNN`` (next free ``NNN`` of the UTC creation day). Before writing, the §8 rules are
checked (:func:`validate_result`). Long equity series can also go to Parquet under
``<equity_root>/run_id=<id>/equity.parquet`` (written to a temporary folder and renamed only after
the database commit), next to ``accruals.parquet``: the per-bar carry costs ``ts``,
``borrow_cost``, ``financing_cost`` that the spec's ``backtest_equity`` has no column for (they
are already inside ``cash`` and ``equity``; the reporting pipeline reads them for the cost
decomposition in ``backtest_metrics.metrics_json``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from statarb.backtest.config import BacktestConfig
from statarb.backtest.results import BacktestResult
from statarb.conventions import DIRECTIONS, SIDES, UTC_US
from statarb.storage.database import ensure_schema, get_engine, write_transaction
from statarb.storage.leftovers import equity_temp_prefix, sweep
from statarb.storage.secrets import mask
from statarb.storage.sql_io import read_table, write_frame

RUN_ID_RE = re.compile(r"^bt_(\d{8})_(\d{3,})$")
ACCRUAL_COLUMNS = ("borrow_cost", "financing_cost")
ACCRUALS_FILE = "accruals.parquet"
_PG_LOCK_KEY = 0x4254_5255  # "BTRU": serialises run-id / signal-id allocation on PostgreSQL


class RunExistsError(ValueError):
    """A run with this ``run_id`` is already stored (runs are immutable, spec §9.3)."""


class RunValidationError(ValueError):
    """A result breaks a spec §8 rule; the message names the table, row and rule."""


def git_commit(cwd: str | Path | None = None) -> str:
    """``git rev-parse HEAD`` of the working tree, or ``"unknown"``."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def validate_result(result: BacktestResult) -> None:
    """Check §8: signal/fill times inside ``[start_ts, end_ts]``, enums, fills after signals."""
    start, end = result.start_ts, result.end_ts
    if start is None or end is None:
        raise RunValidationError("backtest: empty time grid (no bars), nothing to persist")
    checks = [
        (result.signals, "backtest_signals", "signal_ts"),
        (result.fills, "backtest_fills", "fill_ts"),
        (result.equity, "backtest_equity", "ts"),
    ]
    for df, table, col in checks:
        bad = df.with_row_index("_row").filter((pl.col(col) < start) | (pl.col(col) > end))
        if bad.height:
            r = bad.row(0, named=True)
            raise RunValidationError(
                f"{table}: row {r['_row']}: rule '{col} within run [start_ts, end_ts]' violated "
                f"({r[col]} not in [{start}, {end}])"
            )
    for df, table, col, allowed in (
        (result.signals, "backtest_signals", "direction", DIRECTIONS),
        (result.fills, "backtest_fills", "side", SIDES),
    ):
        bad = df.with_row_index("_row").filter(~pl.col(col).is_in(list(allowed)))
        if bad.height:
            r = bad.row(0, named=True)
            raise RunValidationError(
                f"{table}: row {r['_row']}: rule '{col} in {allowed}' violated ({r[col]!r})"
            )
    if result.fills.height:
        sig_ts = result.signals.select("signal_idx", "signal_ts")
        j = result.fills.with_row_index("_row").join(sig_ts, on="signal_idx", how="left")
        bad = j.filter(pl.col("signal_ts").is_null() | (pl.col("fill_ts") <= pl.col("signal_ts")))
        if bad.height:
            r = bad.row(0, named=True)
            raise RunValidationError(
                f"backtest_fills: row {r['_row']}: rule 'fill_ts > signal_ts of its signal' "
                f"violated (signal {r['signal_idx']})"
            )


def _lock(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})


def next_run_id(conn: sa.Connection, day: datetime) -> str:
    """``bt_YYYYMMDD_NNN`` with the next free ``NNN`` for ``day`` (001 for the first run).

    Ids held by sweep configurations (``sweep_results.run_id``, docs/research.md) count as taken:
    every configuration of a sweep is a run, stored in full or not."""
    return next_run_ids(conn, day, 1)[0]


def next_run_ids(conn: sa.Connection, day: datetime, n: int) -> list[str]:
    """The next ``n`` free ids ``bt_YYYYMMDD_NNN`` of ``day`` (over ``backtest_runs`` and
    ``sweep_results``); call inside the allocating transaction (after :func:`_lock`)."""
    prefix = f"bt_{day:%Y%m%d}_"
    q = (
        "SELECT run_id FROM backtest_runs WHERE run_id LIKE :p "
        "UNION SELECT run_id FROM sweep_results WHERE run_id LIKE :p"
    )
    rows = conn.execute(sa.text(q), {"p": prefix + "%"}).scalars()
    top = max((int(m.group(2)) for r in rows if (m := RUN_ID_RE.match(r))), default=0)
    return [f"{prefix}{top + i:03d}" for i in range(1, n + 1)]


def run_exists(conn: sa.Connection, run_id: str) -> bool:
    q = sa.text("SELECT 1 FROM backtest_runs WHERE run_id = :r")
    return conn.execute(q, {"r": run_id}).first() is not None


def sweep_of(conn: sa.Connection, run_id: str) -> str | None:
    """The ``sweep_id`` holding ``run_id`` as one of its configurations, if any."""
    q = sa.text("SELECT sweep_id FROM sweep_results WHERE run_id = :r")
    return conn.execute(q, {"r": run_id}).scalar()


def check_sweep_reservation(conn: sa.Connection, run_id: str, sweep_id: str | None) -> None:
    """A given ``run_id`` held by a sweep configuration may be stored only by that sweep (its
    top-k events), and a sweep may store only the ids it holds."""
    owner = sweep_of(conn, run_id)
    if owner == sweep_id:
        return
    if owner is None:
        raise RunExistsError(
            f"sweep_results: run_id {run_id!r} is not a configuration of sweep {sweep_id!r}"
        )
    raise RunExistsError(
        f"sweep_results: run_id {run_id!r} is a configuration of sweep {owner!r}; runs are "
        "immutable (spec §9.3) - use a new run_id for a new configuration"
    )


def build_config_json(cfg: BacktestConfig, result: BacktestResult, extra: dict | None) -> str:
    """Full run configuration (strategy, capital, fees, slippage) plus pairs and git commit."""
    d: dict[str, Any] = cfg.to_dict()
    d["pair_ids"] = list(result.pair_ids)
    d["git_commit"] = git_commit()
    if extra:
        d.update(extra)
    return mask(json.dumps(d, sort_keys=True, default=str))  # no credential is ever stored


def save_run(
    result: BacktestResult,
    cfg: BacktestConfig,
    url: str,
    run_id: str | None = None,
    extra_config: dict | None = None,
    equity_root: str | Path | None = None,
) -> str:
    """Write the run and its events in one transaction; return the ``run_id``."""
    validate_result(result)
    ensure_schema(url)
    now = datetime.now(UTC)
    pair_id = result.pair_ids[0] if len(result.pair_ids) == 1 else None
    config_json = build_config_json(cfg, result, extra_config)
    tmp_dir: Path | None = None
    if equity_root is not None:
        sweep(equity_root, max_depth=0)  # staging folders of a killed run
        tmp_dir = Path(tempfile.mkdtemp(prefix=equity_temp_prefix(), dir=_mkdir(Path(equity_root))))
    try:
        with write_transaction(url) as conn:  # SQLite: a second run waits for the lock
            _lock(conn)
            if run_id is None:
                run_id = next_run_id(conn, now)
            elif run_exists(conn, run_id):
                raise RunExistsError(
                    f"backtest_runs: run_id {run_id!r} already exists; runs are immutable "
                    "(spec §9.3) - use a new run_id for a new configuration"
                )
            else:
                check_sweep_reservation(conn, run_id, (extra_config or {}).get("sweep_id"))
            runs = pl.DataFrame(
                {
                    "run_id": [run_id],
                    "strategy_name": [cfg.strategy_name],
                    "pair_id": [pair_id],
                    "start_ts": [result.start_ts],
                    "end_ts": [result.end_ts],
                    "config_json": [config_json],
                    "created_at": [now],
                },
                schema_overrides={
                    "pair_id": pl.String,
                    "start_ts": UTC_US,
                    "end_ts": UTC_US,
                    "created_at": UTC_US,
                },
            )
            write_frame(conn, "backtest_runs", runs, mode="insert")
            base = conn.execute(
                sa.text("SELECT COALESCE(MAX(id), 0) FROM backtest_signals")
            ).scalar_one()
            sig = result.signals.with_columns(
                (pl.col("signal_idx") + int(base) + 1).alias("id"), pl.lit(run_id).alias("run_id")
            )
            write_frame(
                conn,
                "backtest_signals",
                sig.select(
                    "id",
                    "run_id",
                    "signal_ts",
                    "direction",
                    "symbol_a",
                    "symbol_b",
                    "hedge_ratio",
                    "size",
                    "metadata_json",
                ),
                mode="insert",
            )
            fills = result.fills.with_columns(
                (pl.col("signal_idx") + int(base) + 1).alias("signal_id"),
                pl.lit(run_id).alias("run_id"),
            ).select(
                "run_id",
                "signal_id",
                "fill_ts",
                "symbol",
                "side",
                "quantity",
                "price",
                "commission",
                "slippage_bps",
            )
            write_frame(conn, "backtest_fills", fills, mode="insert")
            eq = result.equity.with_columns(pl.lit(run_id).alias("run_id")).select(
                "run_id", "ts", "equity", "cash", "positions_value"
            )
            write_frame(conn, "backtest_equity", eq, mode="insert")
            if tmp_dir is not None:
                eq.write_parquet(tmp_dir / "equity.parquet")
                carry = [c for c in ACCRUAL_COLUMNS if c in result.equity.columns]
                if carry:
                    result.equity.select("ts", *carry).write_parquet(tmp_dir / ACCRUALS_FILE)
        if tmp_dir is not None:
            final = Path(equity_root) / f"run_id={run_id}"  # type: ignore[arg-type]
            if final.exists():
                shutil.rmtree(final)
            tmp_dir.rename(final)
            tmp_dir = None
    finally:
        if tmp_dir is not None:
            shutil.rmtree(tmp_dir, ignore_errors=True)
    return run_id


def _mkdir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


def load_run(url: str, run_id: str) -> dict[str, pl.DataFrame]:
    """The stored run: frames ``runs``, ``signals``, ``fills``, ``equity`` (ordered by key)."""
    eng = get_engine(url)
    where, params = "run_id = :r", {"r": run_id}
    out = {
        "runs": read_table(eng, "backtest_runs", where, params),
        "signals": read_table(eng, "backtest_signals", where, params),
        "fills": read_table(eng, "backtest_fills", where, params),
        "equity": read_table(eng, "backtest_equity", where, params),
    }
    if out["runs"].height == 0:
        raise KeyError(f"backtest_runs: no run {run_id!r}")
    return out
