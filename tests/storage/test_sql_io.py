"""write_frame / read_table on both back-ends: round trips, upsert semantics, clear rejections."""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd
import polars as pl
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal

from statarb.storage.errors import IntegrityViolation, SchemaMismatch
from statarb.storage.sql_io import polars_schema, read_table, write_frame
from tests.storage.sql_fixtures import (
    count_rows,
    engine_fixture,  # noqa: F401 - fixture `engine`
    pair_frame,
    run_frame,
    seeded_fixture,  # noqa: F401 - fixture `seeded`
    symbols_frame,
    utc,
)


# ---- round trips ---------------------------------------------------------------------------------
def test_round_trip_keeps_values_dtypes_and_full_double_precision(seeded: sa.Engine) -> None:
    pvalue = 1.2345678901234567e-5  # needs 17 significant digits: a 4-byte REAL would lose it
    frame = pl.DataFrame(
        {
            "pair_id": ["AAPL_MSFT", "AAPL_MSFT", "QQQ_SPY"],
            "test_ts": [utc(2024, 1, 2, 15, 0, 0), utc(2024, 1, 3, 15, 0, 0), utc(2024, 1, 2, 15)],
            "adf_statistic": [-3.912345678901234, -1.5, None],
            "adf_pvalue": [pvalue, 0.5, None],
            "johansen_trace": [None, None, 17.25],
            "johansen_pvalue": [None, None, 0.01],
            "cointegrating_vector": ["[1.0, -0.8]", None, "[1.0, -1.1]"],
            "is_cointegrated": [True, False, None],
            "created_at": [utc(2024, 1, 2, 15, 0, 0, 123456), None, utc(2024, 1, 2, 16)],
        }
    )
    assert write_frame(seeded, "cointegration_results", frame) == 3
    got = read_table(seeded, "cointegration_results")
    assert got.schema == pl.Schema(polars_schema("cointegration_results"))
    assert got["id"].to_list() == [1, 2, 3]
    assert_frame_equal(got.drop("id"), frame)  # exact, microseconds included
    assert got["adf_pvalue"][0] == pvalue


def test_round_trip_every_spec_table(seeded: sa.Engine) -> None:
    frames = {
        "corporate_actions": pl.DataFrame(
            {
                "symbol_id": ["AAPL", "MSFT"],
                "action_type": ["split", "dividend"],
                "ex_date": [dt.date(2024, 1, 10), dt.date(2024, 1, 11)],
                "recorded_at": [utc(2024, 1, 1), None],
                "ratio": [4.0, None],
                "cash_amount": [None, 0.75],
                "metadata_json": [None, '{"src": "synthetic"}'],
            }
        ),
        "kalman_params": pl.DataFrame(
            {
                "pair_id": ["AAPL_MSFT"],
                "window_start": [utc(2024, 1, 2)],
                "window_end": [utc(2024, 1, 9)],
                "initial_state": ["[0.8, 0.01]"],
                "process_noise": [1e-7],
                "measurement_noise": [1e-3],
                "created_at": [utc(2024, 1, 9, 1)],
            }
        ),
        "ou_params": pl.DataFrame(
            {
                "pair_id": ["QQQ_SPY"],
                "window_start": [utc(2024, 1, 2)],
                "window_end": [utc(2024, 1, 9)],
                "theta": [12.5],
                "mu": [-0.02],
                "sigma": [0.3],
                "entry_upper": [2.0],
                "entry_lower": [-2.0],
                "exit_threshold": [0.0],
                "created_at": [None],
            },
            schema_overrides={"created_at": pl.Datetime("us", "UTC")},
        ),
        "backtest_signals": pl.DataFrame(
            {
                "id": [1, 2],
                "run_id": ["bt_20240102_001"] * 2,
                "signal_ts": [utc(2024, 1, 2, 15, 1), utc(2024, 1, 2, 16, 7)],
                "direction": ["long_spread", "flat"],
                "symbol_a": ["AAPL", "AAPL"],
                "symbol_b": ["MSFT", "MSFT"],
                "hedge_ratio": [0.81, 0.82],
                "size": [100.0, 0.0],
                "metadata_json": ['{"z": -2.1}', '{"z": 0.1}'],
            }
        ),
        "backtest_fills": pl.DataFrame(
            {
                "id": [1, 2],
                "run_id": ["bt_20240102_001"] * 2,
                "signal_id": [1, 1],
                "fill_ts": [utc(2024, 1, 2, 15, 2)] * 2,
                "symbol": ["AAPL", "MSFT"],
                "side": ["buy", "sell"],
                "quantity": [100.0, 81.0],
                "price": [185.12, 370.5],
                "commission": [0.5, 0.4],
                "slippage_bps": [1.0, 1.0],
            }
        ),
        "backtest_equity": pl.DataFrame(
            {
                "run_id": ["bt_20240102_001"] * 2,
                "ts": [utc(2024, 1, 2, 15, 2), utc(2024, 1, 2, 15, 3)],
                "equity": [1_000_000.0, 1_000_012.25],
                "cash": [1_000_000.0, 970_000.0],
                "positions_value": [0.0, 30_012.25],
            }
        ),
        "backtest_metrics": pl.DataFrame(
            {
                "run_id": ["bt_20240102_001"],
                "sharpe_annual": [1.4],
                "sortino_annual": [2.1],
                "calmar": [0.9],
                "max_drawdown": [-0.07],
                "total_return": [0.031],
                "num_trades": [12],
                "win_rate": [0.58],
                "alpha": [None],
                "beta": [0.05],
                "metrics_json": ["{}"],
                "computed_at": [utc(2024, 2, 1)],
            },
            schema_overrides={"alpha": pl.Float64},
        ),
    }
    with seeded.begin() as conn:
        for table, frame in frames.items():
            write_frame(conn, table, frame)
    for table, frame in frames.items():
        got = read_table(seeded, table)
        expected = frame.select(
            pl.col(c).cast(d) for c, d in polars_schema(table).items() if c in frame.columns
        )
        assert_frame_equal(got.select(frame.columns), expected, check_row_order=False)
    runs = read_table(seeded, "backtest_runs")
    assert_frame_equal(runs, run_frame())
    assert read_table(seeded, "symbols")["symbol_id"].to_list() == ["AAPL", "MSFT", "QQQ", "SPY"]


