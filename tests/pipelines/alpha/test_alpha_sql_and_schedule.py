"""Alpha relational outputs through SQLTableDataset (SQLite and PostgreSQL); schedule modes."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from test_alpha_pipeline import SYMBOLS, make_bars, run_nodes

from statarb.alpha.schedule import build_schedule
from statarb.storage.sql_dataset import SQLTableDataset

MIN = timedelta(minutes=1)


@pytest.fixture(scope="module")
def out() -> dict[str, pl.DataFrame]:
    return run_nodes(make_bars(n_days=2, seed=3))


def test_relational_outputs_round_trip_and_upsert_idempotently(out, db_url: str) -> None:
    cred = {"con": db_url}
    SQLTableDataset("symbols", credentials=cred).save(SYMBOLS)
    names = [
        "pair_universe",
        "kalman_params",
        "ou_params",
        "cointegration_results",
        "selection_log",
    ]
    for name in names:
        ds = SQLTableDataset(name, credentials=cred)
        ds.save(out[name])
        ds.save(out[name])  # a re-run upserts on the natural key: no duplicates
        back = ds.load()
        assert back.height == out[name].height, name
    kp = SQLTableDataset("kalman_params", credentials=cred).load().sort("pair_id", "window_end")
    ref = out["kalman_params"].sort("pair_id", "window_end")
    assert kp["initial_state"].to_list() == ref["initial_state"].to_list()
    assert kp["window_end"].to_list() == ref["window_end"].to_list()
    ou = SQLTableDataset("ou_params", credentials=cred).load().sort("pair_id", "window_end")
    r = out["ou_params"].sort("pair_id", "window_end")
    for got, want in zip(ou["theta"].to_list(), r["theta"].to_list(), strict=True):
        assert (got is None or math.isnan(got)) if math.isnan(want) else got == want


def _dts(day_counts: list[int]) -> pl.Series:
    ts = []
    for d, n in enumerate(day_counts):
        t0 = datetime(2026, 3, 2 + d, 14, 30, tzinfo=UTC)
        ts += [t0 + i * MIN for i in range(n)]
    return pl.Series(ts, dtype=pl.Datetime("us", "UTC"))


def test_schedule_modes() -> None:
    dts = _dts([390, 210])  # second session closes early
    sc = build_schedule(dts, {"mode": "session_close"}, MIN)
    assert sc.to_list() == [
        datetime(2026, 3, 2, 21, 0, tzinfo=UTC),
        datetime(2026, 3, 3, 18, 0, tzinfo=UTC),
    ]
    ev = build_schedule(dts, {"mode": "every_n_bars", "n": 200}, MIN)
    assert ev.len() == 3 and ev[0] == dts[199] + MIN and ev[2] == dts[599] + MIN
    ex = build_schedule(
        dts, {"mode": "explicit", "times": ["2026-03-02T12:00:00-05:00", "2026-03-02 15:00"]}, MIN
    )
    assert ex.to_list() == [
        datetime(2026, 3, 2, 15, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 17, 0, tzinfo=UTC),
    ]
    with pytest.raises(ValueError, match="schedule.mode"):
        build_schedule(dts, {"mode": "hourly"}, MIN)
    with pytest.raises(ValueError, match="n must be"):
        build_schedule(dts, {"mode": "every_n_bars", "n": 0}, MIN)
    assert np.all(np.diff(sc.to_physical().to_numpy()) > 0)


def test_weekly_and_monthly_schedules_are_the_last_session_closes_of_each_period() -> None:
    """Across a month end (Mon 30 Mar .. Mon 6 Apr 2026, New York sessions 09:30-16:00 EDT)."""
    days = [
        datetime(2026, 3, 30),
        datetime(2026, 3, 31),
        datetime(2026, 4, 1),
        datetime(2026, 4, 6),
    ]
    ts = [
        datetime(d.year, d.month, d.day, 13, 30, tzinfo=UTC) + i * MIN
        for d in days
        for i in range(390)
    ]
    dts = pl.Series(ts, dtype=pl.Datetime("us", "UTC"))
    closes = build_schedule(dts, {"mode": "session_close"}, MIN).to_list()
    assert closes == [datetime(d.year, d.month, d.day, 20, 0, tzinfo=UTC) for d in days]

    def last_per(key) -> list[datetime]:  # plain-Python reference: last session close per period
        out: dict = {}
        for c in closes:
            out[key(c)] = c
        return sorted(out.values())

    weekly = build_schedule(dts, {"mode": "weekly"}, MIN).to_list()
    monthly = build_schedule(dts, {"mode": "monthly"}, MIN).to_list()
    assert weekly == last_per(lambda c: c.isocalendar()[:2]) == [closes[2], closes[3]]
    assert monthly == last_per(lambda c: (c.year, c.month)) == [closes[1], closes[3]]
