"""Layouts (spec §5), exact dtype round trips and the schema-version metadata (spec §9.3)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from statarb.storage.parquet_schemas import (
    BARS,
    LAYOUTS,
    OU_OUTPUT,
    SCHEMA_VERSION,
    SPREAD_SERIES,
    TICKS,
    get_layout,
)
from statarb.storage.parquet_store import ParquetStoreError, scan_store, write_partitions

UTC = dt.UTC
T0 = dt.datetime(2024, 3, 4, 14, 30, tzinfo=UTC)
US = pl.Datetime("us", "UTC")


def times(n: int, start: dt.datetime = T0, step: dt.timedelta = dt.timedelta(hours=7)) -> list:
    return [start + i * step for i in range(n)]


def make_bars(symbols=("AAA",), n: int = 3, start: dt.datetime = T0, base: float = 10.0, **step):
    """Valid bars: ``n`` timestamps (7 h apart by default, so they cross UTC days) per symbol."""
    rows = []
    for k, s in enumerate(symbols):
        for i, t in enumerate(times(n, start, **step)):
            p = base + k + 0.5 * i
            rows.append((s, t, p, p + 1.0, p - 1.0, p + 0.25, 100.0 + i, 1.0))
    return pl.DataFrame(
        rows,
        schema={c: BARS[c] for c in list(BARS)[:8]},
        orient="row",
    )


def full_frame(layout: str) -> pl.DataFrame:
    """A frame with every column of the layout (optional ones included) and non-null values."""
    t = times(3)
    if layout == "bars":
        return make_bars(n=3).with_columns(
            outlier_flag=pl.Series([0, 1, 0], dtype=pl.Int8),
            missing_filled=pl.Series([False, True, False]),
            batch_id=pl.Series([1, 1, 2], dtype=pl.Int64),
        )
    if layout == "ticks":
        return pl.DataFrame(
            {
                "symbol": ["AAA", "AAA", "BBB"],
                "datetime": [T0, T0 + dt.timedelta(microseconds=1), T0],
                "price": [10.0, 10.01, 20.0],
                "size": [100.0, 5.5, 7.0],
                "side": ["buy", "sell", None],
                "exchange": ["XNAS", "XNYS", "ARCX"],
                "batch_id": [1, 1, 2],
            },
            schema=TICKS,
        )
    if layout == "spread_series":
        return pl.DataFrame(
            {
                "pair_id": ["AAA_BBB"] * 3,
                "datetime": t,
                "spread": [0.1, -0.2, 0.3],
                "beta": [1.1, 1.2, 1.3],
                "z_score": [0.5, -1.0, 1.5],
                "kalman_state": ['{"P": 1}', None, '{"P": 3}'],
            },
            schema=SPREAD_SERIES,
        )
    return pl.DataFrame(
        {
            "pair_id": ["AAA_BBB", "AAA_BBB", "CCC_DDD"],
            "window_end": [t[0], t[1], t[0]],
            "theta": [3.0, 2.5, 4.0],
            "mu": [0.0, 0.1, -0.1],
            "sigma": [0.2, 0.3, 0.4],
            "entry_upper": [2.0, 2.0, 2.0],
            "entry_lower": [-2.0, -2.0, -2.0],
            "exit_threshold": [0.0, 0.0, 0.0],
        },
        schema=OU_OUTPUT,
    )


def test_schemas_match_spec_section_5():
    assert (
        pl.Schema(
            {"symbol": pl.String, "datetime": US}
            | dict.fromkeys(["open", "high", "low", "close", "volume", "adj_factor"], pl.Float64)
            | {"outlier_flag": pl.Int8, "missing_filled": pl.Boolean}
            | {"batch_id": pl.Int64}  # schema version 2: versioned reprocessing (spec §9.3)
        )
        == BARS
    )
    assert list(TICKS) == ["symbol", "datetime", "price", "size", "side", "exchange", "batch_id"]
    assert OU_OUTPUT["window_end"] == US and SPREAD_SERIES["kalman_state"] == pl.String
    assert get_layout("bars").key == ("symbol", "datetime")
    assert get_layout("ou_output").key == ("pair_id", "window_end")
    assert get_layout("ticks").partition_by == ("source", "date")
    assert get_layout("spread_series").partition_by == ("pair_id",)
    assert get_layout("bars").required == (
        "symbol",
        "datetime",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "adj_factor",
    )
    with pytest.raises(ValueError, match="unknown columnar layout 'bar'"):
        get_layout("bar")


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_dtypes_round_trip_exactly(tmp_path, layout):
    lay = get_layout(layout)
    df = full_frame(layout)
    write_partitions(df, tmp_path, layout, source="SYN" if "source" in lay.partition_by else None)
    back = scan_store(tmp_path, layout).collect()
    assert back.schema == lay.read_schema
    expected = df.sort(list(lay.sort_by))
    assert_frame_equal(back.select(lay.schema.names()), expected, check_exact=True)
    if "date" in lay.partition_by:
        assert back["date"].to_list() == expected["datetime"].dt.date().to_list()
        assert set(back["source"]) == {"SYN"}


def test_optional_columns_come_back_as_typed_nulls(tmp_path):
    write_partitions(make_bars(n=2), tmp_path, "bars", source="SYN")
    back = scan_store(tmp_path, "bars").collect()
    assert back.schema["outlier_flag"] == pl.Int8
    assert back["outlier_flag"].null_count() == 2 and back["missing_filled"].null_count() == 2


def test_schema_version_in_file_metadata(tmp_path):
    files = write_partitions(full_frame("spread_series"), tmp_path, "spread_series")
    meta = pq.read_metadata(files[0]).metadata
    assert meta[b"statarb.schema_version"] == str(SCHEMA_VERSION).encode()
    assert meta[b"statarb.layout"] == b"spread_series"


def _rewrite_with_meta(path, meta: dict[bytes, bytes], drop: list[str] = ()):
    table = pq.read_table(path)
    table = table.drop_columns(list(drop)).replace_schema_metadata(meta)
    pq.write_table(table, path)


def test_reader_accepts_previous_version_without_newer_optional_columns(tmp_path):
    # N-1 rule: a version may only add optional columns; an older file lacking one reads as null.
    (f,) = write_partitions(make_bars(n=1), tmp_path, "bars", source="SYN")
    _rewrite_with_meta(
        f,
        {b"statarb.schema_version": str(SCHEMA_VERSION - 1).encode(), b"statarb.layout": b"bars"},
        drop=["missing_filled"],
    )
    back = scan_store(tmp_path, "bars").collect()
    assert back.height == 1 and back.schema == get_layout("bars").read_schema
    assert back["missing_filled"].to_list() == [None]
    # and a merge into such a partition upgrades it to the current version
    write_partitions(make_bars(n=1, base=50.0), tmp_path, "bars", source="SYN")
    assert pq.read_metadata(f).metadata[b"statarb.schema_version"] == str(SCHEMA_VERSION).encode()


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        (
            {
                b"statarb.schema_version": str(SCHEMA_VERSION + 1).encode(),
                b"statarb.layout": b"bars",
            },
            f"schema version {SCHEMA_VERSION + 1} not readable",
        ),
        (
            {
                b"statarb.schema_version": str(SCHEMA_VERSION - 2).encode(),
                b"statarb.layout": b"bars",
            },
            "not readable",
        ),
        (
            {b"statarb.schema_version": b"1", b"statarb.layout": b"ticks"},
            "written for layout 'ticks', read as 'bars'",
        ),
        ({}, "not a statarb file"),
    ],
)
def test_reader_rejects_unknown_versions_and_foreign_files(tmp_path, meta, message):
    (f,) = write_partitions(make_bars(n=1), tmp_path, "bars", source="SYN")
    _rewrite_with_meta(f, meta)
    with pytest.raises(ParquetStoreError, match=message):
        scan_store(tmp_path, "bars")
