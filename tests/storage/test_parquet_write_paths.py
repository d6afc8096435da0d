"""write_partitions fast paths: input order, duplicate keys, several sources, durability, failures.

The reference for the stored content is plain Polars: partition by UTC date, sort by key.
"""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from statarb.storage import frame_checks as fc
from statarb.storage import parquet_write as ps
from statarb.storage import partition_writer as pw
from statarb.storage.frame_checks import FrameValidationError
from statarb.storage.parquet_store import partition_files, scan_store, write_partitions

from .test_parquet_schemas import make_bars

STEP = {"step": dt.timedelta(hours=5)}


def _bars() -> pl.DataFrame:
    return make_bars(("AAA", "BBB", "CCC"), n=20, **STEP)  # 5 UTC dates


def _stored(root) -> dict[str, pl.DataFrame]:
    return {f.parent.name: pl.read_parquet(f) for f in partition_files(root, "bars")}


def _reference(df: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Plain Polars: one frame per UTC date, rows sorted by (symbol, datetime), full schema."""
    full = fc.validate_frame(df, "bars")
    parts = full.with_columns(d=pl.col("datetime").dt.date()).partition_by("d", as_dict=True)
    return {
        f"date={d.isoformat()}": p.drop("d").sort("symbol", "datetime") for (d,), p in parts.items()
    }


@pytest.mark.parametrize("order", ["symbol_time", "date_symbol_time", "shuffled", "reversed"])
def test_stored_content_does_not_depend_on_input_order(tmp_path, order):
    bars = _bars()
    if order == "date_symbol_time":
        bars = bars.sort(pl.col("datetime").dt.date(), "symbol", "datetime")
    elif order == "shuffled":
        bars = bars[np.random.default_rng(0).permutation(bars.height)]
    elif order == "reversed":
        bars = bars.reverse()
    files = write_partitions(bars, tmp_path, "bars", source="SYN")
    assert files == sorted(files) and len(files) == 5
    got, want = _stored(tmp_path), _reference(bars)
    assert sorted(got) == sorted(want)
    for name in want:
        assert_frame_equal(got[name], want[name])


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_duplicate_key_names_rows_of_the_given_frame(tmp_path, order):
    bars = _bars()
    if order == "shuffled":
        bars = bars[np.random.default_rng(1).permutation(bars.height)]
    dup = pl.concat([bars.head(7), bars.slice(3, 1), bars.slice(7)])  # row 7 repeats row 3's key
    with pytest.raises(FrameValidationError, match="duplicate key within the write") as info:
        write_partitions(dup, tmp_path, "bars", source="SYN")
    (v,) = info.value.violations
    assert v.count == 2 and v.examples.startswith("row 3 (") and "; row 7 (" in v.examples
    assert list(tmp_path.rglob("*")) == []


def test_several_sources_in_one_frame(tmp_path):
    a, b = _bars(), _bars().with_columns(pl.col("open") + 1.0)
    both = pl.concat([a.with_columns(source=pl.lit("A")), b.with_columns(source=pl.lit("B"))])
    both = both[np.random.default_rng(2).permutation(both.height)]  # same keys in two sources
    files = write_partitions(both, tmp_path, "bars")
    assert [f.parent.parent.name for f in files] == ["source=A"] * 5 + ["source=B"] * 5
    for src, ref in (("A", a), ("B", b)):
        got = scan_store(tmp_path, "bars", source=src).collect().drop("source", "date")
        got = got.sort("symbol", "datetime")
        assert_frame_equal(got, fc.validate_frame(ref, "bars").sort("symbol", "datetime"))
    bad = pl.concat([both, both.filter(pl.col("source") == "B").head(1)])
    with pytest.raises(FrameValidationError, match="duplicate key") as info:
        write_partitions(bad, tmp_path / "x", "bars")
    assert f"row {both.height} (" in info.value.violations[0].examples


@pytest.mark.parametrize(("fsync", "syncfs"), [(True, True), (True, False), (False, True)])
def test_durability_flushes(tmp_path, monkeypatch, fsync, syncfs):
    """syncfs: 2 flushes per write (data, then names); else 1 fsync per file and per folder."""
    if syncfs and pw.SYNCFS is None:
        pytest.skip("no syncfs on this platform")
    fsyncs, syncfss = [], []
    real_fsync, real_syncfs = os.fsync, pw.SYNCFS
    monkeypatch.setattr(pw.os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd))[1])
    if syncfs:
        monkeypatch.setattr(pw, "SYNCFS", lambda fd: (syncfss.append(fd), real_syncfs(fd))[1])
    else:
        monkeypatch.setattr(pw, "SYNCFS", None)
    files = write_partitions(_bars(), tmp_path, "bars", source="SYN", fsync=fsync)
    if not fsync:
        assert fsyncs == syncfss == []
    elif syncfs:
        assert len(syncfss) == 2 and fsyncs == []
    else:  # files, their folders, and the parents of the folders created (root, source=SYN)
        assert len(fsyncs) == 2 * len(files) + 2 and syncfss == []
    for name, want in _reference(_bars()).items():
        assert_frame_equal(_stored(tmp_path)[name], want)


def test_failed_move_leaves_first_partitions_new_and_the_rest_old(tmp_path, monkeypatch):
    old = _bars()
    write_partitions(old, tmp_path, "bars", source="SYN")
    before = {f: f.read_bytes() for f in partition_files(tmp_path, "bars")}
    real, n = os.replace, []

    def replace(src, dst):
        n.append(dst)
        if len(n) == 2:
            raise OSError("rename failed")
        real(src, dst)

    monkeypatch.setattr(pw.os, "replace", replace)
    new = old.with_columns(pl.col("volume") + 1.0)
    with pytest.raises(OSError, match="rename failed"):
        write_partitions(new, tmp_path, "bars", source="SYN")
    after = {f: f.read_bytes() for f in partition_files(tmp_path, "bars")}
    assert sorted(after) == sorted(before)
    changed = [f for f in sorted(after) if after[f] != before[f]]
    assert changed == [sorted(after)[0]]  # the first partition is new, every later one old
    assert not [p for p in tmp_path.rglob("*") if ".tmp-" in p.name]


def test_merge_reads_back_only_existing_partitions(tmp_path, monkeypatch):
    bars = _bars()
    reads = []
    real = ps._read_partition
    monkeypatch.setattr(ps, "_read_partition", lambda p, lay: (reads.append(p), real(p, lay))[1])
    write_partitions(
        bars.filter(pl.col("datetime") < bars["datetime"].sort()[30]),
        tmp_path,
        "bars",
        source="SYN",
    )
    assert reads == []
    files = write_partitions(bars, tmp_path, "bars", source="SYN")
    assert reads == [f for f in files if f in reads] and 0 < len(reads) < len(files)
    assert_frame_equal(
        scan_store(tmp_path, "bars").collect().drop("source", "date").sort("symbol", "datetime"),
        fc.validate_frame(bars, "bars").sort("symbol", "datetime"),
    )


def test_strictly_increasing_and_duplicate_helpers_match_python():
    rng = np.random.default_rng(3)
    for _ in range(30):
        n = int(rng.integers(0, 40))
        df = pl.DataFrame(
            {"a": rng.choice(["X", "Y", "Z"], n), "b": rng.integers(0, 6, n)},
            schema={"a": pl.String, "b": pl.Int64},
        )
        rows = df.rows()
        inc = df.select(fc.strictly_increasing(["a", "b"])).to_series().to_list()
        assert inc == [i == 0 or rows[i] > rows[i - 1] for i in range(n)]
        assert fc.has_duplicate_key(df, ["a", "b"]) == (len(set(rows)) < n)
        srt = df.unique().sort("a", "b")
        assert fc.has_duplicate_key(srt, ["a", "b"]) is False
        assert srt.select(fc.strictly_increasing(["a", "b"]).all()).item()
