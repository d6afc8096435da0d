"""Vendor-style raw files (format of ``docs/dev-contract.md``, section "Raw vendor files").

Bar files are grouped by ticker (symbol-major) with ascending local time within a ticker; prices
are written at full float precision (shortest round-trip repr) so that the adjustment convention
recovers the adjusted basis exactly.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from statarb.synthetic.anomalies import AnomalyPlan
from statarb.synthetic.calendar import BarClock
from statarb.synthetic.corporate import CorporateAction

BAR_COLUMNS = ["Ticker", "Date", "Time", "Open", "High", "Low", "Close", "Volume"]
_SUFFIXES = ("Holdings Inc", "Corp", "Group plc", "Industries", "Systems Inc", "Partners LP")


def tick_file_name(prefix: str, day: dt.date) -> str:
    return f"{prefix}_ticks_{day:%Y%m%d}.parquet"


def bar_file_name(prefix: str, day: dt.date, fmt: str = "csv") -> str:
    return f"{prefix}_bars_{day:%Y%m%d}.{fmt}"


def day_bar_frame(
    clock: BarClock,
    d: int,
    written_tickers: list[str],
    unknown_ticker: str,
    ohlc: dict[str, np.ndarray],
    volume: np.ndarray,
    plan: AnomalyPlan,
) -> pl.DataFrame:
    """Day ``d``'s bar rows in file order with ``_row`` (1-based data row), ``_uid``, ``_bar``,
    ``_sym``. ``ohlc``/``volume`` are the day's ``(bars, n_sym)`` raw blocks with anomalies.

    File order: symbol-major, ascending time; a swapped pair of bars is written in reverse, a
    duplicate right after its original, an unknown-ticker row right after the bar it copies.
    """
    n_bars, n_sym = ohlc["close"].shape
    s, bpd = int(clock.day_start[d]), clock.bars_per_day
    t_loc = np.repeat(np.arange(n_bars), n_sym)
    j_idx = np.tile(np.arange(n_sym), n_bars)
    order = (j_idx * bpd + t_loc).astype(np.float64)
    for t, j in plan.day_of(plan.swaps, s, s + n_bars):  # write bar t+1 before bar t
        a = (t - s) * n_sym + j
        order[a], order[a + n_sym] = order[a + n_sym], order[a]
    keep = np.ones(n_bars * n_sym, dtype=bool)
    for t, j in plan.day_of(plan.missing, s, s + n_bars):
        keep[(t - s) * n_sym + j] = False
    extra = [
        (r["bar"] - s, r["sym"], r["sym"] if r["rule"] == "duplicate_row" else n_sym, r["uid"])
        for rule in ("duplicate_row", "unknown_ticker")
        for r in plan.records
        if r["rule"] == rule and s <= r["bar"] < s + n_bars
    ]
    bump = {"dup": 0.5, "unk": 0.25}
    e_t = np.asarray([x[0] for x in extra], dtype=np.int64)
    e_j = np.asarray([x[1] for x in extra], dtype=np.int64)
    e_tick = np.asarray([x[2] for x in extra], dtype=np.int64)
    e_order = np.asarray(
        [order[t * n_sym + j] + bump["dup" if c == j else "unk"] for t, j, c, _ in extra],
        dtype=np.float64,
    )
    e_uid = np.asarray([x[3] for x in extra], dtype=np.int64)
    t_all = np.concatenate([t_loc[keep], e_t])
    j_all = np.concatenate([j_idx[keep], e_j])
    local = pl.Series(clock.local_us[s : s + n_bars]).cast(pl.Datetime("us"))
    names = pl.Series([*written_tickers, unknown_ticker])
    df = pl.DataFrame(
        {
            "Ticker": names.gather(np.concatenate([j_idx[keep], e_tick])),
            "Date": pl.Series([clock.days[d].isoformat()]).gather(np.zeros(t_all.size, np.int64)),
            "Time": local.dt.strftime("%H:%M:%S").gather(t_all),
            "Open": ohlc["open"][t_all, j_all],
            "High": ohlc["high"][t_all, j_all],
            "Low": ohlc["low"][t_all, j_all],
            "Close": ohlc["close"][t_all, j_all],
            "Volume": volume[t_all, j_all].astype(np.int64),
            "_order": np.concatenate([order[keep], e_order]),
            "_uid": np.concatenate([((t_loc + s) * n_sym + j_idx)[keep], e_uid]),
            "_bar": t_all + s,
            "_sym": j_all,
        }
    )
    df = df.sort("_order").drop("_order")
    return df.with_columns((pl.int_range(pl.len()) + 1).alias("_row"))


def write_bar_file(df: pl.DataFrame, bars_dir: Path, prefix: str, day: dt.date, fmt: str) -> Path:
    """One day's bar file, contract columns only: CSV, or Parquet holding the same values
    (``Ticker``/``Date``/``Time`` as the CSV's strings, prices Float64, ``Volume`` Int64)."""
    path = bars_dir / bar_file_name(prefix, day, fmt)
    part = df.select(BAR_COLUMNS)
    if fmt == "csv":
        part.write_csv(path)
    elif fmt == "parquet":
        part.write_parquet(path, statistics=False)
    else:
        raise ValueError(f"synthetic.bar_format must be csv or parquet, got {fmt!r}")
    return path


def write_symbols(path: Path, written_tickers: list[str], sectors: tuple[str, ...]) -> pl.DataFrame:
    """``symbols.csv``: ticker,name,asset_class,exchange,currency,sector."""
    df = pl.DataFrame(
        {
            "ticker": written_tickers,
            "name": [
                f"{t.title()} {_SUFFIXES[k % len(_SUFFIXES)]}"
                for k, t in enumerate(written_tickers)
            ],
            "asset_class": ["equity"] * len(written_tickers),
            "exchange": ["XNYS" if k % 3 else "XNAS" for k in range(len(written_tickers))],
            "currency": ["USD"] * len(written_tickers),
            "sector": list(sectors),
        }
    )
    df.write_csv(path)
    return df


def write_corporate_actions(path: Path, actions: list[CorporateAction]) -> pl.DataFrame:
    """``corporate_actions.csv``: ticker,action,ex_date,ratio,cash_amount,note (ex-date order)."""
    notes = {
        "split": lambda a: f"{a.ratio:g}-for-1 stock split",
        "dividend": lambda a: f"cash dividend {a.cash_amount:.2f} USD",
    }
    df = pl.DataFrame(
        {
            "ticker": [a.symbol for a in actions],
            "action": [a.action for a in actions],
            "ex_date": [a.ex_date.isoformat() for a in actions],
            "ratio": [a.ratio for a in actions],
            "cash_amount": [a.cash_amount for a in actions],
            "note": [notes[a.action](a) for a in actions],
        },
        schema={
            "ticker": pl.String,
            "action": pl.String,
            "ex_date": pl.String,
            "ratio": pl.Float64,
            "cash_amount": pl.Float64,
            "note": pl.String,
        },
    )
    df.write_csv(path)
    return df
