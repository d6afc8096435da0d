"""Tick -> bar aggregation vs a plain-Python reference; missing-bar fill; aligned pair panel."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import polars as pl
import pytest

from statarb.preprocess import aligned_pair_panel, fill_missing_bars, ticks_to_bars, wide_panel

T0 = dt.datetime(2026, 5, 26, 13, 30, tzinfo=dt.UTC)


def _random_ticks(rng, n=3000) -> pl.DataFrame:
    sym = rng.choice(["AAA", "BBB", "CCC"], n)
    offs = rng.integers(0, 20 * 60 * 1_000_000, n)  # 20 minutes, microsecond stamps
    return pl.DataFrame(
        {
            "symbol": sym,
            "datetime": [T0 + dt.timedelta(microseconds=int(o)) for o in offs],
            "price": rng.normal(100, 1, n),
            "size": rng.integers(1, 500, n).astype(float),
        }
    ).with_columns(pl.col("datetime").dt.cast_time_unit("us"))


def ref_bars(ticks: pl.DataFrame, seconds: int) -> list[tuple]:
    """Plain-Python OHLCV per (symbol, floor(t, every)) with bar labelled by its open time."""
    groups = defaultdict(list)
    for s, t, p, q in sorted(ticks.iter_rows(), key=lambda r: (r[0], r[1])):
        epoch = int(t.timestamp())
        start = dt.datetime.fromtimestamp(epoch - epoch % seconds, dt.UTC)
        groups[(s, start)].append((p, q))
    out = []
    for (s, start), v in sorted(groups.items()):
        ps = [p for p, _ in v]
        out.append((s, start, ps[0], max(ps), min(ps), ps[-1], sum(q for _, q in v), 1.0))
    return out


@pytest.mark.parametrize(("every", "seconds"), [("1m", 60), ("5m", 300), ("15s", 15)])
def test_tick_bars_equal_reference(every, seconds):
    ticks = _random_ticks(np.random.default_rng(seconds))
    got = ticks_to_bars(ticks.lazy(), every=every)
    assert got.schema["datetime"] == pl.Datetime("us", "UTC")
    want = ref_bars(ticks, seconds)
    assert len(got) == len(want)
    for g, w in zip(got.rows(), want, strict=True):
        assert g[:2] == w[:2]
        assert g[2:] == pytest.approx(w[2:], rel=1e-12)


@pytest.mark.parametrize("order", ["time", "symbol_time"])
def test_tick_bars_on_presorted_input(order):
    ticks = _random_ticks(np.random.default_rng(7))
    ticks = ticks.sort("datetime") if order == "time" else ticks.sort("symbol", "datetime")
    got = ticks_to_bars(ticks, every="1m")
    want = ref_bars(ticks, 60)
    assert [r[:2] for r in got.rows()] == [w[:2] for w in want]
    flat = [v for r in got.rows() for v in r[2:]]
    assert flat == pytest.approx([v for w in want for v in w[2:]], rel=1e-12)


def _bars(rows):
    return pl.DataFrame(
        rows,
        schema=["symbol", "datetime", "open", "high", "low", "close", "volume", "adj_factor"],
        orient="row",
    ).with_columns(pl.col("datetime").dt.cast_time_unit("us").dt.replace_time_zone("UTC"))


def test_fill_within_session_only():
    d1 = dt.datetime(2026, 3, 6, 14, 30)
    d2 = dt.datetime(2026, 3, 9, 13, 30)  # next session (after DST)
    m = dt.timedelta(minutes=1)
    bars = _bars(
        [
            ("AAA", d1, 10, 11, 9, 10.5, 100, 2.0),
            ("AAA", d1 + 3 * m, 10, 11, 9, 10.7, 50, 2.0),
            ("AAA", d2, 20, 21, 19, 20.5, 70, 1.0),
            ("AAA", d2 + 1 * m, 20, 21, 19, 20.6, 70, 1.0),
            ("BBB", d1 + m, 5, 6, 4, 5.5, 10, 1.0),
        ]
    )
    out = fill_missing_bars(bars)
    a = out.filter(pl.col("symbol") == "AAA")
    assert a["missing_filled"].to_list() == [False, True, True, False, False, False]
    filled = a.filter(pl.col("missing_filled"))
    # O=H=L=C = previous close, volume 0, factor carried within the session
    for c in ("open", "high", "low", "close"):
        assert filled[c].to_list() == [10.5, 10.5]
    assert filled["volume"].to_list() == [0.0, 0.0]
    assert filled["adj_factor"].to_list() == [2.0, 2.0]
    # no bars created across the overnight gap, none for BBB (single bar)
    assert out.height == 7
    assert out.filter(pl.col("symbol") == "BBB")["missing_filled"].to_list() == [False]


def test_aligned_pair_panel_inner_join_excludes_outliers():
    t = [T0 + dt.timedelta(minutes=i) for i in range(5)]
    bars = pl.DataFrame(
        {
            "symbol": ["AAA"] * 5 + ["BBB"] * 4,
            "datetime": t + t[:2] + t[3:],
            "close": [1.0, 2, 3, 4, 5, 10, 20, 40, 50],
            "outlier_flag": pl.Series([0, 0, 0, 1, 0, 0, 0, 0, 0], dtype=pl.Int8),
        }
    ).with_columns(pl.col("datetime").dt.cast_time_unit("us"))
    p = aligned_pair_panel(bars.lazy(), "AAA", "BBB")
    assert p.columns == ["datetime", "price_a", "price_b"]
    assert p.rows() == [(t[0], 1.0, 10.0), (t[1], 2.0, 20.0), (t[4], 5.0, 50.0)]
    p2 = aligned_pair_panel(bars.lazy(), "AAA", "BBB", start=t[1], end=t[3])
    assert p2.rows() == [(t[1], 2.0, 20.0)]
    w = wide_panel(bars.lazy())
    assert w.columns == ["datetime", "AAA", "BBB"]
    assert w.filter(pl.col("datetime") == t[3]).row(0) == (t[3], None, 40.0)


def test_wide_panel_equals_the_polars_pivot_on_ragged_bars():
    rng = np.random.default_rng(5)
    t0 = dt.datetime(2024, 3, 4, 14, 30, tzinfo=dt.UTC)
    frames = []
    for sym, n in (("ZZZ", 200), ("AAA", 50), ("MMM", 120)):
        minutes = np.sort(rng.choice(300, n, replace=False))
        frames.append(pl.DataFrame({
            "symbol": sym, "datetime": [t0 + dt.timedelta(minutes=int(m)) for m in minutes],
            "close": rng.normal(100, 1, n), "outlier_flag": (rng.random(n) < 0.1).astype(np.int8),
        }))  # fmt: skip
    bars = pl.concat(frames).with_columns(pl.col("datetime").dt.cast_time_unit("us"))
    got = wide_panel(bars.lazy(), symbols=["MMM", "ZZZ", "AAA", "NOPE"])
    ref = (
        bars.filter(pl.col("outlier_flag") != 1)
        .select("datetime", "symbol", "close")
        .pivot(on="symbol", index="datetime", values="close", sort_columns=True)
        .sort("datetime")
    )
    assert got.equals(ref)
    assert wide_panel(bars.lazy()).equals(ref)


def test_wide_panel_refuses_two_bars_of_one_symbol_at_one_time():
    t = dt.datetime(2024, 3, 4, 14, 30, tzinfo=dt.UTC)
    bars = pl.DataFrame({"symbol": ["AAA", "AAA"], "datetime": [t, t], "close": [1.0, 2.0]})
    with pytest.raises(ValueError, match="several bars of one symbol"):
        wide_panel(bars.lazy())