def test_pandas_input_with_utc_timestamps(seeded: sa.Engine) -> None:
    pdf = pd.DataFrame(
        {
            "run_id": ["bt_20240102_001"] * 2,
            "ts": pd.to_datetime(["2024-01-02 15:02", "2024-01-02 15:03"]).tz_localize("UTC"),
            "equity": [1.0, 2.0],
        }
    )
    write_frame(seeded, "backtest_equity", pdf)
    got = read_table(seeded, "backtest_equity", columns=["ts", "equity"])
    assert got["ts"].to_list() == [utc(2024, 1, 2, 15, 2), utc(2024, 1, 2, 15, 3)]
    with pytest.raises(SchemaMismatch, match=r"backtest_equity\.ts: naive datetime"):
        write_frame(seeded, "backtest_equity", pdf.assign(ts=pdf["ts"].dt.tz_localize(None)))


def test_read_table_where_params_columns(seeded: sa.Engine) -> None:
    got = read_table(
        seeded, "pair_universe", where="symbol_a = :a", params={"a": "QQQ"}, columns=["pair_id"]
    )
    assert got.to_dict(as_series=False) == {"pair_id": ["QQQ_SPY"]}
    with pytest.raises(SchemaMismatch, match=r"pair_universe: unknown column\(s\) \['nope'\]"):
        read_table(seeded, "pair_universe", columns=["nope"])
    empty = read_table(seeded, "ou_params")
    assert empty.height == 0 and empty.schema == pl.Schema(polars_schema("ou_params"))


# ---- upserts -----------------------------------------------------------------------------------------
def test_upsert_on_unique_key_keeps_one_copy_and_ids(seeded: sa.Engine) -> None:
    first = pl.DataFrame(
        {
            "pair_id": ["AAPL_MSFT", "AAPL_MSFT"],
            "test_ts": [utc(2024, 1, 2), utc(2024, 1, 3)],
            "adf_pvalue": [0.01, 0.02],
        }
    )
    write_frame(seeded, "cointegration_results", first)
    second = pl.DataFrame(
        {
            "pair_id": ["AAPL_MSFT", "AAPL_MSFT"],
            "test_ts": [utc(2024, 1, 3), utc(2024, 1, 4)],
            "adf_pvalue": [0.2, 0.03],
        }
    )
    write_frame(seeded, "cointegration_results", second)
    write_frame(seeded, "cointegration_results", second)
    got = read_table(seeded, "cointegration_results", columns=["id", "test_ts", "adf_pvalue"])
    assert got["test_ts"].to_list() == [utc(2024, 1, 2), utc(2024, 1, 3), utc(2024, 1, 4)]
    assert got["adf_pvalue"].to_list() == [0.01, 0.2, 0.03]
    assert got["id"].to_list()[:2] == [1, 2]  # existing rows keep their ids


