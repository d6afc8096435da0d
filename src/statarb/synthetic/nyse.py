"""Rule-based NYSE closures and early closes, for extending the synthetic calendar to any length.

Full-day holidays (NYSE Rule 7.2 and its holiday schedule): New Year's Day, Martin Luther King Jr.
Day (third Monday of January), Washington's Birthday (third Monday of February), Good Friday
(Easter Sunday - 2 days, Gregorian computus of Meeus/Jones/Butcher), Memorial Day (last Monday of
May), Juneteenth (June 19, from 2022), Independence Day, Labor Day (first Monday of September),
Thanksgiving (fourth Thursday of November) and Christmas. A fixed-date holiday on a Saturday is
observed the Friday before, on a Sunday the Monday after -- except New Year's Day on a Saturday,
which is not observed (the exchange does not close on the last trading day of the year).

Early closes (13:00 local): July 3 when it falls Monday to Thursday (July 4 a weekday, the 3rd a
trading day), the day after Thanksgiving, and December 24 when it is a weekday and not itself
the observed Christmas holiday.

Special closures (e.g. 2012-10-29/30, 2025-01-09) are not rules and are not produced; list them in
the ``synthetic.holidays`` setting. The rules reproduce the ``us_equities`` calendar of
``conf/base/parameters_ingestion.yml`` for 2019-2030 apart from those special closures (tested).
"""

from __future__ import annotations

import datetime as dt

EARLY_CLOSE = dt.time(13, 0)


def easter_sunday(year: int) -> dt.date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm, Meeus 1991, ch. 8)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The ``n``-th (1-based; -1 = last) ``weekday`` (Monday = 0) of a month."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    last = nxt - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: dt.date) -> dt.date:
    """Saturday -> Friday before, Sunday -> Monday after."""
    if day.weekday() == 5:
        return day - dt.timedelta(days=1)
    if day.weekday() == 6:
        return day + dt.timedelta(days=1)
    return day


def nyse_holidays(year: int) -> list[dt.date]:
    """Full-day NYSE holidays of ``year`` (weekday dates, sorted), by the rules above."""
    out = []
    new_year = dt.date(year, 1, 1)
    if new_year.weekday() != 5:
        out.append(_observed(new_year))
    out.append(_nth_weekday(year, 1, 0, 3))  # Martin Luther King Jr. Day
    out.append(_nth_weekday(year, 2, 0, 3))  # Washington's Birthday
    out.append(easter_sunday(year) - dt.timedelta(days=2))  # Good Friday
    out.append(_nth_weekday(year, 5, 0, -1))  # Memorial Day
    if year >= 2022:
        out.append(_observed(dt.date(year, 6, 19)))  # Juneteenth
    out.append(_observed(dt.date(year, 7, 4)))
    out.append(_nth_weekday(year, 9, 0, 1))  # Labor Day
    out.append(_nth_weekday(year, 11, 3, 4))  # Thanksgiving
    out.append(_observed(dt.date(year, 12, 25)))
    return sorted(out)


def nyse_early_closes(year: int) -> dict[dt.date, dt.time]:
    """13:00 early closes of ``year`` by the rules above."""
    out = {}
    july3 = dt.date(year, 7, 3)
    if july3.weekday() <= 3:
        out[july3] = EARLY_CLOSE
    out[_nth_weekday(year, 11, 3, 4) + dt.timedelta(days=1)] = EARLY_CLOSE
    dec24 = dt.date(year, 12, 24)
    if dec24.weekday() < 5 and dec24 not in nyse_holidays(year):
        out[dec24] = EARLY_CLOSE
    return out
