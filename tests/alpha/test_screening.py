"""Walk-forward screening: windows, information time, schedules, statistics vs statsmodels,
degenerate windows, and no look-ahead (perturbing the future leaves every earlier result
bit-identical)."""

from __future__ import annotations

import json
import logging
import warnings
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from statsmodels.tsa.stattools import coint
from statsmodels.tsa.vector_ar.vecm import coint_johansen

from statarb.alpha.schedule import period_closes
from statarb.alpha.screening import screen_pairs
from statarb.config.strict import ConfigError
from tests.config_helpers import alpha_config

CREATED = datetime(2030, 1, 1, tzinfo=UTC)
PAIRS = [("AAA_BBB", "AAA", "BBB"), ("AAA_CCC", "AAA", "CCC"), ("BBB_CCC", "BBB", "CCC")]
MIN = timedelta(minutes=1)
# every funnel stage after the test switched off: is_cointegrated = raw p-value below 0.05
NO_FUNNEL = {
    "selection__multiple_testing__method": "none",
    "selection__half_life__min_bars": None,
    "selection__half_life__max_bars": None,
    "selection__hurst__max": None,
    "selection__crossings__min": 0,
    "selection__matching__max_pairs_per_symbol": 0,
    "selection__persistence__enter_after": 1,
    "selection__persistence__exit_after": 1,
    "selection__confirmation__max_shared": None,
}


def cfg(window: int = 300, min_obs: int | None = None, tests=("eg",), **kw):
    over = {"screening__window_bars": window, "screening__min_obs": min_obs or window}
    over["screening__tests"] = list(tests)
    return alpha_config(**over, **kw)


def make_prices(n_days: int = 8, bars_per_day: int = 120, seed: int = 0) -> pl.DataFrame:
    """Synthetic 1-minute bars from 14:30 UTC on weekdays; AAA and BBB cointegrated."""
    rng = np.random.default_rng(seed)
    ts = []
    day = datetime(2024, 1, 29, tzinfo=UTC)  # a Monday
    while len(ts) < n_days * bars_per_day:
        if day.weekday() < 5:
            start = day.replace(hour=14, minute=30)
            ts += [start + timedelta(minutes=m) for m in range(bars_per_day)]
        day += timedelta(days=1)
    n = len(ts)
    x = 100 + np.cumsum(rng.normal(0, 0.05, n))
    u = np.zeros(n)
    for t in range(1, n):
        u[t] = 0.6 * u[t - 1] + rng.normal(0, 0.05)
    return pl.DataFrame(
        {
            "datetime": ts,
            "AAA": 10 + 0.8 * x + u,
            "BBB": x,
            "CCC": 50 + np.cumsum(rng.normal(0, 0.05, n)),
        },
        schema_overrides={"datetime": pl.Datetime("us", "UTC")},
    )


def daily(prices: pl.DataFrame) -> list[datetime]:
    return period_closes(prices["datetime"].dt.epoch("us").to_numpy(), "daily", MIN)


def window(prices: pl.DataFrame, a: str, b: str, test_ts: datetime, k: int):
    """Independent construction of the test window: bars known at test_ts, both legs valid."""
    w = (
        prices.filter(pl.col("datetime") + MIN <= test_ts)
        .select(a, b)
        .drop_nulls()
        .filter(pl.col(a).is_not_nan() & pl.col(b).is_not_nan())
        .tail(k)
    )
    return w[a].to_numpy(), w[b].to_numpy()


def test_statistics_equal_statsmodels_on_each_window():
    prices = make_prices()
    c = cfg(300, tests=("eg", "johansen"), **NO_FUNNEL)
    out, log = screen_pairs(prices, PAIRS, daily(prices)[2:5], c, CREATED)
    assert out.height == 9 and log.height == 9
    for row in out.iter_rows(named=True):
        _, a, b = next(p for p in PAIRS if p[0] == row["pair_id"])
        y, x = window(prices, a, b, row["test_ts"], 300)
        assert len(y) == 300
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = coint(y, x)
        jo = coint_johansen(np.column_stack([y, x]), 0, 1)
        assert row["adf_statistic"] == pytest.approx(ref[0], rel=1e-8)
        assert row["adf_pvalue"] == pytest.approx(ref[1], rel=1e-8, abs=1e-14)
        assert row["johansen_trace"] == pytest.approx(jo.lr1[0], rel=1e-8)
        vec = json.loads(row["cointegrating_vector"])
        beta = np.polyfit(x, y, 1)[0]
        assert vec[0] == 1.0 and vec[1] == pytest.approx(-beta, rel=1e-8)
        # intersection-union: both tests must reject
        assert row["is_cointegrated"] == (
            row["adf_pvalue"] < 0.05 and row["johansen_pvalue"] < 0.05
        )
        assert row["created_at"] == CREATED
    assert out.filter(pl.col("pair_id") == "AAA_BBB")["is_cointegrated"].all()
    lg = log.join(out, on=["pair_id", "test_ts"])
    assert lg.select(
        (pl.col("pvalue") == pl.max_horizontal("adf_pvalue", "johansen_pvalue")).all()
    ).item()
    assert (lg["statistic"] == lg["adf_statistic"]).all()
    assert (lg["method"] == "eg+johansen").all()


