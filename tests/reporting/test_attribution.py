"""PCA / market attribution against statsmodels PCA, numpy lstsq and empyrical alpha_beta."""

from __future__ import annotations

from datetime import timedelta

import empyrical as ep
import numpy as np
import polars as pl
import pytest
from statsmodels.multivariate.pca import PCA

from statarb.reporting import attribution as at
from statarb.reporting import metrics as m


def test_principal_components_match_statsmodels():
    rng = np.random.default_rng(1)
    f = rng.normal(size=(500, 1))
    x = f @ np.array([[1.0, 0.8, 1.2, 0.5]]) + 0.3 * rng.normal(size=(500, 4))
    load, evr = at.principal_components(x, 2)
    ref = PCA(x, ncomp=4, standardize=False, demean=True, normalize=False, method="eig")
    for k in range(2):
        v = np.asarray(ref.eigenvecs)[:, k]
        assert abs(np.dot(v, load[:, k])) == pytest.approx(1.0, abs=1e-8)
    ev = np.asarray(ref.eigenvals)
    assert evr[0] == pytest.approx(ev[0] / ev.sum(), rel=1e-8)
    assert load[:, 0].sum() > 0


def test_ols_matches_lstsq_and_empyrical():
    rng = np.random.default_rng(2)
    f = rng.normal(0, 1e-3, 400)
    y = 2e-5 + 0.4 * f + rng.normal(0, 2e-4, 400)
    a, b, r2 = at.ols_alpha_beta(y, f)
    coef, *_ = np.linalg.lstsq(np.column_stack([np.ones(400), f]), y, rcond=None)
    assert a == pytest.approx(coef[0], rel=1e-9)
    assert b[0] == pytest.approx(coef[1], rel=1e-9)
    ea, eb = ep.alpha_beta(y, f, annualization=98280)
    assert b[0] == pytest.approx(eb, rel=1e-9)
    assert at.annualise_alpha(a, 98280) == pytest.approx(ea, rel=1e-7)


def test_attribute_recovers_market_beta(synthetic_run):
    eq = synthetic_run["equity"]
    closes = at.universe_closes_on_grid(
        synthetic_run["bars_adjusted"], eq["ts"], timedelta(minutes=1)
    )
    # sampling on the bar-open grid returns exactly the bar closes
    assert closes.height == eq.height
    ref = synthetic_run["bars_adjusted"].filter(pl.col("symbol") == "CCC")["close"].to_numpy()
    np.testing.assert_allclose(closes["CCC"].to_numpy(), ref)
    rets = m.equity_returns(eq)
    out = at.attribute(rets, closes, 98280)
    # hand-built reference: EW market of the same bar returns, statsmodels-free lstsq
    r = closes.select(["AAA", "BBB", "CCC", "DDD"]).to_numpy()
    r = r[1:] / r[:-1] - 1
    mk = r.mean(axis=1)
    coef, *_ = np.linalg.lstsq(
        np.column_stack([np.ones(len(mk)), mk]), rets["ret"].to_numpy(), rcond=None
    )
    assert out["beta"] == pytest.approx(coef[1], rel=1e-9)
    assert out["market"]["alpha_annual"] == pytest.approx((1 + coef[0]) ** 98280 - 1, rel=1e-6)
    # true exposure is 0.3 to a market that moves each stock by 0.8 -> beta near 0.375
    assert 0.25 < out["beta"] < 0.5
    assert out["pca"]["explained_variance_ratio"][0] > 0.5
    assert np.isfinite(out["alpha"])


def test_outliers_and_information_time(synthetic_run):
    bars = synthetic_run["bars_adjusted"]
    eq = synthetic_run["equity"]
    t5 = eq["ts"][5]
    flagged = bars.with_columns(
        outlier_flag=pl.when((pl.col("symbol") == "AAA") & (pl.col("datetime") == t5))
        .then(1)
        .otherwise(pl.col("outlier_flag"))
        .cast(pl.Int8)
    )
    c = at.universe_closes_on_grid(flagged, eq["ts"], timedelta(minutes=1))
    aaa = bars.filter(pl.col("symbol") == "AAA")["close"]
    assert c["AAA"][5] == aaa[4]  # the outlier bar is skipped, previous close carried
    # grid stamped at information time: bar t is known only at t + 1 min
    c2 = at.universe_closes_on_grid(bars, eq["ts"], timedelta(minutes=1), grid_is_bar_open=False)
    assert c2["AAA"][0] is None
    assert c2["AAA"][6] == aaa[5]


T_OPEN = pl.datetime(2024, 3, 4, 14, 30, time_zone="UTC")


def ragged_bars(seed: int, minutes: int, counts: tuple[tuple[str, int], ...]) -> pl.DataFrame:
    """``counts`` bars per symbol at random distinct minutes of ``minutes`` after the open."""
    rng = np.random.default_rng(seed)
    return pl.concat(
        pl.DataFrame(
            {
                "symbol": s,
                "minute": np.sort(rng.choice(minutes, n, replace=False)),
                "close": rng.normal(100, 1, n),
            }
        )  # fmt: skip
        for s, n in counts
    ).select("symbol", (T_OPEN + pl.duration(minutes="minute")).alias("datetime"), "close")


def test_closes_on_grid_equal_a_per_symbol_asof_reference():
    """The one-pivot sampling equals a per-symbol as-of join on ragged, gappy bars."""
    t0 = T_OPEN
    bars = ragged_bars(3, 400, (("AAA", 300), ("BBB", 40), ("CCC", 1)))
    grid = pl.select(pl.datetime_range(t0, t0 + pl.duration(minutes=420), "7m")).to_series()
    got = at.universe_closes_on_grid(bars, grid, timedelta(minutes=1), grid_is_bar_open=False)
    for s in ("AAA", "BBB", "CCC"):
        b = bars.filter(pl.col("symbol") == s).select(
            known=pl.col("datetime") + timedelta(minutes=1), ref=pl.col("close")
        )
        want = pl.DataFrame({"ts": grid}).join_asof(b, left_on="ts", right_on="known")
        assert got[s].equals(want["ref"], check_names=False), s


def test_sampling_by_chunks_of_symbols_equals_one_chunk():
    """Reading the universe a few symbols at a time gives the same sampled frame."""
    t0 = T_OPEN
    bars = ragged_bars(5, 300, (("EEE", 200), ("AAA", 250), ("DDD", 20), ("BBB", 5), ("CCC", 120)))
    grid = pl.select(pl.datetime_range(t0, t0 + pl.duration(minutes=320), "3m")).to_series()
    whole = at.universe_closes_on_grid(bars, grid, timedelta(minutes=1), symbols_per_chunk=100)
    assert whole.columns == ["ts", "AAA", "BBB", "CCC", "DDD", "EEE"]
    for k in (1, 2, 3):
        assert at.universe_closes_on_grid(bars.lazy(), grid, timedelta(minutes=1),
                                          symbols_per_chunk=k).equals(whole), k  # fmt: skip
