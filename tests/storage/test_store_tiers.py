"""One store test suite, run on both columnar tiers (Parquet partitions and HDF5 files).

Dtypes round-trip exactly, a re-write is idempotent, a write killed midway (an exception or a
real SIGKILL) leaves every unit old or new, and a range read touches only the units / chunks of
its days (everything else is overwritten with garbage and the read is still exact).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from statarb.storage.parquet_schemas import LAYOUTS, get_layout

from .test_parquet_schemas import full_frame, make_bars
from .tiers import TIERS

UTC = dt.UTC
T0 = dt.datetime(2024, 3, 4, 14, 30, tzinfo=UTC)


@pytest.fixture(params=sorted(TIERS))
def tier(request):
    return TIERS[request.param]


def _intraday(symbols=("AAA", "BBB"), days: int = 6, per_day: int = 390, base: float = 20.0):
    """``per_day`` one-minute bars per symbol on ``days`` consecutive UTC days."""
    frames = []
    for d in range(days):
        start = T0 + dt.timedelta(days=d)
        frames.append(make_bars(symbols, n=per_day, start=start, base=base + d,
                                step=dt.timedelta(minutes=1)))  # fmt: skip
    return pl.concat(frames)


def _all(tier, root, layout="bars", **kw) -> pl.DataFrame:
    lay = get_layout(layout)
    return tier.scan(root, layout, **kw).collect().sort(list(lay.sort_by))


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_dtypes_round_trip_exactly(tier, tmp_path, layout):
    lay = get_layout(layout)
    df = full_frame(layout)
    tier.write(df, tmp_path, layout, source="SYN" if "source" in lay.partition_by else None)
    back = _all(tier, tmp_path, layout)
    assert back.schema == lay.read_schema
    assert_frame_equal(
        back.select(lay.schema.names()), df.sort(list(lay.sort_by)), check_exact=True
    )
    if "date" in lay.partition_by:
        assert back["date"].to_list() == back["datetime"].dt.date().to_list()
        assert set(back["source"]) == {"SYN"}


def test_nulls_and_nan_stay_distinct(tier, tmp_path):
    df = full_frame("spread_series").with_columns(
        z_score=pl.Series([None, float("nan"), 1.5]), kalman_state=pl.Series([None, None, None],
                                                                            dtype=pl.String)
    )  # fmt: skip
    tier.write(df, tmp_path, "spread_series")
    back = _all(tier, tmp_path, "spread_series")
    assert back["z_score"].is_null().to_list() == [True, False, False]
    assert back["z_score"].is_nan().to_list()[1] is True
    assert back["kalman_state"].null_count() == 3


def test_rewrite_is_idempotent_and_batches_of_symbols_are_kept(tier, tmp_path):
    bars = _intraday(("AAA",), days=2, per_day=30)
    tier.write(bars, tmp_path, "bars", source="SYN", fsync=False)
    units = tier.units(tmp_path)
    snapshot = {u: pl.read_parquet(u) if tier.name == "parquet" else None for u in units}
    tier.write(bars, tmp_path, "bars", source="SYN", fsync=False)
    assert tier.units(tmp_path) == units  # no new unit, no leftover
    got = _all(tier, tmp_path)
    assert_frame_equal(got.select(bars.columns), bars.sort("symbol", "datetime"))
    if tier.name == "parquet":
        assert all(pl.read_parquet(u).equals(snapshot[u]) for u in units)
    other = _intraday(("BBB",), days=2, per_day=30, base=50.0)
    tier.write(other, tmp_path, "bars", source="SYN", fsync=False)
    got = _all(tier, tmp_path)
    assert got.height == bars.height + other.height
    fix = bars.head(3).with_columns(pl.col("close") + 0.5, pl.col("high") + 0.5)
    tier.write(fix, tmp_path, "bars", source="SYN", fsync=False)  # merge: new rows win on key
    got = _all(tier, tmp_path, symbols="AAA")
    assert got["close"].head(3).to_list() == fix["close"].to_list()
    assert got.height == bars.height


@pytest.mark.parametrize("fail_after", [0, 1])
def test_write_failing_midway_leaves_every_unit_old(tier, tmp_path, monkeypatch, fail_after):
    old = _intraday(("AAA", "BBB"), days=3, per_day=20)
    tier.write(old, tmp_path, "bars", source="SYN", fsync=False)
    before = {u: u.read_bytes() for u in tier.units(tmp_path)}
    new = _intraday(("AAA", "BBB", "CCC"), days=3, per_day=20, base=70.0)
    real, calls = tier.module._write_tmp, []

    def dying(tmp, *args):
        calls.append(tmp)
        real(tmp, *args)  # the staged file is complete on disk ...
        if len(calls) > fail_after:
            raise OSError("disk died")  # ... and the writer dies before moving it in

    monkeypatch.setattr(tier.module, "_write_tmp", dying)
    with pytest.raises(OSError, match="disk died"):
        tier.write(new, tmp_path, "bars", source="SYN", fsync=False)
    assert {u: u.read_bytes() for u in tier.units(tmp_path)} == before
    assert not [p for p in tmp_path.rglob("*") if ".tmp-" in p.name]
    assert_frame_equal(_all(tier, tmp_path).select(old.columns), old.sort("symbol", "datetime"))


KILLED_WRITER = """
import sys, time, polars as pl
from tests.storage.tiers import TIERS
tier = TIERS[sys.argv[1]]
real = tier.module._write_tmp
def slow(tmp, *args):
    real(tmp, *args)
    open(sys.argv[3], "a").write(tmp.name + "\\n")
    time.sleep(60)  # killed here, with a staged file on disk