def test_information_time_boundary():
    """The bar opened at T - 1 min is known at T and used; the bar opened at T is not."""
    prices = make_prices(n_days=3)
    t_test = datetime(2024, 1, 30, 15, 0, tzinfo=UTC)
    c = cfg(100)
    base, _ = screen_pairs(prices, PAIRS[:1], [t_test], c, CREATED)
    bump = pl.col("AAA") * pl.when(pl.col("datetime") == t_test).then(1.5).otherwise(1.0)
    same, _ = screen_pairs(prices.with_columns(bump), PAIRS[:1], [t_test], c, CREATED)
    assert same.equals(base)
    edge = t_test - MIN
    bump = pl.col("AAA") * pl.when(pl.col("datetime") == edge).then(1.5).otherwise(1.0)
    moved, _ = screen_pairs(prices.with_columns(bump), PAIRS[:1], [t_test], c, CREATED)
    assert moved["adf_statistic"][0] != base["adf_statistic"][0]


@pytest.mark.parametrize("cut", [2, 5, 8])
def test_no_look_ahead_perturbing_the_future(cut):
    """Perturb every bar known after t (datetime + 1 min > t), t a session end (so a test sits
    exactly at t): all results with test_ts <= t, funnel included (cross-sectional correction,
    matching, hysteresis), are bit-identical."""
    prices = make_prices(n_days=10)
    sched = daily(prices)
    t_cut = sched[cut]
    rng = np.random.default_rng(1)
    noise = pl.Series(rng.uniform(0.5, 1.5, prices.height))
    later = pl.col("datetime") + MIN > t_cut
    perturbed = prices.with_columns(
        pl.when(later).then(pl.col(c) * noise).otherwise(pl.col(c)).alias(c)
        for c in ("AAA", "BBB", "CCC")
    )
    c = cfg(200, tests=("eg", "johansen"), selection__persistence__enter_after=2)
    a, la = screen_pairs(prices, PAIRS, sched, c, CREATED)
    b, lb = screen_pairs(perturbed, PAIRS, sched, c, CREATED)
    past_a = a.filter(pl.col("test_ts") <= t_cut)
    assert past_a.height == 3 * (cut + 1)
    assert past_a["test_ts"].max() == t_cut
    assert past_a.equals(b.filter(pl.col("test_ts") <= t_cut))
    assert la.filter(pl.col("test_ts") <= t_cut).equals(lb.filter(pl.col("test_ts") <= t_cut))
    assert not a.equals(b)  # and the future did change


def test_schedules_are_session_ends():
    prices = make_prices(n_days=12, bars_per_day=10)  # 2024-01-29 (Mon) .. 2024-02-13
    times = prices["datetime"].dt.epoch("us").to_numpy()
    d = period_closes(times, "daily", MIN)
    assert len(d) == 12
    assert d[0] == datetime(2024, 1, 29, 14, 40, tzinfo=UTC)  # last bar 14:39 closes 14:40
    assert period_closes(times, "weekly", MIN) == [
        datetime(2024, 2, 2, 14, 40, tzinfo=UTC),
        datetime(2024, 2, 9, 14, 40, tzinfo=UTC),
        datetime(2024, 2, 13, 14, 40, tzinfo=UTC),
    ]
    assert period_closes(times, "monthly", MIN) == [
        datetime(2024, 1, 31, 14, 40, tzinfo=UTC),
        datetime(2024, 2, 13, 14, 40, tzinfo=UTC),
    ]
    with pytest.raises(ValueError, match="hourly"):
        period_closes(times, "hourly", MIN)


