"""Schema evolution: a database written at revision N-1 is migrated to head without data loss.

Each revision after 0001 gets a case here: rows written through the N-1 schema must keep their
count and content (a checksum over every column) after ``upgrade``, and the new objects must work.
"""

from __future__ import annotations

import hashlib

import polars as pl
import pytest
import sqlalchemy as sa
from alembic import command

from statarb.storage import database
from statarb.storage.sql_io import read_table, write_frame
from tests.storage.sql_fixtures import pair_frame, run_frame, symbols_frame, utc

OLD_TABLES = ("symbols", "pair_universe", "cointegration_results", "backtest_runs")


V3_INDEX_COLUMNS = [
    "id", "symbol_id", "store", "source", "path", "h5_group", "date", "row_start", "row_stop",
    "start_ts", "end_ts",
]  # fmt: skip


def _checksum(engine: sa.Engine, table: str, columns: list[str] | None = None) -> tuple[int, str]:
    df = read_table(engine, table, columns=columns)
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
    assert [v[0] for v in versions] == [1, 2, 3, 4, 5, 6]
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


# ---- 0002 -> 0003 (bar_partition_index) and 0003 -> 0004 (data_batches, batch_id) ------------


def _index_rows(n_days: int = 3) -> pl.DataFrame:
    import datetime as dt

    days = [dt.date(2024, 1, 2) + dt.timedelta(days=i) for i in range(n_days)]
    return pl.DataFrame(
        {
            "symbol_id": ["AAPL"] * n_days,
            "store": ["data/bars"] * n_days,
            "source": ["SYNTH"] * n_days,
            "path": ["source=SYNTH/AAPL.h5"] * n_days,
            "h5_group": ["/bars/AAPL"] * n_days,
            "date": days,
            "row_start": [390 * i for i in range(n_days)],
            "row_stop": [390 * (i + 1) for i in range(n_days)],
            "start_ts": [utc(d.year, d.month, d.day, 14, 30) for d in days],
            "end_ts": [utc(d.year, d.month, d.day, 20, 59) for d in days],
        }
    )


def _write_at_0003(url: str) -> None:
    _write_at_0001(url)
    database.upgrade(url, "0003")
    with database.get_engine(url).begin() as conn:
        write_frame(conn, "bar_partition_index", _index_rows())


def test_0002_to_0003_adds_bar_partition_index_and_keeps_rows(db_url: str) -> None:
    _write_at_0001(db_url)
    database.upgrade(db_url, "0002")
    eng = database.get_engine(db_url)
    before = {t: _checksum(eng, t) for t in OLD_TABLES}
    database.upgrade(db_url, "0003")
    assert database.current_revision(db_url) == "0003"
    assert {t: _checksum(eng, t) for t in OLD_TABLES} == before
    with eng.begin() as conn:
        write_frame(conn, "bar_partition_index", _index_rows(2))
    got = read_table(eng, "bar_partition_index", columns=V3_INDEX_COLUMNS)
    assert got["row_stop"].to_list() == [390, 780]
    cols = [c["name"] for c in sa.inspect(eng).get_columns("bar_partition_index")]
    assert cols == V3_INDEX_COLUMNS
    database.dispose_engines()


def test_0003_to_0004_keeps_index_rows_and_adds_batches(db_url: str) -> None:
    _write_at_0003(db_url)
    eng = database.get_engine(db_url)
    before = {t: _checksum(eng, t) for t in OLD_TABLES}
    index_before = _checksum(eng, "bar_partition_index", V3_INDEX_COLUMNS)
    database.upgrade(db_url, "0004")
    assert {t: _checksum(eng, t) for t in OLD_TABLES} == before
    # the old index rows are intact (same checksum over the 0003 columns); batch_id is null
    assert _checksum(eng, "bar_partition_index", V3_INDEX_COLUMNS) == index_before
    after_rows = read_table(eng, "bar_partition_index")
    assert after_rows["batch_id"].null_count() == after_rows.height == 3
    # the new key admits a second version of a slice, the FK guards batch ids
    with eng.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO data_batches (created_at, note) VALUES (:t, 'fix')"),
            {"t": utc(2024, 2, 1).replace(tzinfo=None)},
        )
        write_frame(conn, "bar_partition_index", _index_rows(1).with_columns(batch_id=pl.lit(1)))
    assert read_table(eng, "bar_partition_index").height == 4
    with eng.connect() as conn:
        versions = [v[0] for v in conn.execute(sa.text("SELECT version FROM schema_version"))]
    assert versions == [1, 2, 3, 4]
    database.dispose_engines()


