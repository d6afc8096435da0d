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


def bar_file_name(prefix: str, day: dt.date) -> str:
    return f"{prefix}_bars_{day:%Y%m%d}.csv"


def tick_file_name(prefix: str, day: dt.date) -> str:
    return f"{prefix}_ticks_{day:%Y%m%d}.parquet"


def build_bar_frame(
    clock: BarClock,
    written_tickers: list[str],
    unknown_ticker: str,
    ohlc: dict[str, np.ndarray],
    volume: np.ndarray,
    plan: AnomalyPlan,
) -> pl.DataFrame:
    """All bar rows in file order with ``_day`` (file), ``_row`` (1-based data row) and ``_uid``."""
    n_bars, n_sym = ohlc["close"].shape
    bpd = clock.bars_per_day
    t_idx = np.repeat(np.arange(n_bars), n_sym)
    j_idx = np.tile(np.arange(n_sym), n_bars)
    order = (j_idx * bpd + t_idx % bpd).astype(np.float64)
    for t, j in plan.swaps:  # write bar t+1 before bar t
        a, b = t * n_sym + j, (t + 1) * n_sym + j
        order[a], order[b] = order[b], order[a]
    uid = np.arange(n_bars * n_sym, dtype=np.int64)
    tick_idx = j_idx.copy()
    keep = ~plan.missing.ravel()
    extra_t, extra_j, extra_tick, extra_order = [], [], [], []
    unknown_code = n_sym
    inserted = [(t, j, j, 0.5) for t, j in plan.duplicates]
    inserted += [(t, j, unknown_code, 0.25) for t, j in plan.unknown]
    for t, j, code, bump in inserted:
        extra_t.append(t)
        extra_j.append(j)
        extra_tick.append(code)
        extra_order.append(order[t * n_sym + j] + bump)
    uid_extra = [r["uid"] for r in plan.records if r["rule"] == "duplicate_row"]
    uid_extra += [r["uid"] for r in plan.records if r["rule"] == "unknown_ticker"]
    t_all = np.concatenate([t_idx[keep], np.asarray(extra_t, dtype=np.int64)])
    j_all = np.concatenate([j_idx[keep], np.asarray(extra_j, dtype=np.int64)])
    tick_all = np.concatenate([tick_idx[keep], np.asarray(extra_tick, dtype=np.int64)])
    order_all = np.concatenate([order[keep], np.asarray(extra_order, dtype=np.float64)])
    uid_all = np.concatenate([uid[keep], np.asarray(uid_extra, dtype=np.int64)])
    local = pl.Series(clock.local_us[:bpd]).cast(pl.Datetime("us"))
    times = local.dt.strftime("%H:%M:%S")
    dates = pl.Series([d.isoformat() for d in clock.days])
    names = pl.Series([*written_tickers, unknown_ticker])
    df = pl.DataFrame(
        {
            "Ticker": names.gather(tick_all),
            "Date": dates.gather(clock.day_index[t_all]),
            "Time": times.gather(t_all % bpd),
            "Open": ohlc["open"][t_all, j_all],
            "High": ohlc["high"][t_all, j_all],
            "Low": ohlc["low"][t_all, j_all],
            "Close": ohlc["close"][t_all, j_all],
            "Volume": volume[t_all, j_all].astype(np.int64),
            "_day": clock.day_index[t_all],
            "_order": order_all,
            "_uid": uid_all,
            "_bar": t_all,
            "_sym": j_all,
        }
    )
    df = df.sort(["_day", "_order"])
    return df.with_columns((pl.int_range(pl.len()).over("_day") + 1).alias("_row"))


def write_bar_files(df: pl.DataFrame, clock: BarClock, bars_dir: Path, prefix: str) -> list[Path]:
    """One CSV per trading day, contract columns only."""
    bars_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for (day,), part in df.partition_by("_day", as_dict=True, maintain_order=True).items():
        path = bars_dir / bar_file_name(prefix, clock.days[int(day)])
        part.select(BAR_COLUMNS).write_csv(path)
        out.append(path)
    return out


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
