"""Partitioned store: idempotent merge/replace writes, atomicity under failure, pruned lazy reads."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from statarb.storage import parquet_write as ps
from statarb.storage.parquet_schemas import get_layout
from statarb.storage.parquet_store import (
    ParquetStoreError,
    partition_files,
    scan_store,
    write_partitions,
)

from .test_parquet_schemas import T0, full_frame, make_bars

UTC = dt.UTC
BARS = get_layout("bars")


def _all(root) -> pl.DataFrame:
    return scan_store(root, "bars").collect().sort("symbol", "datetime")


def _reference(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """What the store must hold: union of writes, last write wins per key (pure Polars)."""
    return (
        pl.concat(frames)
        .unique(subset=["symbol", "datetime"], keep="last", maintain_order=True)
        .sort("symbol", "datetime")
    )


def test_layout_paths_one_file_per_partition(tmp_path):
    files = write_partitions(make_bars(n=4), tmp_path, "bars", source="SYN")
    rel = [f.relative_to(tmp_path).as_posix() for f in files]
    # 14:30 UTC + 7 h steps: 14:30, 21:30 (4 Mar), 04:30, 11:30 (5 Mar) -> two UTC dates
    assert rel == [
        "source=SYN/date=2024-03-04/data.parquet",
        "source=SYN/date=2024-03-05/data.parquet",
    ]
    spread = write_partitions(full_frame("ou_output"), tmp_path / "ou", "ou_output")
    assert [f.parent.name for f in spread] == ["pair_id=AAA_BBB", "pair_id=CCC_DDD"]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["data.parquet"] * 4


def test_same_bars_twice_leave_one_copy(tmp_path):
    bars = make_bars(("AAA", "BBB"), n=5)
    write_partitions(bars, tmp_path, "bars", source="SYN")
    write_partitions(bars, tmp_path, "bars", source="SYN")
    got = _all(tmp_path)
    assert got.height == bars.height
    assert_frame_equal(got.select(bars.columns), bars.sort("symbol", "datetime"))


def test_two_symbol_batches_in_one_partition_are_both_kept(tmp_path):
    a, b = make_bars(("AAA",), n=2), make_bars(("BBB",), n=2, base=50.0)
    fa = write_partitions(a, tmp_path, "bars", source="SYN")
    fb = write_partitions(b, tmp_path, "bars", source="SYN")
    assert fa == fb  # same partition files
    assert_frame_equal(_all(tmp_path).select(a.columns), _reference([a, b]))


def test_merge_new_rows_win_on_key_and_rows_are_sorted_in_file(tmp_path):
    old = make_bars(("AAA", "BBB"), n=4)
    new = make_bars(("AAA",), n=2, base=99.0).reverse()  # overlaps AAA's first 2 keys
    write_partitions(old, tmp_path, "bars", source="SYN")
    write_partitions(new, tmp_path, "bars", source="SYN")
    got = _all(tmp_path).select(old.columns)
    assert_frame_equal(got, _reference([old, new]))
    assert got.filter(pl.col("symbol") == "AAA")["open"].to_list()[:2] == [99.0, 99.5]
    for f in partition_files(tmp_path, "bars"):
        raw = pl.read_parquet(f)
        assert raw.equals(raw.sort("symbol", "datetime"))
        assert not raw.select(pl.struct("symbol", "datetime").is_duplicated().any()).item()


def test_replace_mode_replaces_only_touched_partitions(tmp_path):
    write_partitions(make_bars(("AAA", "BBB"), n=4), tmp_path, "bars", source="SYN")
    only_day1 = make_bars(("CCC",), n=1)  # 4 Mar only
    write_partitions(only_day1, tmp_path, "bars", source="SYN", mode="replace")
    got = _all(tmp_path)
    assert got.filter(pl.col("date") == dt.date(2024, 3, 4))["symbol"].to_list() == ["CCC"]
    assert set(got.filter(pl.col("date") == dt.date(2024, 3, 5))["symbol"]) == {"AAA", "BBB"}
    with pytest.raises(ParquetStoreError, match="mode must be"):
        write_partitions(only_day1, tmp_path, "bars", source="SYN", mode="upsert")


def _snapshot(root) -> dict[str, bytes]:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in files}


@pytest.mark.parametrize("fail_after", [0, 1, 2])
def test_write_killed_midway_leaves_each_partition_old_or_new(tmp_path, monkeypatch, fail_after):
    old = make_bars(("AAA",), n=12, step=dt.timedelta(hours=8))  # 4 UTC dates
    write_partitions(old, tmp_path, "bars", source="SYN")
    before = _snapshot(tmp_path)
    new = make_bars(("AAA", "BBB"), n=12, base=70.0, step=dt.timedelta(hours=8))
    ref = tmp_path.parent / f"{tmp_path.name}_ref"
    write_partitions(old, ref, "bars", source="SYN")
    write_partitions(new, ref, "bars", source="SYN")
    expected_after = {k: pl.read_parquet(ref / k) for k in _snapshot(ref)}

    real_tmp_writer, calls = ps._write_tmp, []

    def dying_writer(tmp, df, lay):
        calls.append(tmp)
        real_tmp_writer(tmp, df, lay)  # the tmp file is fully on disk ...
        if len(calls) > fail_after:
            raise OSError("disk died")  # ... and we die before os.replace

    monkeypatch.setattr(ps, "_write_tmp", dying_writer)
    with pytest.raises(OSError, match="disk died"):
        write_partitions(new, tmp_path, "bars", source="SYN")
    after = _snapshot(tmp_path)
    assert sorted(after) == sorted(before)  # no tmp leftovers, no new names
    assert calls[-1].name.startswith("data.parquet.tmp-") and not calls[-1].exists()
    states = []
    for name, blob in after.items():
        if blob == before[name]:
            states.append("old")
        else:
            assert_frame_equal(pl.read_parquet(tmp_path / name), expected_after[name])
            states.append("new")
    # partitions are staged (tmp files) before any is moved in: dying while staging changes
    # nothing (a failure while moving is covered in test_parquet_write_paths)
    assert states == ["old"] * len(states)
    dirs = {p for p in tmp_path.rglob("*") if p.is_dir()}
    assert dirs == {(tmp_path / k).parent for k in before} | {tmp_path / "source=SYN"}


def test_failure_while_staging_the_third_partition_writes_nothing(tmp_path, monkeypatch):
    real, n = ps._write_tmp, []

    def writer(tmp, df, lay):
        if len(n) == 2:
            raise RuntimeError("killed")
        n.append(tmp)
        real(tmp, df, lay)

    monkeypatch.setattr(ps, "_write_tmp", writer)
    with pytest.raises(RuntimeError, match="killed"):
        write_partitions(make_bars(n=12, step=dt.timedelta(hours=8)), tmp_path, "bars", source="S")
    assert len(n) == 2 and not any(t.exists() for t in n)
    assert list(tmp_path.rglob("*")) == []  # no file, no empty partition folder


def test_stray_tmp_file_from_hard_kill_is_ignored(tmp_path):
    (f,) = write_partitions(make_bars(n=1), tmp_path, "bars", source="SYN")
    (f.parent / "data.parquet.tmp-deadbeef").write_bytes(b"half a parquet file")
    assert scan_store(tmp_path, "bars").collect().height == 1
    write_partitions(make_bars(n=1, base=20.0), tmp_path, "bars", source="SYN")
    assert scan_store(tmp_path, "bars").collect()["open"].to_list() == [20.0]


def _daily_store(root) -> pl.DataFrame:
    bars = make_bars(("AAA", "BBB", "CCC"), n=10, step=dt.timedelta(hours=12))  # 6 UTC dates
    write_partitions(bars, root, "bars", source="SYN")
    write_partitions(bars.head(4), root, "bars", source="ALT")
    return bars


def test_partition_pruning_by_date_range_and_source(tmp_path):
    _daily_store(tmp_path)
    start = dt.datetime(2024, 3, 5, 9, 0, tzinfo=UTC)
    end = dt.datetime(2024, 3, 6, 23, 0, tzinfo=UTC)
    files = partition_files(tmp_path, "bars", start=start, end=end, source="SYN")
    assert [f.parent.relative_to(tmp_path).as_posix() for f in files] == [
        "source=SYN/date=2024-03-05",
        "source=SYN/date=2024-03-06",
    ]
    # naive bounds are refused, dates and ISO strings are accepted
    with pytest.raises(ParquetStoreError, match="naive datetime"):
        partition_files(tmp_path, "bars", start=dt.datetime(2024, 3, 5))
    assert (
        partition_files(tmp_path, "bars", start="2024-03-05", end=dt.date(2024, 3, 6), source="SYN")
        == files
    )
    assert len(partition_files(tmp_path, "bars")) == 6 + 3  # SYN: 4-9 Mar, ALT: 4-6 Mar


def _plan_sources(plan: str) -> list[str]:
    """Files of the (single) Parquet scan in an ``explain()`` plan; Polars abbreviates long lists
    as ``first, ... N other sources``, returned here as ``[first, "+N"]``."""
    (scan,) = re.findall(r"Parquet SCAN \[(.*?)\]", plan)
    m = re.fullmatch(r"(.*), \.\.\. (\d+) other sources", scan)
    return [m.group(1), f"+{m.group(2)}"] if m else scan.split(", ")


def test_plan_of_wide_read_lists_exactly_the_resolved_files(tmp_path):
    _daily_store(tmp_path)
    needed = partition_files(tmp_path, "bars", source="SYN", start="2024-03-05")
    plan = scan_store(tmp_path, "bars", source="SYN", start="2024-03-05").explain()
    assert len(needed) == 5 and _plan_sources(plan) == [str(needed[0]), "+4"]


def test_lazy_read_of_one_symbol_touches_only_needed_files(tmp_path):
    bars = _daily_store(tmp_path)
    start = dt.datetime(2024, 3, 5, 9, 0, tzinfo=UTC)
    end = dt.datetime(2024, 3, 6, 23, 0, tzinfo=UTC)
    lf = scan_store(
        tmp_path,
        "bars",
        symbols="BBB",
        start=start,
        end=end,
        source="SYN",
        columns=["datetime", "close", "date"],
    )
    plan = lf.explain()
    needed = partition_files(tmp_path, "bars", start=start, end=end, source="SYN")
    assert len(needed) == 2 and _plan_sources(plan) == [str(f) for f in needed]
    assert "PROJECT 4/13 COLUMNS" in plan  # datetime, close, date + symbol for the filter
    assert 'col("symbol")' in plan and "SELECTION" in plan  # predicate pushed into the scan
    got = lf.collect()
    ref = bars.filter(pl.col("symbol") == "BBB", pl.col("datetime").is_between(start, end)).select(
        "datetime", "close", date=pl.col("datetime").dt.date()
    )
    assert_frame_equal(got, ref)
    assert set(got["date"]) == {dt.date(2024, 3, 5), dt.date(2024, 3, 6)}


def test_date_end_bound_covers_whole_day(tmp_path):
    bars = _daily_store(tmp_path)
    got = scan_store(tmp_path, "bars", source="SYN", end=dt.date(2024, 3, 5)).collect()
    assert got.height == bars.filter(pl.col("datetime").dt.date() <= dt.date(2024, 3, 5)).height
    assert got["datetime"].max() == dt.datetime(2024, 3, 5, 14, 30, tzinfo=UTC)


def test_pair_partitions_pruned_and_filtered(tmp_path):
    write_partitions(full_frame("ou_output"), tmp_path, "ou_output")
    files = partition_files(tmp_path, "ou_output", pair_ids=["CCC_DDD"])
    assert [f.parent.name for f in files] == ["pair_id=CCC_DDD"]
    got = scan_store(tmp_path, "ou_output", pair_ids="CCC_DDD", start=T0).collect()
    assert got["pair_id"].to_list() == ["CCC_DDD"] and got["theta"].to_list() == [4.0]
    with pytest.raises(ParquetStoreError, match="no symbol column"):
        scan_store(tmp_path, "ou_output", symbols="AAA")
    with pytest.raises(ParquetStoreError, match="has no source partition"):
        scan_store(tmp_path, "ou_output", source="SYN")
    with pytest.raises(ParquetStoreError, match="has no source partition"):
        write_partitions(full_frame("ou_output"), tmp_path, "ou_output", source="SYN")


def test_empty_selection_is_an_empty_lazyframe_with_schema(tmp_path):
    got = scan_store(tmp_path / "nothing", "bars").collect()
    assert got.height == 0 and got.schema == BARS.read_schema
    _daily_store(tmp_path)
    sel = scan_store(tmp_path, "bars", start="2030-01-01", columns=["close", "source"]).collect()
    assert sel.height == 0 and sel.schema == pl.Schema({"close": pl.Float64, "source": pl.String})
    with pytest.raises(ParquetStoreError, match=r"unknown column\(s\) \['vwap'\]"):
        scan_store(tmp_path, "bars", columns=["vwap"])


def test_source_argument_and_column(tmp_path):
    bars = make_bars(n=1)
    with pytest.raises(ParquetStoreError, match="pass source="):
        write_partitions(bars, tmp_path, "bars")
    with pytest.raises(ParquetStoreError, match="must match"):
        write_partitions(bars, tmp_path, "bars", source="../x")
    with pytest.raises(ParquetStoreError, match="also holds"):
        write_partitions(bars.with_columns(source=pl.lit("A")), tmp_path, "bars", source="B")
    write_partitions(bars.with_columns(source=pl.lit("A")), tmp_path, "bars")
    # a frame loaded from the store (with source/date) can be written back unchanged
    loaded = scan_store(tmp_path, "bars").collect()
    write_partitions(loaded, tmp_path, "bars")
    assert_frame_equal(scan_store(tmp_path, "bars").collect(), loaded)
    with pytest.raises(ParquetStoreError, match="malformed partition folder"):
        (tmp_path / "source=A" / "date=yesterday").mkdir()
        partition_files(tmp_path, "bars")
