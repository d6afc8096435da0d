"""Calendar, DST handling and the raw file format of docs/dev-contract.md."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import polars as pl

from statarb.synthetic.calendar import bar_clock, trading_days
from statarb.synthetic.vendor_files import BAR_COLUMNS

from .conftest import DEFAULT, read_bar_files, with_utc


def test_trading_days_match_numpy_business_calendar():
    cfg = DEFAULT
    days = trading_days(cfg.start, cfg.end, cfg.holidays)
    span = np.arange(np.datetime64(cfg.start), np.datetime64(cfg.end) + 1)
    hol = np.array([np.datetime64(h) for h in cfg.holidays])
    ref = span[np.is_busday(span, holidays=hol)]
    assert [np.datetime64(d) for d in days] == list(ref)
    assert dt.date(2026, 2, 16) not in days and dt.date(2026, 2, 17) in days


def test_bar_clock_matches_polars_timezone_conversion():
    days = trading_days(dt.date(2026, 3, 2), dt.date(2026, 3, 13))
    clock = bar_clock(days)
    local = pl.Series(clock.local_us).cast(pl.Datetime("us"))
    ref = local.dt.replace_time_zone("America/New_York").dt.convert_time_zone("UTC")
    assert np.array_equal(ref.dt.epoch("us").to_numpy(), clock.utc_us)
    times = local.dt.strftime("%H:%M").to_list()
    assert times[0] == "09:30" and times[389] == "15:59" and times[390] == "09:30"


def test_dst_offset_in_written_files(small_dir):
    df = with_utc(read_bar_files(small_dir))
    first = df.filter(pl.col("Time") == "09:30:00").group_by("Date").agg(pl.col("datetime").first())
    got = {r["Date"]: r["datetime"].strftime("%H:%M") for r in first.iter_rows(named=True)}
    assert got["2026-03-06"] == "14:30"  # EST, UTC-5
    assert got["2026-03-09"] == "13:30"  # EDT, UTC-4


def test_bar_file_format(small_dir, small_cfg):
    files = sorted((small_dir / "bars").glob("*.csv"))
    days = trading_days(small_cfg.start, small_cfg.end, small_cfg.holidays)[: small_cfg.n_days]
    assert [f.name for f in files] == [f"SYNTH_bars_{d:%Y%m%d}.csv" for d in days]
    for f in files:
        assert f.read_text().splitlines()[0] == ",".join(BAR_COLUMNS)
    df = read_bar_files(small_dir)
    assert df["Date"].str.contains(r"^\d{4}-\d{2}-\d{2}$").all()
    assert df["Time"].str.contains(r"^\d{2}:\d{2}:\d{2}$").all()
    assert df["Time"].min() == "09:30:00" and df["Time"].max() == "15:59:00"
    assert df["Volume"].dtype == pl.Int64
    assert (df["Ticker"] != df["Ticker"].str.to_uppercase()).any(), "no lower-case tickers"


def test_reference_files_format(small_dir):
    sym = pl.read_csv(small_dir / "symbols.csv")
    assert sym.columns == ["ticker", "name", "asset_class", "exchange", "currency", "sector"]
    assert (sym["ticker"] != sym["ticker"].str.to_uppercase()).any()
    assert sym["ticker"].str.to_uppercase().n_unique() == sym.height
    ca = pl.read_csv(small_dir / "corporate_actions.csv")
    assert ca.columns == ["ticker", "action", "ex_date", "ratio", "cash_amount", "note"]
    assert set(ca["action"]) <= {"split", "dividend"}
    assert ca["ex_date"].str.contains(r"^\d{4}-\d{2}-\d{2}$").all()
    assert ca.filter(pl.col("action") == "split")["ratio"].is_not_null().all()
    assert ca.filter(pl.col("action") == "dividend")["cash_amount"].is_not_null().all()


def test_tick_file_format(small_dir, small_cfg):
    files = sorted((small_dir / "ticks").glob("*.parquet"))
    assert len(files) == small_cfg.tick_days
    pat = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$")
    for f in files:
        t = pl.read_parquet(f)
        assert t.schema == pl.Schema(
            {"sym": pl.String, "ts": pl.String, "px": pl.Float64, "qty": pl.Float64,
             "side": pl.String, "venue": pl.String}
        )  # fmt: skip
        assert all(pat.match(s) for s in t["ts"].head(1000))
        assert set(t["side"]) <= {"B", "S"}
        assert t["ts"].is_sorted()
        assert f.name == f"SYNTH_ticks_{t['ts'][0][:10].replace('-', '')}.parquet"
