"""Each rule of ``frame_checks`` gives a clear error naming layout, column, rule and rows."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from statarb.storage.errors import StorageError
from statarb.storage.frame_checks import FrameValidationError, validate_frame
from statarb.storage.parquet_store import write_partitions

from .test_parquet_schemas import full_frame, make_bars


def _set(df: pl.DataFrame, col: str, row: int, value) -> pl.DataFrame:
    s = df[col].to_list()
    s[row] = value
    return df.with_columns(pl.Series(col, s, dtype=df.schema[col]))


def _raises(df: pl.DataFrame, layout: str, *fragments: str) -> FrameValidationError:
    with pytest.raises(FrameValidationError) as info:
        validate_frame(df, layout)
    msg = str(info.value)
    assert f"layout {layout!r}" in msg
    for frag in fragments:
        assert frag in msg, f"{frag!r} not in:\n{msg}"
    return info.value


def test_valid_frames_pass_and_are_conformed():
    bars = make_bars(n=2)
    out = validate_frame(bars.select(reversed(bars.columns)), "bars")
    assert out.columns == list(full_frame("bars").columns)
    assert out["outlier_flag"].dtype == pl.Int8 and out["outlier_flag"].null_count() == 2
    for layout in ("bars", "ticks", "spread_series", "ou_output"):
        assert validate_frame(full_frame(layout), layout).equals(full_frame(layout))


def test_missing_required_column():
    err = _raises(make_bars().drop("close"), "bars", "column 'close': missing required column")
    assert [(v.column, v.rule) for v in err.violations] == [("close", "missing required column")]
    assert isinstance(err, StorageError) and isinstance(err, ValueError)


def test_unknown_column():
    _raises(make_bars().with_columns(vwap=pl.lit(1.0)), "bars", "column 'vwap': unknown column")


@pytest.mark.parametrize(
    ("dtype", "fragment"),
    [
        (pl.Float32, "wrong dtype: expected Float64, got Float32"),
        (pl.Int64, "wrong dtype: expected Float64, got Int64"),
    ],
)
def test_wrong_dtype_is_not_cast_silently(dtype, fragment):
    _raises(make_bars().with_columns(pl.col("volume").cast(dtype)), "bars", "'volume'", fragment)


def test_outlier_flag_int64_is_rejected_even_if_0_1():
    df = make_bars().with_columns(outlier_flag=pl.lit(0, pl.Int64))
    _raises(df, "bars", "'outlier_flag'", "expected Int8, got Int64")


def test_naive_non_utc_and_wrong_unit_datetimes():
    bars = make_bars()
    naive = bars.with_columns(pl.col("datetime").dt.replace_time_zone(None))
    _raises(naive, "bars", "column 'datetime': naive datetime")
    ny = bars.with_columns(pl.col("datetime").dt.convert_time_zone("America/New_York"))
    _raises(ny, "bars", "non-UTC datetime", "convert_time_zone('UTC')")
    ns = bars.with_columns(pl.col("datetime").dt.cast_time_unit("ns"))
    _raises(ns, "bars", "wrong dtype: expected Datetime(time_unit='us', time_zone='UTC')")


def test_duplicate_key_names_rows_and_count():
    df = pl.concat([make_bars(n=3), make_bars(n=3).head(2)])
    err = _raises(
        df,
        "bars",
        "column 'symbol, datetime': duplicate key within the write",
        "4 row(s)",
        "row 0 (symbol='AAA'",
        "row 3 (symbol='AAA'",
    )
    assert err.violations[0].count == 4


@pytest.mark.parametrize("col", ["open", "high", "low", "close", "volume"])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), None])
def test_non_finite_ohlcv(col, bad):
    _raises(
        _set(make_bars(), col, 1, bad),
        "bars",
        f"column {col!r}: non-finite value",
        "1 row(s)",
        "row 1 ",
    )


@pytest.mark.parametrize("col", ["open", "low", "close", "volume"])
def test_negative_ohlcv(col):
    df = _set(make_bars(), col, 2, -0.5)
    if col != "low":  # keep high >= low so only the sign rule fires
        df = _set(df, "low", 2, -1.0) if col in ("open", "close") else df
    err = _raises(df, "bars", f"column {col!r}: negative value", f"{col}=-0.5")
    assert any(v.column == col and v.rule == "negative value" for v in err.violations)


def test_high_below_low():
    df = _set(make_bars(n=4), "high", 3, 5.0)  # low of row 3 is 10.5
    err = _raises(df, "bars", "column 'high': high < low", "row 3 ", "high=5.0, low=10.5")
    assert [v.rule for v in err.violations] == ["high < low"]


@pytest.mark.parametrize("value", [0.0, -2.0])
def test_adj_factor_not_positive(value):
    _raises(
        _set(make_bars(), "adj_factor", 0, value), "bars", "'adj_factor': adj_factor <= 0", "row 0 "
    )


def test_adj_factor_nan():
    _raises(_set(make_bars(), "adj_factor", 0, float("nan")), "bars", "non-finite adj_factor")


def test_outlier_flag_outside_0_1():
    df = make_bars(n=3).with_columns(outlier_flag=pl.Series([0, 2, None], dtype=pl.Int8))
    err = _raises(
        df, "bars", "'outlier_flag': outlier_flag not in {0, 1}", "1 row(s)", "outlier_flag=2"
    )
    assert len(err.violations) == 1  # null = not assessed, allowed


def test_tick_rules():
    ticks = full_frame("ticks")
    _raises(_set(ticks, "price", 0, -1.0), "ticks", "'price': negative value")
    _raises(_set(ticks, "size", 0, float("inf")), "ticks", "'size': non-finite value")
    _raises(_set(ticks, "side", 0, "B"), "ticks", "side not in {'buy', 'sell'}", "side='B'")


def test_identifier_rules():
    _raises(_set(make_bars(), "symbol", 0, "aaa"), "bars", "symbol must be upper case")
    _raises(_set(make_bars(), "symbol", 0, None), "bars", "'symbol': null in key column")
    sp = full_frame("spread_series")
    _raises(_set(sp, "pair_id", 0, "../AAA_BBB"), "spread_series", "pair_id must match")


def test_examples_are_capped_but_count_is_total():
    df = make_bars(n=20).with_columns(adj_factor=pl.lit(0.0))
    err = _raises(df, "bars", "20 row(s); first 5:")
    assert str(err).count("row ") == 5  # "20 row(s)" + five examples "row <i> (...)"


def test_several_violations_reported_together():
    df = _set(_set(make_bars(), "adj_factor", 0, 0.0), "high", 1, 0.0)
    err = _raises(df, "bars")
    assert {v.rule for v in err.violations} == {"adj_factor <= 0", "high < low"}


def test_bad_write_leaves_store_untouched(tmp_path):
    with pytest.raises(FrameValidationError, match="high < low"):
        write_partitions(_set(make_bars(), "high", 0, 0.0), tmp_path, "bars", source="SYN")
    assert list(tmp_path.rglob("*")) == []


def test_date_column_must_match_datetime(tmp_path):
    df = make_bars(n=1).with_columns(date=pl.lit(dt.date(1999, 1, 1)))
    with pytest.raises(ValueError, match="differs from the UTC date of 'datetime'"):
        write_partitions(df, tmp_path, "bars", source="SYN")