@pytest.mark.parametrize("table", ["kalman_params", "ou_params"])
def test_upsert_without_db_unique_matches_key_with_nulls(seeded: sa.Engine, table: str) -> None:
    value_col = "process_noise" if table == "kalman_params" else "theta"
    frame = pl.DataFrame(
        {
            "pair_id": ["AAPL_MSFT", "AAPL_MSFT", "QQQ_SPY"],
            "window_start": [None, utc(2024, 1, 2), utc(2024, 1, 2)],
            "window_end": [utc(2024, 1, 9), utc(2024, 1, 9), utc(2024, 1, 9)],
            value_col: [1.0, 2.0, 3.0],
        },
        schema_overrides={"window_start": pl.Datetime("us", "UTC")},
    )
    write_frame(seeded, table, frame)
    ids_before = read_table(seeded, table)["id"].to_list()
    write_frame(seeded, table, frame.with_columns(pl.col(value_col) * 10))
    got = read_table(seeded, table)
    assert got.height == 3
    assert sorted(got["id"].to_list()) == sorted(ids_before)
    by_id = dict(zip(got["id"], got[value_col], strict=True))
    assert sorted(by_id.values()) == [10.0, 20.0, 30.0]


def test_corporate_actions_upsert_keeps_ids(seeded: sa.Engine) -> None:
    ca = pl.DataFrame(
        {
            "symbol_id": ["AAPL", "AAPL"],
            "action_type": ["split", "dividend"],
            "ex_date": [dt.date(2024, 1, 10), dt.date(2024, 1, 10)],
            "ratio": [2.0, None],
            "cash_amount": [None, 0.24],
        }
    )
    write_frame(seeded, "corporate_actions", ca)
    before = read_table(seeded, "corporate_actions").select("id", "action_type")
    write_frame(seeded, "corporate_actions", ca.with_columns(cash_amount=pl.Series([None, 0.25])))
    after = read_table(seeded, "corporate_actions")
    assert_frame_equal(after.select("id", "action_type"), before)
    assert after.filter(pl.col("action_type") == "dividend")["cash_amount"].to_list() == [0.25]


def test_symbols_upsert_keeps_created_at_and_bumps_updated_at_on_change(engine: sa.Engine) -> None:
    write_frame(engine, "symbols", symbols_frame("AAPL", "MSFT"))
    first = read_table(engine, "symbols")
    time.sleep(0.02)
    write_frame(engine, "symbols", symbols_frame("AAPL", "MSFT"))  # no change
    same = read_table(engine, "symbols")
    assert_frame_equal(same, first)
    time.sleep(0.02)
    changed = symbols_frame("AAPL", "MSFT").with_columns(
        display_name=pl.Series(["Apple Inc.", "MSFT Inc"])
    )
    write_frame(engine, "symbols", changed)
    after = read_table(engine, "symbols")
    assert after["created_at"].to_list() == first["created_at"].to_list()
    assert after["updated_at"][0] > first["updated_at"][0]  # AAPL changed
    assert after["updated_at"][1] == first["updated_at"][1]  # MSFT did not
    assert after["display_name"].to_list() == ["Apple Inc.", "MSFT Inc"]


def test_event_tables_explicit_and_assigned_ids(seeded: sa.Engine) -> None:
    sig = pl.DataFrame(
        {
            "id": [1, 2, 3],
            "run_id": ["bt_20240102_001"] * 3,
            "signal_ts": [utc(2024, 1, 2, 15, m) for m in (1, 2, 3)],
            "direction": ["long_spread", "flat", "short_spread"],
        }
    )
    write_frame(seeded, "backtest_signals", sig)
    write_frame(seeded, "backtest_signals", sig.with_columns(direction=pl.lit("flat")))
    # without ids the database assigns the next ones (PostgreSQL sequence moved past max(id))
    write_frame(seeded, "backtest_signals", sig.drop("id").head(2), mode="insert")
    got = read_table(seeded, "backtest_signals").sort("id")
    assert got["id"].to_list() == [1, 2, 3, 4, 5]
    assert got["direction"].to_list() == ["flat", "flat", "flat", "long_spread", "flat"]


