"""Exchange calendar for the synthetic market: trading days and 1-minute bar open times.

Sessions are regular US-equity hours in exchange-local time (America/New_York by default, so the
UTC open moves from 14:30 to 13:30 at the 2026-03-08 DST change). Weekends and the configured
holidays are skipped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

_US_PER_MIN = 60_000_000


@dataclass(frozen=True)
class BarClock:
    """Bar open times of a run of sessions, one entry per bar (``n_days * bars_per_day``).

    ``utc_us`` are epoch microseconds (UTC); ``local_us`` are the same instants as naive local
    wall-clock epoch microseconds (handy for string formatting); ``day_index`` maps each bar to its
    position in ``days``.
    """

    days: tuple[dt.date, ...]
    bars_per_day: int
    utc_us: np.ndarray
    local_us: np.ndarray
    day_index: np.ndarray

    @property
    def n_bars(self) -> int:
        return int(self.utc_us.size)


def trading_days(start: dt.date, end: dt.date, holidays: tuple[dt.date, ...] = ()) -> list[dt.date]:
    """Weekdays from ``start`` to ``end`` inclusive that are not in ``holidays``."""
    if end < start:
        raise ValueError(f"calendar: end {end} is before start {start}")
    hol = set(holidays)
    out: list[dt.date] = []
    d = start
    while d <= end:
        if d.weekday() < 5 and d not in hol:
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def session_open_utc(day: dt.date, open_time: dt.time, tz: str) -> dt.datetime:
    """UTC instant of the local session open ``open_time`` on ``day`` (DST-aware via zoneinfo)."""
    local = dt.datetime.combine(day, open_time, tzinfo=ZoneInfo(tz))
    return local.astimezone(dt.UTC)


def bar_clock(
    days: list[dt.date] | tuple[dt.date, ...],
    open_time: dt.time = dt.time(9, 30),
    bars_per_day: int = 390,
    tz: str = "America/New_York",
) -> BarClock:
    """Open times of ``bars_per_day`` consecutive 1-minute bars from ``open_time`` on each day.

    No session crosses a DST transition (transitions happen at 02:00 local), so the UTC offset of
    the open holds for the whole session.
    """
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    minutes = np.arange(bars_per_day, dtype=np.int64) * _US_PER_MIN
    utc_open = np.empty(len(days), dtype=np.int64)
    local_open = np.empty(len(days), dtype=np.int64)
    for k, day in enumerate(days):
        u = session_open_utc(day, open_time, tz)
        utc_open[k] = (u - epoch) // dt.timedelta(microseconds=1)
        naive_local = dt.datetime.combine(day, open_time, tzinfo=dt.UTC)
        local_open[k] = (naive_local - epoch) // dt.timedelta(microseconds=1)
    utc_us = (utc_open[:, None] + minutes[None, :]).ravel()
    local_us = (local_open[:, None] + minutes[None, :]).ravel()
    day_index = np.repeat(np.arange(len(days), dtype=np.int64), bars_per_day)
    return BarClock(tuple(days), bars_per_day, utc_us, local_us, day_index)
