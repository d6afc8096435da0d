"""Trading days and regular sessions of an exchange calendar, as vectorised Polars expressions.

A :class:`~statarb.ingest.config.CalendarConfig` (``ingestion.calendars`` of
``conf/base/parameters_ingestion.yml``) lists the weekend days, the full-day closures and the early
closes; this module turns it into per-row checks on exchange-local wall-clock times:

* :meth:`TradingCalendar.trading_day` -- the local date is a trading day;
* :meth:`TradingCalendar.in_session` -- the local time of day is inside that day's session,
  ``[open, close)`` for bar open times (a bar opening at the close would end after it) and
  ``[open, close]`` for ticks (the closing print);
* :meth:`TradingCalendar.covers` -- the date lies in ``[first_day, last_day]``, the range the
  holiday list is known for.

The holiday list of the default ``us_equities`` calendar reproduces the NYSE closures: checked
against the trading days of the real S&P 500 series in ``arch`` (1999-01-04..2018-12-31, no
difference) and the rules of NYSE Rule 7.2 (observed-holiday shifts) after that.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from statarb.conventions import UTC_US

from .config import WEEKDAYS, CalendarConfig

US_PER_SECOND = 1_000_000
HOUR_US = 3600 * US_PER_SECOND
MAX_TABLE_HOURS = 2_000_000  # about 228 years of hours: beyond that convert row by row


def _time_us(t: dt.time) -> int:
    """Microseconds since midnight of a time of day."""
    return ((t.hour * 60 + t.minute) * 60 + t.second) * US_PER_SECOND + t.microsecond


def _zone_offsets(utc_us: pl.Series, tz: str) -> pl.Series:
    """Local minus UTC, in microseconds, of Int64 UTC microseconds (Polars' per-row conversion)."""
    local = utc_us.cast(UTC_US).dt.convert_time_zone(tz).dt.replace_time_zone(None).cast(pl.Int64)
    return local - utc_us


def utc_to_local(utc: pl.Series, tz: str) -> pl.Series:
    """Naive wall-clock time in zone ``tz`` of UTC datetimes ``utc`` (``Datetime("us")``).

    Same result as ``utc.dt.convert_time_zone(tz).dt.replace_time_zone(None)``, computed with
    one UTC offset per UTC hour: an hour whose first and last microsecond have the same offset
    has it throughout (zone transitions are at least an hour apart), so its rows are shifted by
    one integer addition; the rows of an hour holding a transition are converted one by one.
    The inverse of :func:`statarb.ingest.parse.local_to_utc` (0.27 s against 0.46 s for Polars'
    per-row conversion on 5 M minute bars, one core).
    """
    phys = utc.cast(UTC_US).cast(pl.Int64)
    hour = phys // HOUR_US
    lo, hi = hour.min(), hour.max()
    if lo is None or hi - lo >= MAX_TABLE_HOURS:  # type: ignore[operator]
        out = phys + _zone_offsets(phys, tz)
    else:
        starts = pl.int_range(lo, hi + 1, eager=True, dtype=pl.Int64) * HOUR_US  # type: ignore[operator]
        off_start = _zone_offsets(starts, tz)
        off_end = _zone_offsets(starts + (HOUR_US - 1), tz)
        table = pl.select(pl.when(off_start == off_end).then(off_start)).to_series()
        out = phys + table.gather(hour - lo)
        todo = out.is_null() & phys.is_not_null()
        if todo.any():
            idx = todo.arg_true()
            fixed = phys.gather(idx) + _zone_offsets(phys.gather(idx), tz)
            out = out.scatter(idx, fixed)
    return out.cast(pl.Datetime("us")).alias(utc.name)


@dataclass(frozen=True)
class TradingCalendar:
    """Vectorised checks of one :class:`CalendarConfig` (see the module docstring)."""

    config: CalendarConfig

    @property
    def timezone(self) -> str:
        """Exchange time zone in which dates and session times are read."""
        return self.config.timezone

    def covers(self, local: pl.Expr) -> pl.Expr:
        """Boolean: the date of naive local datetime ``local`` is within the calendar's range."""
        day = local.dt.date()
        return day.is_between(pl.lit(self.config.first_day), pl.lit(self.config.last_day))

    def trading_day(self, local: pl.Expr) -> pl.Expr:
        """Boolean: the date of naive local datetime ``local`` is a trading day (not a weekend
        day, not a holiday). Null in, null out."""
        day = local.dt.date()
        weekend = [WEEKDAYS.index(d) + 1 for d in self.config.weekend]  # Polars: Monday = 1
        holidays = pl.Series(self.config.holidays, dtype=pl.Date)
        return ~(day.dt.weekday().is_in(weekend) | day.is_in(holidays.implode()))

    def in_session(self, local: pl.Expr, *, include_close: bool) -> pl.Expr:
        """Boolean: the local time of day of ``local`` is inside that date's regular session.

        ``include_close=False`` tests ``open <= t < close`` (bar open times), ``True`` tests
        ``open <= t <= close`` (tick times). The close of an early-close day is its listed time.
        """
        cfg = self.config
        tod = local.dt.time().cast(pl.Int64) // 1000  # microseconds since local midnight
        close = pl.lit(_time_us(cfg.session_close), pl.Int64)
        by_time: dict[dt.time, list[dt.date]] = {}
        for day, t in cfg.early_closes.items():
            by_time.setdefault(t, []).append(day)
        for t, days in sorted(by_time.items()):  # one is_in per distinct early-close time
            listed = pl.Series(days, dtype=pl.Date).implode()
            close = pl.when(local.dt.date().is_in(listed)).then(_time_us(t)).otherwise(close)
        after_open = tod >= _time_us(cfg.session_open)
        before_close = (tod <= close) if include_close else (tod < close)
        return after_open & before_close

    def describe(self) -> str:
        """Zone, regular session and covered date range, for messages."""
        cfg = self.config
        return (
            f"{cfg.timezone} {cfg.session_open:%H:%M}-{cfg.session_close:%H:%M}, "
            f"{cfg.first_day}..{cfg.last_day}"
        )
