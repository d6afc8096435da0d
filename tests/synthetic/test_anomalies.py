"""anomalies.json points at rows that really break the stated rule; every other row is clean."""

from __future__ import annotations

import collections
import math

import numpy as np
import polars as pl

from statarb.synthetic.anomalies import RULES

from .conftest import anomalies, clean_rows, read_bar_files, with_utc


def _row(df: pl.DataFrame, file: str, row: int) -> dict:
    (rec,) = df.filter((pl.col("file") == file) & (pl.col("row") == row)).to_dicts()
    return rec


def test_counts_match_config(small_dir, small_cfg):
    got = collections.Counter(a["rule"] for a in anomalies(small_dir))
    assert set(got) == set(RULES)
    assert got["missing_bar"] == small_cfg.n_missing
    assert got["price_spike"] == small_cfg.n_spikes
    assert got["duplicate_row"] == small_cfg.n_duplicates
    for rule in ("negative_price", "high_lt_low", "nan_close", "unknown_ticker"):
        assert got[rule] == small_cfg.n_bad_each


def test_each_recorded_row_breaks_its_rule(small_dir, small_data):
    df = with_utc(read_bar_files(small_dir)).with_columns(
        pl.col("Ticker").str.to_uppercase().alias("symbol")
    )
    known = set(pl.read_csv(small_dir / "symbols.csv")["ticker"].str.to_uppercase())
    m = small_data.market
    by_file = {k[0]: v for k, v in df.partition_by("file", as_dict=True).items()}
    for a in anomalies(small_dir):
        rule, file = a["rule"], a["file"]
        df = by_file[file]
        if rule == "missing_bar":
            assert a["row"] is None
            hit = df.filter(
                (pl.col("file") == file)
                & (pl.col("symbol") == a["symbol"])
                & (pl.col("datetime").dt.strftime("%Y-%m-%dT%H:%M:%SZ") == a["datetime"])
            )
            assert hit.height == 0, a
            continue
        r = _row(df, file, a["row"])
        assert r["datetime"].strftime("%Y-%m-%dT%H:%M:%SZ") == a["datetime"], a
        assert r["symbol"] == a["symbol"], a
        if rule == "duplicate_row":
            prev = _row(df, file, a["row"] - 1)
            cols = ["Ticker", "Date", "Time", "Open", "High", "Low", "Close", "Volume"]
            assert all(prev[c] == r[c] for c in cols), a
        elif rule == "negative_price":
            assert min(r["Open"], r["High"], r["Low"], r["Close"]) < 0, a
        elif rule == "high_lt_low":
            assert r["High"] < r["Low"], a
        elif rule == "nan_close":
            assert math.isnan(r["Close"]), a
        elif rule == "unknown_ticker":
            assert r["symbol"] not in known, a
        elif rule == "non_increasing_time":
            same = df.filter(
                (pl.col("file") == file)
                & (pl.col("symbol") == r["symbol"])
                & (pl.col("row") < a["row"])
            )
            assert same["datetime"].max() >= r["datetime"], a
        elif rule == "price_spike":
            j = m.symbols.index(r["symbol"])
            k = abs(math.log(r["Close"] / a["clean_close"])) / m.bar_vol[j]
            assert 8.0 <= k <= 15.0 and r["Close"] == a["spiked_close"], a
            assert r["High"] >= max(r["Open"], r["Close"]) and r["Low"] <= min(
                r["Open"], r["Close"]
            )
            nxt = df.filter(
                (pl.col("file") == file)
                & (pl.col("symbol") == r["symbol"])
                & (pl.col("row") > a["row"])
            ).sort("row")
            assert nxt["Open"][0] == a["clean_close"], "spike must revert at the next bar"


def test_clean_rows_are_consistent(small_dir):
    df = clean_rows(small_dir)
    known = set(pl.read_csv(small_dir / "symbols.csv")["ticker"].str.to_uppercase())
    assert set(df["symbol"]) <= known
    o, h, lo, c = (df[k].to_numpy() for k in ("Open", "High", "Low", "Close"))
    assert np.isfinite(np.c_[o, h, lo, c]).all()
    assert (np.c_[o, h, lo, c] > 0).all()
    assert (h >= np.maximum(o, c)).all() and (lo <= np.minimum(o, c)).all()
    assert (df["Volume"] > 0).all()
    step = df.sort("file", "row").select(pl.col("datetime").diff().over("file", "symbol"))
    assert (step["datetime"].drop_nulls().dt.total_microseconds() > 0).all()
    assert df.select("symbol", "datetime").is_unique().all()


def test_lower_case_tickers_consistent(small_dir):
    sym = pl.read_csv(small_dir / "symbols.csv")
    lower_sym = set(sym.filter(pl.col("ticker") != pl.col("ticker").str.to_uppercase())["ticker"])
    bars = read_bar_files(small_dir)
    lower_bars = set(bars.filter(pl.col("Ticker") != pl.col("Ticker").str.to_uppercase())["Ticker"])
    assert lower_sym and lower_sym == lower_bars


def test_intraday_volume_is_u_shaped(small_dir):
    df = clean_rows(small_dir).with_columns(
        pl.col("Time").str.slice(0, 2).cast(pl.Int32).alias("hour")
    )
    by_hour = df.group_by("hour").agg(pl.col("Volume").mean()).sort("hour")["Volume"].to_numpy()
    assert by_hour[0] > 1.5 * by_hour[3] and by_hour[-1] > 1.5 * by_hour[3]
