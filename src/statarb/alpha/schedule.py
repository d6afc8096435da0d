"""The information-time schedule: the test times ``T`` at which screening, OU fits and Kalman
windows end (one module for every caller).

A bar with open time ``t`` is known at ``t + bar_interval`` (docs/dev-contract.md). Modes
(``alpha.schedule.mode``):

* ``session_close`` / ``weekly`` / ``monthly``: the close (``open + bar_interval``) of the last bar
  of each session / ISO week / calendar month, sessions being exchange-local dates in
  ``session_tz``;
* ``every_n_bars``: after every ``n``-th bar of the timeline, at its close;
* ``explicit``: the given times (UTC).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from statarb.conventions import UTC_US, to_utc

MODES = ("session_close", "weekly", "monthly", "every_n_bars", "explicit")
_PERIODS = {"daily": "session_close", "session_close": "session_close", "weekly": "weekly",
            "monthly": "monthly"}  # fmt: skip


def period_closes(
    times_us: np.ndarray, period: str, bar_interval: timedelta, session_tz: str = "America/New_York"
) -> list[datetime]:
    """Close of the last bar of each session / ISO week / month of the bar open times
    ``times_us`` (int64 epoch microseconds); ``period`` is ``daily`` (= ``session_close``),
    ``weekly`` or ``monthly``."""
    if period not in _PERIODS:
        raise ValueError(
            f"schedule must be a list of datetimes or daily/weekly/monthly, got {period!r}"
        )
    step = int(bar_interval / timedelta(microseconds=1))
    df = pl.DataFrame({"close": pl.Series(np.asarray(times_us) + step).cast(UTC_US)}).with_columns(
        local=(pl.col("close") - pl.duration(microseconds=step)).dt.convert_time_zone(session_tz)
    )
    key = {
        "session_close": pl.col("local").dt.date(),
        "weekly": pl.col("local").dt.truncate("1w"),
        "monthly": pl.col("local").dt.truncate("1mo"),
    }[_PERIODS[period]]
    out = df.group_by(key.alias("k")).agg(pl.col("close").max()).sort("k")
    return out["close"].to_list()


def build_schedule(
    datetimes: pl.Series, params: Mapping[str, Any] | Any, bar_interval: timedelta
) -> pl.Series:
    """Schedule times ``test_ts`` (sorted, unique, ``Datetime(us, UTC)``) from the bar open times.

    ``params`` is an :class:`statarb.alpha.config.ScheduleConfig` or a mapping with its keys."""
    get = params.get if isinstance(params, Mapping) else lambda k, d=None: getattr(params, k, d)
    mode = get("mode", "session_close")
    dts = datetimes.cast(UTC_US).unique().sort()
    if mode in ("session_close", "weekly", "monthly"):
        tz = get("session_tz", "America/New_York")
        ends = period_closes(dts.dt.epoch("us").to_numpy(), mode, bar_interval, tz)
        out = pl.Series(ends, dtype=UTC_US)
    elif mode == "every_n_bars":
        n = int(get("n", 0))
        if n < 1:
            raise ValueError(f"alpha.schedule.n must be >= 1 for every_n_bars, got {n}")
        out = dts.gather(np.arange(n - 1, dts.len(), n)) + bar_interval
    elif mode == "explicit":
        out = pl.Series([to_utc(t) for t in get("times", []) or []], dtype=UTC_US)
    else:
        raise ValueError(f"alpha.schedule.mode must be one of {MODES}, got {mode!r}")
    return out.cast(UTC_US).unique().sort().rename("test_ts")
