"""write_frame on both back-ends: bad writes are rejected with errors naming table, row, key and rule."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
import sqlalchemy as sa

from statarb.storage.errors import IntegrityViolation, SchemaMismatch
from statarb.storage.sql_io import read_table, write_frame
from tests.storage.sql_fixtures import (
    count_rows,
    engine_fixture,  # noqa: F401 - fixture `engine`
    pair_frame,
    seeded_fixture,  # noqa: F401 - fixture `seeded`
    symbols_frame,
    utc,
)


# ---- rejections --------------------------------------------------------------------------------------
def test_pair_order_violation_names_row_key_and_rule(seeded: sa.Engine) -> None:
    frame = pl.DataFrame(
        {
            "pair_id": ["AAPL_SPY", "QQQ_MSFT", "AAPL_QQQ", "SPY_SPY"],
            "symbol_a": ["AAPL", "QQQ", "AAPL", "SPY"],
            "symbol_b": ["SPY", "MSFT", "QQQ", "SPY"],
        }
    )
    with pytest.raises(IntegrityViolation) as info:
        write_frame(seeded, "pair_universe", frame)
    err = info.value
    assert str(err).startswith(
        "pair_universe: row 1 (pair_id='QQQ_MSFT'): rule symbol_a < symbol_b violated"
    )
    assert (err.table, err.row, err.constraint) == (
        "pair_universe",
        1,
        "ck_pair_universe_symbol_order",
    )
    with pytest.raises(
        IntegrityViolation, match=r"row 0 \(pair_id='SPY_SPY'\).*symbol_a < symbol_b"
    ):
        write_frame(seeded, "pair_universe", frame.tail(1))
    with pytest.raises(IntegrityViolation, match=r"pair_id = symbol_a \|\| '_' \|\| symbol_b"):
        write_frame(seeded, "pair_universe", frame.head(1).with_columns(pair_id=pl.lit("AAPL-SPY")))
    assert count_rows(seeded, "pair_universe") == 2


def test_unknown_symbol_foreign_key(seeded: sa.Engine) -> None:
    with pytest.raises(IntegrityViolation) as info:
        write_frame(seeded, "pair_universe", pair_frame(("AAPL", "SPY"), ("AAPL", "ZZZZ")))
    msg = str(info.value)
    assert msg.startswith("pair_universe: row 1 (pair_id='AAPL_ZZZZ'): rule symbol_b must exist")
    assert "fk_pair_universe_symbol_b_symbols" in msg and "'ZZZZ'" in msg
    with pytest.raises(IntegrityViolation, match=r"run_id must exist in backtest_runs\.run_id"):
        write_frame(seeded, "backtest_metrics", pl.DataFrame({"run_id": ["bt_missing"]}))


@pytest.mark.parametrize(
    ("table", "change", "rule"),
    [
        ("backtest_fills", {"price": -1.0}, "price >= 0"),
        ("backtest_fills", {"quantity": -5.0}, "quantity >= 0"),
        ("backtest_fills", {"commission": -0.1}, "commission >= 0 when not null"),
        ("backtest_fills", {"side": "short"}, "side in ('buy', 'sell')"),
        ("backtest_signals", {"direction": "long"}, "direction in ("),
        ("corporate_actions", {"action_type": "merger"}, "action_type in ("),
        ("corporate_actions", {"ratio": 0.0}, "ratio > 0 when not null"),
        ("corporate_actions", {"cash_amount": -0.01}, "cash_amount >= 0 when not null"),
        ("symbols", {"symbol_id": "aapl"}, "symbol_id upper case"),
        ("symbols", {"symbol_id": "BRK B"}, "symbol_id upper case"),
    ],
)
def test_check_rules_rejected_before_writing(
    seeded: sa.Engine, table: str, change: dict, rule: str
) -> None:
    good = {
        "backtest_fills": {
            "run_id": "bt_20240102_001",
            "fill_ts": utc(2024, 1, 2, 15, 2),
            "symbol": "AAPL",
            "side": "buy",
            "quantity": 10.0,
            "price": 185.0,
            "commission": 0.1,
        },
        "backtest_signals": {
            "run_id": "bt_20240102_001",
            "signal_ts": utc(2024, 1, 2, 15, 1),
            "direction": "flat",
        },
        "corporate_actions": {
            "symbol_id": "AAPL",
            "action_type": "split",
            "ex_date": dt.date(2024, 1, 10),
            "ratio": 2.0,
            "cash_amount": 0.0,
        },
        "symbols": {"symbol_id": "IBM"},
    }[table]
    before = count_rows(seeded, table)
    ok_row, bad_row = dict(good), {**good, **change}
    if table == "corporate_actions":
        ok_row["ex_date"] = dt.date(2024, 1, 9)
    if table == "symbols":
        ok_row["symbol_id"] = "ORCL"
    frame = pl.DataFrame([ok_row, bad_row])
    with pytest.raises(IntegrityViolation) as info:
        write_frame(seeded, table, frame)
    assert str(info.value).startswith(f"{table}: row 1")
    assert rule in info.value.rule
    assert count_rows(seeded, table) == before


def test_duplicate_key_in_one_write(seeded: sa.Engine) -> None:
    frame = pl.DataFrame(
        {
            "run_id": ["bt_20240102_001"] * 3,
            "ts": [utc(2024, 1, 2, 15, 2), utc(2024, 1, 2, 15, 3), utc(2024, 1, 2, 15, 2)],
            "equity": [1.0, 2.0, 3.0],
        }
    )
    with pytest.raises(IntegrityViolation) as info:
        write_frame(seeded, "backtest_equity", frame)
    msg = str(info.value)
    assert "row 0 (run_id='bt_20240102_001', ts='2024-01-02 15:02:00Z')" in msg
    assert "unique key (run_id, ts)" in msg and "rows [0, 2]" in msg
    with pytest.raises(IntegrityViolation, match=r"symbols: row 0 \(symbol_id='AAPL'\)"):
        write_frame(seeded, "symbols", symbols_frame("AAPL", "AAPL"))


def test_insert_mode_duplicate_against_db_is_translated(seeded: sa.Engine) -> None:
    frame = pl.DataFrame({"pair_id": ["AAPL_MSFT"], "test_ts": [utc(2024, 1, 2)]})
    write_frame(seeded, "cointegration_results", frame, mode="insert")
    with pytest.raises(IntegrityViolation) as info:
        write_frame(seeded, "cointegration_results", frame, mode="insert")
    assert info.value.table == "cointegration_results"
    assert info.value.constraint == "uq_cointegration_results_pair_id_test_ts"
    assert info.value.rule == "unique (pair_id, test_ts)"


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (
            pl.DataFrame({"run_id": ["r"], "ts": [dt.datetime(2024, 1, 2)], "equity": [1.0]}),
            r"backtest_equity\.ts: naive datetime",
        ),
        (
            pl.DataFrame(
                {"run_id": ["r"], "ts": [dt.datetime(2024, 1, 2)], "equity": [1.0]}
            ).with_columns(pl.col("ts").dt.replace_time_zone("America/New_York")),
            r"backtest_equity\.ts: datetime in time zone 'America/New_York', expected UTC",
        ),
        (
            pl.DataFrame({"run_id": ["r"], "ts": ["2024-01-02 15:00"], "equity": [1.0]}),
            r"backtest_equity\.ts: expected Datetime\('us', 'UTC'\), got String",
        ),
        (
            pl.DataFrame({"run_id": ["r"], "ts": [utc(2024, 1, 2)], "equity": ["1.0"]}),
            r"backtest_equity\.equity: expected Float64 .* got String",
        ),
        (
            pl.DataFrame({"run_id": ["r"], "ts": [utc(2024, 1, 2)], "equty": [1.0]}),
            r"backtest_equity: unknown column\(s\) \['equty'\]",
        ),
        (
            pl.DataFrame({"run_id": ["r"], "ts": [utc(2024, 1, 2)]}),
            r"backtest_equity: missing NOT NULL column\(s\) \['equity'\]",
        ),
    ],
)
def test_schema_mismatches(seeded: sa.Engine, frame: pl.DataFrame, match: str) -> None:
    with pytest.raises(SchemaMismatch, match=match):
        write_frame(seeded, "backtest_equity", frame)


def test_wrong_dtypes_other_types(seeded: sa.Engine) -> None:
    with pytest.raises(SchemaMismatch, match=r"backtest_metrics\.num_trades: expected Int64"):
        write_frame(
            seeded, "backtest_metrics", pl.DataFrame({"run_id": ["x"], "num_trades": [1.5]})
        )
    with pytest.raises(SchemaMismatch, match=r"cointegration_results\.is_cointegrated"):
        write_frame(
            seeded,
            "cointegration_results",
            pl.DataFrame(
                {"pair_id": ["AAPL_MSFT"], "test_ts": [utc(2024, 1, 2)], "is_cointegrated": [1]}
            ),
        )
    with pytest.raises(SchemaMismatch, match=r"unknown table 'bars'; known tables: .*symbols"):
        write_frame(seeded, "bars", pl.DataFrame({"x": [1]}))


def test_null_and_nan_in_not_null_columns(seeded: sa.Engine) -> None:
    frame = pl.DataFrame(
        {
            "run_id": ["bt_20240102_001"] * 2,
            "ts": [utc(2024, 1, 2, 15, 2), utc(2024, 1, 2, 15, 3)],
            "equity": [1.0, float("nan")],
        }
    )
    with pytest.raises(IntegrityViolation, match=r"row 1 .*equity NOT NULL"):
        write_frame(seeded, "backtest_equity", frame)
    # NaN in a nullable REAL column is stored as NULL on both back-ends
    write_frame(seeded, "backtest_equity", frame.with_columns(cash=pl.col("equity")).head(1))
    ok = frame.with_columns(equity=pl.lit(1.0), cash=pl.Series([float("nan"), 2.0]))
    write_frame(seeded, "backtest_equity", ok)
    assert read_table(seeded, "backtest_equity")["cash"].to_list() == [None, 2.0]