def test_statarb_db_upgrade_migrates_a_0003_database_without_loss(db_url: str) -> None:
    from click.testing import CliRunner

    from statarb.cli import main

    _write_at_0003(db_url)
    eng = database.get_engine(db_url)
    before = {t: _checksum(eng, t) for t in OLD_TABLES}
    index_before = _checksum(eng, "bar_partition_index", V3_INDEX_COLUMNS)
    database.dispose_engines()
    res = CliRunner().invoke(main, ["db", "upgrade", "--db-url", db_url])
    assert res.exit_code == 0, res.output
    assert f"at revision {database.head_revision()}" in res.output
    eng = database.get_engine(db_url)
    assert {t: _checksum(eng, t) for t in OLD_TABLES} == before
    assert _checksum(eng, "bar_partition_index", V3_INDEX_COLUMNS) == index_before
    database.dispose_engines()


# ---- 0004 -> 0005 (sweeps, sweep_results) -----------------------------------------------------
def test_0004_to_0005_keeps_rows_adds_sweep_tables_and_downgrades(db_url: str) -> None:
    _write_at_0003(db_url)
    database.upgrade(db_url, "0004")
    eng = database.get_engine(db_url)
    before = {t: _checksum(eng, t) for t in OLD_TABLES}
    database.upgrade(db_url, "0005")
    assert {t: _checksum(eng, t) for t in OLD_TABLES} == before
    insp = sa.inspect(eng)
    assert {"sweeps", "sweep_results"} <= set(insp.get_table_names())
    with eng.begin() as conn:  # the FK and the unique run_id hold
        conn.execute(
            sa.text(
                "INSERT INTO sweeps (sweep_id, strategy_name, n_configs, n_trials, created_at) "
                "VALUES ('sw_20260101_001', 's', 1, 1, :t)"
            ),
            {"t": utc(2024, 2, 1).replace(tzinfo=None)},
        )
        row = (
            "INSERT INTO sweep_results (sweep_id, run_id, entry_z, exit_z, stop_z, "
            "max_holding_bars, cost_scale, has_events, config_json) VALUES "
            "('sw_20260101_001', 'bt_20260101_001', 2, 0.5, 4, 0, 1, false, '{}')"
        )
        conn.execute(sa.text(row))
    with pytest.raises(sa.exc.IntegrityError), eng.begin() as conn:
        conn.execute(sa.text(row))
    database.dispose_engines()
    command.downgrade(database.alembic_config(db_url), "0004")
    eng = database.get_engine(db_url)
    assert not {"sweeps", "sweep_results"} & set(sa.inspect(eng).get_table_names())
    assert {t: _checksum(eng, t) for t in OLD_TABLES} == before
    database.dispose_engines()


# ---- 0005 -> 0006 (selection_log confirmation columns) -----------------------------------------
def test_0005_to_0006_keeps_selection_rows_adds_confirmation_columns_and_downgrades(
    db_url: str,
) -> None:
    _write_at_0003(db_url)
    database.upgrade(db_url, "0005")
    eng = database.get_engine(db_url)
    log = pl.DataFrame(
        {
            "pair_id": ["AAPL_MSFT"] * 2,
            "test_ts": [utc(2024, 1, 2, 21), utc(2024, 1, 3, 21)],
            "method": ["eg", "eg"],
            "pvalue": [0.01, 0.5],
            "pass_test": [True, False],
            "tradable": [True, False],
            "reason": [None, "multiple_testing: bh q=0.5 >= 0.05"],
        }
    )
    with eng.begin() as conn:
        write_frame(conn, "selection_log", log)
    old_cols = [c["name"] for c in sa.inspect(eng).get_columns("selection_log")]
    before = {t: _checksum(eng, t) for t in OLD_TABLES}
    before_log = _checksum(eng, "selection_log", old_cols)
    database.upgrade(db_url, "0006")
    assert {t: _checksum(eng, t) for t in OLD_TABLES} == before
    assert _checksum(eng, "selection_log", old_cols) == before_log
    got = read_table(eng, "selection_log").sort("test_ts")
    assert got["confirm_pvalue"].null_count() == 2 and got["pass_confirmation"].null_count() == 2
    with eng.begin() as conn:  # the new columns take values
        write_frame(
            conn,
            "selection_log",
            log.head(1).with_columns(
                test_ts=pl.lit(utc(2024, 1, 4, 21)),
                confirm_pvalue=pl.lit(0.02),
                pass_confirmation=pl.lit(True),
            ),  # fmt: skip
        )
    row = read_table(eng, "selection_log").filter(pl.col("confirm_pvalue").is_not_null())
    assert row["pass_confirmation"].to_list() == [True]
    database.dispose_engines()
    command.downgrade(database.alembic_config(db_url), "0005")
    eng = database.get_engine(db_url)
    cols = {c["name"] for c in sa.inspect(eng).get_columns("selection_log")}
    assert not {"confirm_pvalue", "pass_confirmation"} & cols
    assert {t: _checksum(eng, t) for t in OLD_TABLES} == before
    assert read_table(eng, "selection_log", columns=["pair_id"]).height == 3
    database.dispose_engines()
