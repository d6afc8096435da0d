"""Versioned reprocessing (spec §9.3) on both tiers: append keeps history, reads pick a version."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from statarb.storage.parquet_schemas import SCHEMA_VERSION
from statarb.storage.store_batches import BatchError, batch_read

from .test_parquet_schemas import make_bars
from .test_store_tiers import _intraday
from .tiers import TIERS

COLS = ["symbol", "datetime", "open", "high", "low", "close", "volume", "adj_factor"]


@pytest.fixture(params=sorted(TIERS))
def tier(request):
    return TIERS[request.param]


def _read(tier, root, **kw) -> pl.DataFrame:
    return tier.scan(root, "bars", **kw).collect().sort("symbol", "datetime")


def _stored_rows(tier, root) -> int:
    """Rows physically stored (every version), whatever the tier."""
    if tier.name == "parquet":
        return sum(pl.read_parquet(u).height for u in tier.units(root))
    from statarb.storage.hdf5_store import read_unit
    from statarb.storage.parquet_schemas import get_layout

    return sum(read_unit(u, get_layout("bars"), u.stem).height for u in tier.units(root))


def _corrected(bars: pl.DataFrame, day: dt.date, symbol: str) -> pl.DataFrame:
    hit = (pl.col("datetime").dt.date() == day) & (pl.col("symbol") == symbol)
    return bars.with_columns(
        pl.when(hit).then(pl.col(c) * 1.01).otherwise(pl.col(c)) for c in ("open", "high", "low",
                                                                              "close")
    )  # fmt: skip


def test_append_keeps_history_and_reads_default_to_latest(tier, tmp_path):
    v1 = _intraday(("AAA", "BBB"), days=4, per_day=30)
    tier.write(v1, tmp_path, "bars", source="SYN", mode="append", batch=1, fsync=False)
    v2 = _corrected(v1, dt.date(2024, 3, 5), "BBB")  # a full re-ingest with one corrected slice
    tier.write(v2, tmp_path, "bars", source="SYN", mode="append", batch=2, fsync=False)
    latest = _read(tier, tmp_path)
    assert_frame_equal(latest.select(COLS), v2.sort("symbol", "datetime"))
    hit = (latest["symbol"] == "BBB") & (latest["datetime"].dt.date() == dt.date(2024, 3, 5))
    assert set(latest.filter(hit)["batch_id"]) == {2}
    assert set(latest.filter(~hit)["batch_id"]) == {1}
    # only the changed (symbol, day) slice was stored again
    assert _stored_rows(tier, tmp_path) == v1.height + 30
    pinned = _read(tier, tmp_path, batch=1)
    assert_frame_equal(pinned.select(COLS), v1.sort("symbol", "datetime"), check_exact=True)
    assert _read(tier, tmp_path, batch=0).height == 0  # nothing unversioned


def test_batch_read_then_pin_returns_the_same_rows(tier, tmp_path):
    v1 = _intraday(("AAA",), days=3, per_day=20)
    tier.write(v1, tmp_path, "bars", source="SYN", mode="append", batch=3, fsync=False)
    seen = _read(tier, tmp_path)
    recorded = batch_read(tier.scan(tmp_path, "bars"))
    assert recorded == 3
    v2 = _corrected(v1, dt.date(2024, 3, 4), "AAA")
    tier.write(v2, tmp_path, "bars", source="SYN", mode="append", batch=7, fsync=False)
    assert not _read(tier, tmp_path).equals(seen)
    assert_frame_equal(_read(tier, tmp_path, batch=recorded), seen, check_exact=True)


def test_merge_and_replace_edit_only_the_current_version(tier, tmp_path):
    v1 = _intraday(("AAA",), days=2, per_day=10)
    tier.write(v1, tmp_path, "bars", source="SYN", mode="append", batch=1, fsync=False)
    v2 = _corrected(v1, dt.date(2024, 3, 4), "AAA")
    tier.write(v2, tmp_path, "bars", source="SYN", mode="append", batch=2, fsync=False)
    fix = v2.head(1).with_columns(pl.lit(99.0).alias("volume"))
    tier.write(fix, tmp_path, "bars", source="SYN", fsync=False)  # merge into batch 2's slice
    assert _read(tier, tmp_path).row(0, named=True)["volume"] == 99.0
    assert _read(tier, tmp_path, batch=1).row(0, named=True)["volume"] == v1["volume"][0]
    tier.write(v2.with_columns(pl.lit(5.0).alias("volume")), tmp_path, "bars", source="SYN",
               mode="replace", fsync=False)  # fmt: skip
    assert set(_read(tier, tmp_path)["volume"]) == {5.0}
    # 4 Mar: batch 2 was current and is replaced, batch 1 stays; 5 Mar: batch 1 was current
    day1 = pl.col("datetime").dt.date() == dt.date(2024, 3, 4)
    old = _read(tier, tmp_path, batch=1)
    assert_frame_equal(old.filter(day1).select(COLS), v1.filter(day1).sort("symbol", "datetime"))
    assert set(old.filter(~day1)["volume"]) == {5.0}


def test_a_loaded_frame_written_back_changes_nothing(tier, tmp_path):
    v1 = _intraday(("AAA", "BBB"), days=2, per_day=10)
    tier.write(v1, tmp_path, "bars", source="SYN", mode="append", batch=1, fsync=False)
    tier.write(_corrected(v1, dt.date(2024, 3, 4), "AAA"), tmp_path, "bars", source="SYN",
               mode="append", batch=2, fsync=False)  # fmt: skip
    before, n = _read(tier, tmp_path), _stored_rows(tier, tmp_path)
    tier.write(before, tmp_path, "bars", fsync=False)  # carries source, date and batch_id
    assert _read(tier, tmp_path).equals(before) and _stored_rows(tier, tmp_path) == n


def test_append_rules(tier, tmp_path):
    with pytest.raises(BatchError, match="needs a batch id"):
        tier.write(make_bars(), tmp_path, "bars", source="SYN", mode="append")
    sp = pl.DataFrame({"pair_id": ["AAA_BBB"], "datetime": [dt.datetime(2024, 1, 2, tzinfo=dt.UTC)],
                       "spread": [0.1], "beta": [1.0]})  # fmt: skip
    with pytest.raises(BatchError, match="no batch_id column"):
        tier.write(sp, tmp_path, "spread_series", mode="append", batch=1)
    with pytest.raises(Exception, match="not versioned"):
        tier.scan(tmp_path, "spread_series", batch=1)


def test_parquet_file_of_schema_version_1_is_read_and_versioned_on(tmp_path):
    """N-1: a version-1 file (no batch_id column, no batch metadata) reads with batch_id null,
    counts as unversioned (batch 0), and an append on top keeps it as the old version."""
    from statarb.storage.parquet_store import scan_store, write_partitions

    v1 = make_bars(("AAA",), n=3)
    (f,) = [p for p in write_partitions(v1, tmp_path, "bars", source="SYN")[:1]]
    files = sorted(tmp_path.rglob("data.parquet"))
    for path in files:  # rewrite every file exactly as version 1 wrote it
        old = pl.read_parquet(path).drop("batch_id")
        table = old.to_arrow().replace_schema_metadata(
            {"statarb.schema_version": "1", "statarb.layout": "bars"}
        )
        pq.write_table(table, path)
    got = scan_store(tmp_path, "bars").collect().sort("datetime")
    assert got["batch_id"].null_count() == 3
    assert_frame_equal(got.select(COLS), v1.sort("datetime"))
    assert scan_store(tmp_path, "bars", batch=0).collect().height == 3
    v2 = v1.with_columns(pl.col("close") + 0.1, pl.col("high") + 0.1)
    write_partitions(v2, tmp_path, "bars", source="SYN", mode="append", batch=1)
    meta = pq.read_metadata(f).metadata
    assert meta[b"statarb.schema_version"] == str(SCHEMA_VERSION).encode()
    old = scan_store(tmp_path, "bars", batch=0).collect().sort("datetime")
    assert_frame_equal(old.select(COLS), v1.sort("datetime"))
    assert scan_store(tmp_path, "bars").collect().sort("datetime")["close"].to_list() == (
        v2.sort("datetime")["close"].to_list()
    )