def test_fk_check_sees_rows_written_earlier_in_same_transaction(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        write_frame(conn, "symbols", symbols_frame("GLD", "SLV"))
        write_frame(conn, "pair_universe", pair_frame(("GLD", "SLV")))
    assert read_table(engine, "pair_universe")["pair_id"].to_list() == ["GLD_SLV"]


def test_failed_write_rolls_back_callers_transaction(engine: sa.Engine) -> None:
    with pytest.raises(IntegrityViolation), engine.begin() as conn:
        write_frame(conn, "symbols", symbols_frame("GLD", "SLV"))
        write_frame(conn, "pair_universe", pair_frame(("SLV", "GLD")))
    assert count_rows(engine, "symbols") == 0


@pytest.mark.parametrize("table", ["cointegration_results", "ou_params", "backtest_signals"])
def test_load_modify_save_back_with_ids_then_append_null_id(seeded: sa.Engine, table: str) -> None:
    """The usual catalog cycle: frames read back carry ``id``; new rows may have a null id."""
    first = {
        "cointegration_results": pl.DataFrame(
            {"pair_id": ["AAPL_MSFT"] * 2, "test_ts": [utc(2024, 1, 2), utc(2024, 1, 3)]}
        ),
        "ou_params": pl.DataFrame(
            {"pair_id": ["AAPL_MSFT"] * 2, "window_end": [utc(2024, 1, 2), utc(2024, 1, 3)]}
        ),
        "backtest_signals": pl.DataFrame(
            {
                "run_id": ["bt_20240102_001"] * 2,
                "signal_ts": [utc(2024, 1, 2), utc(2024, 1, 3)],
                "direction": ["flat", "flat"],
            }
        ),
    }[table]
    write_frame(seeded, table, first)
    loaded = read_table(seeded, table)
    assert loaded["id"].to_list() == [1, 2]
    ts_col = [c for c in first.columns if c not in ("pair_id", "run_id", "direction")][0]
    extra = loaded.head(1).with_columns(
        pl.lit(None, dtype=pl.Int64).alias("id"), pl.lit(utc(2024, 1, 4)).alias(ts_col)
    )
    write_frame(seeded, table, pl.concat([loaded, extra]))
    got = read_table(seeded, table)
    assert got["id"].to_list() == [1, 2, 3]
    assert got[ts_col].to_list() == [utc(2024, 1, 2), utc(2024, 1, 3), utc(2024, 1, 4)]


def test_large_frame_round_trip_is_exact(seeded: sa.Engine) -> None:
    """3000 rows: above the PostgreSQL COPY threshold, so both write paths are covered."""
    import numpy as np

    n = 3000
    rng = np.random.default_rng(7)
    stat = rng.standard_normal(n) * 10.0 ** rng.integers(-300, 300, n)
    stat[:4] = [5e-324, 1.7976931348623157e308, 1.2345678901234567e-5, float("inf")]
    texts = ["", '[1.0, -0.5], "quoted"', "\\N", "x\ny"] + [f"[1.0, {v!r}]" for v in stat[4:]]
    ts0 = dt.datetime(2024, 1, 2, 14, 30, 0, 123456, tzinfo=dt.UTC)
    frame = pl.DataFrame(
        {
            "pair_id": ["AAPL_MSFT"] * n,
            "test_ts": [ts0 + dt.timedelta(minutes=i) for i in range(n)],
            "adf_statistic": stat,
            "adf_pvalue": [None if i % 5 == 0 else i / n for i in range(n)],
            "cointegrating_vector": [None if i % 7 == 0 else t for i, t in enumerate(texts)],
            "is_cointegrated": [None if i % 3 == 0 else bool(i % 2) for i in range(n)],
        }
    )
    write_frame(seeded, "cointegration_results", frame)
    got = read_table(seeded, "cointegration_results")
    assert_frame_equal(got.select(frame.columns), frame)
    assert got["id"].to_list() == list(range(1, n + 1))
    changed = frame.with_columns(pl.col("adf_statistic") * 2, pl.col("is_cointegrated").not_())
    write_frame(seeded, "cointegration_results", changed)
    again = read_table(seeded, "cointegration_results")
    assert_frame_equal(again.select(frame.columns), changed)
    assert again["id"].to_list() == got["id"].to_list()


def test_read_order_events_by_time_actions_by_ex_date_nulls_first(seeded: sa.Engine) -> None:
    sig = pl.DataFrame(
        {
            "id": [1, 2, 3],
            "run_id": ["bt_20240102_001"] * 3,
            "signal_ts": [utc(2024, 1, 2, 15, 9), utc(2024, 1, 2, 15, 1), utc(2024, 1, 2, 15, 5)],
            "direction": ["flat", "long_spread", "short_spread"],
        }
    )
    write_frame(seeded, "backtest_signals", sig)
    assert read_table(seeded, "backtest_signals")["id"].to_list() == [2, 3, 1]
    ca = pl.DataFrame(
        {
            "symbol_id": ["AAPL", "AAPL", "AAPL"],
            "action_type": ["split", "dividend", "dividend"],
            "ex_date": [dt.date(2024, 3, 1), dt.date(2024, 2, 1), dt.date(2024, 4, 1)],
            "ratio": [2.0, None, None],
            "cash_amount": [None, 0.2, 0.2],
        }
    )
    write_frame(seeded, "corporate_actions", ca)
    got = read_table(seeded, "corporate_actions")["ex_date"].to_list()
    assert got == sorted(got)
    kp = pl.DataFrame(
        {
            "pair_id": ["AAPL_MSFT"] * 2,
            "window_start": [utc(2024, 1, 2), None],
            "window_end": [utc(2024, 1, 9), utc(2024, 1, 9)],
        },
        schema_overrides={"window_start": pl.Datetime("us", "UTC")},
    )
    write_frame(seeded, "kalman_params", kp)
    assert read_table(seeded, "kalman_params")["window_start"].to_list() == [None, utc(2024, 1, 2)]
