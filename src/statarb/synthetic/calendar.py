"""Exchange calendar for the synthetic market: trading days and 1-minute bar open times.

Sessions are regular US-equity hours in exchange-local time (America/New_York by default, so the
UTC open moves from 14:30 to 13:30 at the 2026-03-08 DST change). Weekends, the NYSE holidays of
:mod:`.nyse` and the configured extra holidays are skipped; an NYSE early close (13:00) shortens
that day's session, so every generated bar lies inside ingestion's ``us_equities`` session.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from statarb.synthetic.nyse import nyse_early_closes, nyse_holidays

_US_PER_MIN = 60_000_000


@dataclass(frozen=True)
class BarClock:
    """Bar open times of a run of sessions, one entry per bar.

    ``utc_us`` are epoch microseconds (UTC); ``local_us`` are the same instants as naive local
    wall-clock epoch microseconds (handy for string formatting); ``day_index`` maps each bar to its
    position in ``days``; ``day_start[d]`` is the first bar of day ``d`` (``day_start[-1]`` =
    ``n_bars``). ``bars_per_day`` is the length of a regular session; an early-close day is shorter.
    """

    days: tuple[dt.date, ...]
    bars_per_day: int
    utc_us: np.ndarray
    local_us: np.ndarray
    day_index: np.ndarray
    day_start: np.ndarray

    @property
    def n_bars(self) -> int:
        return int(self.utc_us.size)

    def day_len(self, d: int) -> int:
        """Number of bars of day ``d``."""
        return int(self.day_start[d + 1] - self.day_start[d])

    def minute_of_day(self) -> np.ndarray:
        """Position of every bar within its session (0 = the open)."""
        return np.arange(self.n_bars) - self.day_start[self.day_index]


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


def nyse_sessions(
    start: dt.date, end: dt.date, n_days: int | None, extra_holidays: tuple[dt.date, ...] = ()
) -> list[dt.date]:
    """Sessions from ``start``: through ``end`` when ``n_days`` is None, else exactly the first
    ``n_days`` sessions (stopping before ``end`` or running past it as needed).

    A session is a weekday that is neither an NYSE holiday (:func:`.nyse.nyse_holidays`) nor in
    ``extra_holidays``.
    """
    if end < start:
        raise ValueError(f"calendar: end {end} is before start {start}")
    closed = set(extra_holidays)
    years: set[int] = set()
    out: list[dt.date] = []
    d = start
    while (n_days is None and d <= end) or (n_days is not None and len(out) < n_days):
        if d.year not in years:
            years.add(d.year)
            closed.update(nyse_holidays(d.year))
        if d.weekday() < 5 and d not in closed:
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def early_close_bars(
    days: list[dt.date] | tuple[dt.date, ...], open_time: dt.time, bars_per_day: int
) -> list[int]:
    """Bars of each day: ``bars_per_day``, or the minutes from the open to an NYSE early close."""
    closes: dict[dt.date, dt.time] = {}
    for year in sorted({d.year for d in days}):
        closes.update(nyse_early_closes(year))
    out = []
    for d in days:
        t = closes.get(d)
        if t is None:
            out.append(bars_per_day)
            continue
        minutes = (t.hour * 60 + t.minute) - (open_time.hour * 60 + open_time.minute)
        out.append(min(bars_per_day, max(minutes, 1)))
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
    day_bars: list[int] | None = None,
) -> BarClock:
    """Open times of consecutive 1-minute bars from ``open_time`` on each day.

    ``day_bars`` gives each day's number of bars (default ``bars_per_day`` for every day). No
    session crosses a DST transition (transitions happen at 02:00 local), so the UTC offset of the
    open holds for the whole session.
    """
    lengths = np.asarray(day_bars if day_bars is not None else [bars_per_day] * len(days), np.int64)
    if lengths.size != len(days):
        raise ValueError(f"bar_clock: {lengths.size} session lengths for {len(days)} days")
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    utc_open = np.empty(len(days), dtype=np.int64)
    local_open = np.empty(len(days), dtype=np.int64)
    for k, day in enumerate(days):
        u = session_open_utc(day, open_time, tz)
        utc_open[k] = (u - epoch) // dt.timedelta(microseconds=1)
        naive_local = dt.datetime.combine(day, open_time, tzinfo=dt.UTC)
        local_open[k] = (naive_local - epoch) // dt.timedelta(microseconds=1)
    day_start = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    day_index = np.repeat(np.arange(len(days), dtype=np.int64), lengths)
    minute = np.arange(int(day_start[-1]), dtype=np.int64) - day_start[day_index]
    utc_us = utc_open[day_index] + minute * _US_PER_MIN
    local_us = local_open[day_index] + minute * _US_PER_MIN
    return BarClock(tuple(days), bars_per_day, utc_us, local_us, day_index, day_start)
