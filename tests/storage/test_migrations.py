"""Schema evolution: a database written at revision N-1 is migrated to head without data loss.

Each revision after 0001 gets a case here: rows written through the N-1 schema must keep their
count and content (a checksum over every column) after ``upgrade``, and the new objects must work.
"""

from __future__ import annotations

import hashlib

import polars as pl
import sqlalchemy as sa
from alembic import command

from statarb.storage import database
from statarb.storage.sql_io import read_table, write_frame
from tests.storage.sql_fixtures import pair_frame, run_frame, symbols_frame, utc

OLD_TABLES = ("symbols", "pair_universe", "cointegration_results", "backtest_runs")


def _checksum(engine: sa.Engine, table: str) -> tuple[int, str]:
    df = read_table(engine, table)
    df = df.sort(df.columns)
    return df.height, hashlib.sha256(df.write_csv().encode()).hexdigest()


def _write_at_0001(url: str) -> None:
    database.upgrade(url, "0001")
    eng = database.get_engine(url)
    with eng.begin() as conn:
        write_frame(conn, "symbols", symbols_frame("AAPL", "MSFT"))
        write_frame(conn, "pair_universe", pair_frame(("AAPL", "MSFT")))
        write_frame(conn, "backtest_runs", run_frame())
        coint = pl.DataFrame(
            {
                "pair_id": ["AAPL_MSFT"] * 2,
                "test_ts": [utc(2024, 1, 2, 21), utc(2024, 1, 3, 21)],
                "adf_statistic": [-3.5, -1.2],
                "adf_pvalue": [0.03, 0.8],
                "is_cointegrated": [True, False],
            }
        )
        write_frame(conn, "cointegration_results", coint)


def test_0001_to_head_keeps_every_row_and_adds_selection_log(db_url: str) -> None:
    _write_at_0001(db_url)
    eng = database.get_engine(db_url)
    assert database.current_revision(db_url) == "0001"
    assert "selection_log" not in sa.inspect(eng).get_table_names()
    before = {t: _checksum(eng, t) for t in OLD_TABLES}

    database.upgrade(db_url)

    assert database.current_revision(db_url) == database.head_revision()
    assert {t: _checksum(eng, t) for t in OLD_TABLES} == before
    with eng.connect() as conn:
        versions = conn.execute(sa.text("SELECT version FROM schema_version ORDER BY 1")).all()
    assert [v[0] for v in versions] == [1, 2]
    row = pl.DataFrame(
        {
            "pair_id": ["AAPL_MSFT"],
            "test_ts": [utc(2024, 1, 2, 21)],
            "method": ["eg"],
            "pvalue": [0.03],
            "tradable": [False],
            "reason": ["multiple_testing: q=0.06 >= 0.05"],
        }
    )
    with eng.begin() as conn:
        write_frame(conn, "selection_log", row)
    got = read_table(eng, "selection_log")
    assert got.select("pair_id", "method", "tradable", "reason").row(0) == (
        "AAPL_MSFT",
        "eg",
        False,
        "multiple_testing: q=0.06 >= 0.05",
    )
    database.dispose_engines()


def test_downgrade_to_0001_removes_only_the_new_objects(db_url: str) -> None:
    _write_at_0001(db_url)
    database.upgrade(db_url)
    eng = database.get_engine(db_url)
    before = {t: _checksum(eng, t) for t in OLD_TABLES}
    cfg = database.alembic_config(db_url)
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    assert "selection_log" not in sa.inspect(eng).get_table_names()
    assert {t: _checksum(eng, t) for t in OLD_TABLES} == before
    database.dispose_engines()