tier.module._write_tmp = slow
new = pl.read_parquet(sys.argv[4])
tier.write(new, sys.argv[2], "bars", source="SYN")
"""


def test_sigkill_during_a_write_leaves_the_store_readable(tier, tmp_path):
    root, marker, frame = tmp_path / "store", tmp_path / "staged.txt", tmp_path / "new.parquet"
    old = _intraday(("AAA", "BBB"), days=2, per_day=20)
    tier.write(old, root, "bars", source="SYN", fsync=False)
    before = {u: u.read_bytes() for u in tier.units(root)}
    _intraday(("AAA", "BBB"), days=2, per_day=20, base=90.0).write_parquet(frame)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), *sys.path])}
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(KILLED_WRITER), tier.name, str(root), str(marker),
         str(frame)], env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (marker.exists() and marker.read_text()) and time.monotonic() < deadline:
            assert proc.poll() is None, "writer exited early"
            time.sleep(0.05)
        assert marker.exists(), "writer never staged a file"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert {u: u.read_bytes() for u in tier.units(root)} == before  # nothing moved in
    assert [p for p in root.rglob("*") if ".tmp-" in p.name]  # the staged file is left behind ...
    assert_frame_equal(_all(tier, root).select(old.columns), old.sort("symbol", "datetime"))
    tier.write(old, root, "bars", source="SYN", fsync=False)  # ... a later write still works
    assert not [p for p in root.rglob("*") if ".tmp-" in p.name]  # and removes it (dead owner)


def test_range_read_touches_only_the_needed_units_or_chunks(tier, tmp_path):
    bars = _intraday(("AAA", "BBB"), days=8, per_day=390)
    tier.write(bars, tmp_path, "bars", source="SYN", fsync=False)
    start, end = dt.date(2024, 3, 6), dt.date(2024, 3, 7)
    want = bars.filter(
        pl.col("datetime").dt.date().is_between(start, end), pl.col("symbol") == "BBB"
    )
    damaged = tier.garble_except(tmp_path, "bars", {start, end})
    assert damaged >= 6  # the other 6 days (Parquet: files; HDF5: chunks of every column)
    got = _all(tier, tmp_path, symbols="BBB", start=start, end=end)
    assert_frame_equal(got.select(bars.columns), want.sort("symbol", "datetime"))
    with pytest.raises(Exception):  # noqa: B017 - any decoding error: the damage is real
        tier.scan(tmp_path, "bars").collect()


def test_replace_replaces_whole_days_across_symbols(tier, tmp_path):
    tier.write(_intraday(("AAA", "BBB"), days=2, per_day=5), tmp_path, "bars", source="SYN")
    only = _intraday(("CCC",), days=1, per_day=5)  # 4 Mar only
    tier.write(only, tmp_path, "bars", source="SYN", mode="replace", fsync=False)
    got = _all(tier, tmp_path)
    day1 = got.filter(pl.col("date") == dt.date(2024, 3, 4))
    assert set(day1["symbol"]) == {"CCC"}
    assert set(got.filter(pl.col("date") == dt.date(2024, 3, 5))["symbol"]) == {"AAA", "BBB"}
