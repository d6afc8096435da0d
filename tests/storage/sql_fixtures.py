"""Shared fixtures/helpers of the relational-tier tests (imported by the ``test_sql_*`` modules)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import polars as pl
import pytest
import sqlalchemy as sa

from statarb.storage import database
from statarb.storage.sql_io import write_frame

UTC = dt.UTC


@pytest.fixture(name="engine")
def engine_fixture(db_url: str) -> Iterator[sa.Engine]:
    """A migrated database (both back-ends); cached engines are disposed afterwards."""
    database.upgrade(db_url)
    try:
        yield database.get_engine(db_url)
    finally:
        database.dispose_engines()


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def symbols_frame(*ids: str) -> pl.DataFrame:
    return pl.DataFrame({"symbol_id": list(ids), "display_name": [f"{s} Inc" for s in ids]})


def pair_frame(*pairs: tuple[str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "pair_id": [f"{a}_{b}" for a, b in pairs],
            "symbol_a": [a for a, _ in pairs],
            "symbol_b": [b for _, b in pairs],
        }
    )


def run_frame(run_id: str = "bt_20240102_001", pair_id: str | None = "AAPL_MSFT") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "run_id": [run_id],
            "strategy_name": ["ou_bands"],
            "pair_id": [pair_id],
            "start_ts": [utc(2024, 1, 2, 14, 30)],
            "end_ts": [utc(2024, 1, 31, 21, 0)],
            "config_json": ['{"fee_bps": 1}'],
            "created_at": [utc(2024, 2, 1)],
        }
    )


@pytest.fixture(name="seeded")
def seeded_fixture(engine: sa.Engine) -> sa.Engine:
    """Symbols AAPL/MSFT/SPY/QQQ, pairs AAPL_MSFT and QQQ_SPY, one backtest run."""
    with engine.begin() as conn:
        write_frame(conn, "symbols", symbols_frame("AAPL", "MSFT", "SPY", "QQQ"))
        write_frame(conn, "pair_universe", pair_frame(("AAPL", "MSFT"), ("QQQ", "SPY")))
        write_frame(conn, "backtest_runs", run_frame())
    return engine


def count_rows(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
