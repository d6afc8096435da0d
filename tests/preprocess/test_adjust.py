"""Adjustment factors against hand-computed values (dev-contract convention)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from statarb.preprocess import adjust_bars, factor_table

NY = ZoneInfo("America/New_York")


def _bar(sym: str, local: str, close: float) -> dict:
    t = dt.datetime.fromisoformat(local).replace(tzinfo=NY).astimezone(dt.UTC)
    return {
        "symbol": sym,
        "datetime": t,
        "open": close - 0.5,
        "high": close + 1.0,
        "low": close - 1.0,
        "close": close,
        "volume": 100.0,
        "adj_factor": 1.0,
    }


BARS = pl.DataFrame(
    [
        _bar("AAA", "2026-03-05 09:30", 49.0),
        _bar("AAA", "2026-03-05 15:59", 50.0),  # last close before the dividend ex-date
        _bar("AAA", "2026-03-06 09:30", 49.5),  # ex-dividend session
        _bar("AAA", "2026-03-06 15:59", 100.0),  # last close before the split ex-date
        # 19:30 New York on 03-06 is 00:30 UTC on 03-07: still before the 03-09 split by local date
        _bar("AAA", "2026-03-06 19:30", 101.0),
        _bar("AAA", "2026-03-09 09:30", 50.5),  # split session
        _bar("BBB", "2026-03-05 09:30", 20.0),
    ]
).with_columns(pl.col("datetime").dt.cast_time_unit("us"))

ACTIONS = pl.DataFrame(
    {
        "symbol_id": ["AAA", "AAA"],
        "action_type": ["split", "dividend"],
        "ex_date": [dt.date(2026, 3, 9), dt.date(2026, 3, 6)],
        "ratio": [2.0, None],
        "cash_amount": [None, 1.0],
    }
)


def test_factors_match_hand_computation():
    out = adjust_bars(BARS, ACTIONS)
    # dividend multiplier 1 / (1 - 1/50) = 50/49; split multiplier 2
    div = 1.0 / (1.0 - 1.0 / 50.0)
    expected = [2.0 * div, 2.0 * div, 2.0, 2.0, 2.0, 1.0]
    aaa = out.filter(pl.col("symbol") == "AAA")
    assert aaa["adj_factor"].to_list() == pytest.approx(expected, rel=1e-15)
    assert out.filter(pl.col("symbol") == "BBB")["adj_factor"].to_list() == [1.0]
    # adjusted = raw / adj_factor on OHLC, volume untouched
    raw = BARS.sort("symbol", "datetime")
    for c in ("open", "high", "low", "close"):
        assert (out[c] * out["adj_factor"]).to_list() == pytest.approx(raw[c].to_list(), rel=1e-14)
    assert out["volume"].to_list() == raw["volume"].to_list()
    # the 19:30-local bar sits on UTC date 03-07 but is adjusted by its New York date
    assert aaa["datetime"][4].date() == dt.date(2026, 3, 7)


def test_adjusted_series_continuous_across_ex_dates():
    out = adjust_bars(BARS, ACTIONS).filter(pl.col("symbol") == "AAA")
    # close before split (100, factor 2) and after (50.5, factor 1) are continuous in adjusted terms
    assert out["close"][4] == pytest.approx(50.5)
    assert out["close"][5] == pytest.approx(50.5)


def test_same_day_split_and_dividend_multiply():
    acts = pl.DataFrame(
        {
            "symbol_id": ["AAA", "AAA"],
            "action_type": ["split", "dividend"],
            "ex_date": [dt.date(2026, 3, 9), dt.date(2026, 3, 9)],
            "ratio": [3.0, None],
            "cash_amount": [None, 2.0],
        }
    )
    daily = pl.DataFrame(
        {
            "symbol": ["AAA", "AAA"],
            "session_date": [dt.date(2026, 3, 6), dt.date(2026, 3, 9)],
            "close": [100.0, 33.0],
        }
    )
    ft = factor_table(daily, acts)
    assert ft["adj_factor"].to_list() == pytest.approx([3.0 / (1 - 2.0 / 100.0), 1.0])


def test_dividend_above_price_is_error_naming_symbol_and_date():
    acts = ACTIONS.with_columns(pl.Series("cash_amount", [None, 60.0]))
    with pytest.raises(ValueError, match=r"dividend of AAA on 2026-03-06 .*adj_factor > 0"):
        adjust_bars(BARS, acts)


def test_no_actions_gives_unit_factor():
    out = adjust_bars(BARS, ACTIONS.clear())
    assert (out["adj_factor"] == 1.0).all()
    assert out["close"].to_list() == BARS.sort("symbol", "datetime")["close"].to_list()