def test_long_format_outliers_and_gaps_match_cleaned_wide():
    prices = make_prices(n_days=3)
    long = prices.unpivot(
        index="datetime", variable_name="symbol", value_name="close"
    ).with_columns(outlier_flag=pl.lit(0))
    rng = np.random.default_rng(4)
    bad = rng.choice(long.height, 40, replace=False)
    flag = np.zeros(long.height, dtype=np.int64)
    flag[bad] = 1
    long = long.with_columns(
        outlier_flag=pl.Series(flag),
        close=pl.when(pl.Series(flag) == 1).then(pl.col("close") * 50).otherwise(pl.col("close")),
    )
    wide_clean = (
        long.with_columns(
            close=pl.when(pl.col("outlier_flag") == 1).then(None).otherwise(pl.col("close"))
        )
        .pivot(on="symbol", index="datetime", values="close")
        .sort("datetime")
    )
    t = [datetime(2024, 1, 31, 16, 0, tzinfo=UTC)]
    c = cfg(150)
    a, _ = screen_pairs(long.sample(fraction=1.0, shuffle=True, seed=1), PAIRS, t, c, CREATED)
    b, _ = screen_pairs(wide_clean, PAIRS, t, c, CREATED)
    assert a.equals(b)
    y, x = window(wide_clean, "AAA", "CCC", t[0], 150)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert a.filter(pl.col("pair_id") == "AAA_CCC")["adf_statistic"][0] == pytest.approx(
            coint(y, x)[0], rel=1e-8
        )


def test_too_few_observations_recorded_not_cointegrated(caplog):
    prices = make_prices(n_days=2)
    early = [datetime(2024, 1, 29, 15, 0, tzinfo=UTC)]  # only 30 bars known
    with caplog.at_level(logging.DEBUG, logger="statarb.alpha.screening"):
        out, log = screen_pairs(prices, PAIRS, early, cfg(100), CREATED)
    assert out.height == 3
    assert out["is_cointegrated"].to_list() == [False] * 3
    assert out["adf_statistic"].null_count() == 3
    assert log["reason"].to_list() == ["short_window: 30 usable rows < 100"] * 3
    assert "short_window: 30 usable rows < 100" in caplog.text  # per pair, at DEBUG
    summary = [r for r in caplog.records if r.levelno == logging.INFO]
    assert (
        len(summary) == 1 and "3 pair-tests without a result (short_window)" in summary[0].message
    )
    ok, _ = screen_pairs(prices, PAIRS, early, cfg(100, min_obs=30), CREATED)
    assert ok["adf_statistic"].null_count() == 0


def test_bad_arguments():
    prices = make_prices(n_days=1)
    with pytest.raises(ConfigError, match="unknown test"):
        cfg(50, tests=("adf",))
    with pytest.raises(ConfigError, match="min_obs=21 is too small"):
        cfg(50, min_obs=21)
    with pytest.raises(ValueError, match="ZZZ"):
        screen_pairs(prices, [("AAA_ZZZ", "AAA", "ZZZ")], daily(prices), cfg(50), CREATED)


def test_window_rows_equal_naive_selection():
    from statarb.alpha.screening import _window_rows

    rng = np.random.default_rng(8)
    for _ in range(200):
        n = int(rng.integers(1, 400))
        va, vb = rng.random(n) < rng.uniform(0.05, 1), rng.random(n) < rng.uniform(0.05, 1)
        end, k = int(rng.integers(0, n + 1)), int(rng.integers(1, 120))
        naive = np.flatnonzero(va[:end] & vb[:end])[-k:]
        np.testing.assert_array_equal(_window_rows(va, vb, end, k), naive)


def test_window_start_is_the_first_bar_of_each_pairs_window():
    """``window_start`` (what the funnel's leg reservation compares with) equals the open time of
    the first bar of the independently built window, and ``bars_seen`` (the confirmation stage's
    position) the pair's usable bars known at the test, also when a leg has missing bars."""
    from statarb.alpha.screening import funnel_spec, stats_frames

    prices = make_prices()
    rng = np.random.default_rng(5)
    gaps = np.zeros(prices.height, dtype=bool)
    gaps[rng.choice(prices.height, 60, replace=False)] = True
    prices = prices.with_columns(CCC=pl.when(pl.Series(gaps)).then(None).otherwise(pl.col("CCC")))
    sched = daily(prices)
    c = cfg(300)
    got = pl.concat(list(stats_frames(prices, PAIRS, sched, funnel_spec(c), MIN, False)))
    checked = 0
    for r in got.iter_rows(named=True):
        _, a, b = next(p for p in PAIRS if p[0] == r["pair_id"])
        seen = prices.filter(pl.col("datetime") + MIN <= r["test_ts"]).select("datetime", a, b)
        w = seen.drop_nulls().tail(300)
        assert r["window_start"] == (w["datetime"][0] if w.height else None)
        assert r["bars_seen"] == seen.drop_nulls().height and r["n_obs"] == w.height
        checked += w.height > 0 and r["pair_id"] != "AAA_BBB"
    assert checked >= 2 * (len(sched) - 1)  # the gapped pairs, at every test with data
