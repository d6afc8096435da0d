"""Degenerate inputs never pass: constant and near-constant legs, perfectly collinear legs, windows
too short for the tests, singular Johansen systems -> no statistic, a reason, never
``is_cointegrated``; the other pairs of the same screening are unaffected. Kalman inputs with an
invalid Q, R or P fail with an error naming the parameter."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest

from statarb.alpha.coint_tests.eg import EGParams, EngleGrangerTest
from statarb.alpha.coint_tests.johansen import JohansenParams, JohansenTraceTest
from statarb.alpha.screening import screen_pairs
from statarb.alpha.spreads import kalman_settings
from statarb.config.strict import ConfigError
from tests.alpha.test_screening import NO_FUNNEL, cfg, daily, make_prices
from tests.config_helpers import alpha_config

CREATED = datetime(2030, 1, 1, tzinfo=UTC)


def degenerate_prices() -> pl.DataFrame:
    p = make_prices(n_days=4)
    n = p.height
    rng = np.random.default_rng(5)
    return p.with_columns(
        ACON=pl.lit(42.0),  # constant leg
        NEAR=100.0 + pl.Series(rng.normal(0, 1e-12, n)),  # float-noise moves only
        COLL=2.0 * pl.col("BBB") + 3.0,  # BBB times 2 plus 3: perfectly collinear with BBB
    )


PAIRS = [
    ("AAA_BBB", "AAA", "BBB"),  # the real pair
    ("AAA_ACON", "AAA", "ACON"),  # constant regressor
    ("ACON_CCC", "ACON", "CCC"),  # constant dependent leg (statsmodels: -inf, p = 0)
    ("AAA_NEAR", "AAA", "NEAR"),
    ("BBB_COLL", "BBB", "COLL"),
]


@pytest.mark.parametrize("tests", [("eg",), ("johansen",), ("eg", "johansen")])
def test_degenerate_pairs_get_a_reason_and_never_pass(tests, caplog):
    prices = degenerate_prices()
    c = cfg(300, tests=tests, **NO_FUNNEL)
    with caplog.at_level("DEBUG", logger="statarb.alpha.screening"):
        out, log = screen_pairs(prices, PAIRS, daily(prices)[2:4], c, CREATED)
    reasons = {r["pair_id"]: r["reason"] for r in log.iter_rows(named=True)}
    assert reasons["AAA_ACON"].startswith("constant_leg: leg B")
    assert reasons["ACON_CCC"].startswith("constant_leg: leg A")
    assert reasons["AAA_NEAR"].startswith("near_constant_leg: leg B")
    expected = "collinear_legs" if tests[0] == "eg" else "singular_system"
    assert reasons["BBB_COLL"].startswith(expected)
    bad = out.filter(pl.col("pair_id") != "AAA_BBB")
    assert not bad["is_cointegrated"].any()
    for col in ("adf_statistic", "adf_pvalue", "johansen_trace", "johansen_pvalue"):
        assert bad[col].null_count() == bad.height, col
    assert log.filter(pl.col("pair_id") != "AAA_BBB")["pvalue"].null_count() == bad.height
    good = out.filter(pl.col("pair_id") == "AAA_BBB")
    assert good["is_cointegrated"].all()  # the rest of the screening went on
    assert "constant_leg" in caplog.text  # logged per pair


def test_engle_granger_adapter_rejects_collinear_unlike_statsmodels():
    """statsmodels' coint returns -inf and p = 0 for collinear legs; the screening test does not."""
    rng = np.random.default_rng(2)
    x = 50 + np.cumsum(rng.normal(size=(400, 3)), axis=0)
    y = x.copy()
    y[:, 0] = 3.0 * x[:, 0] - 1.0  # collinear
    y[:, 1] = x[:, 1] + rng.normal(0, 0.5, 400)  # cointegrated
    y[:, 2] = 50 + np.cumsum(rng.normal(size=400))  # independent random walks
    res = EngleGrangerTest(EGParams(maxlag=None, autolag="aic", trend="c")).run(y.T, x.T)
    assert res.reason[0] == "collinear_legs" and np.isnan(res.pvalue[0])
    assert res.reason[1] is None and res.pvalue[1] < 0.01
    assert res.valid.tolist() == [False, True, True]


def test_johansen_adapter_refuses_unit_eigenvalue_in_tiny_sample():
    """8 random-walk rows: the largest eigenvalue is exactly 1 and coint_johansen reports a trace of
    ~224 with p ~ 1e-49; the screening test gives no result instead."""
    rng = np.random.default_rng(0)
    d = np.cumsum(rng.normal(size=(8, 2)), 0)
    t = JohansenTraceTest(JohansenParams(det_order=0, k_ar_diff=1))
    assert t.min_obs() == 8
    res = t.run(d[:, :1].T, d[:, 1:].T)
    assert res.reason[0].startswith("singular_system") and np.isnan(res.statistic[0])


def test_window_too_short_for_the_lag_order_is_refused_at_start_up():
    with pytest.raises(ConfigError, match="too small for the tests"):
        cfg(50, min_obs=21, tests=("eg",))
    with pytest.raises(ConfigError, match="maxlag"):
        alpha_config(screening__params={"eg": {"maxlag": -1, "autolag": "aic", "trend": "c"}})


def _kalman(**over):
    return alpha_config(**{"kalman__" + k: v for k, v in over.items()}).kalman


@pytest.mark.parametrize(
    ("over", "match"),
    [
        ({"measurement_noise": 0.0}, "kalman.measurement_noise"),
        ({"measurement_noise": -1.0}, "kalman.measurement_noise"),
        ({"process_noise": -1e-6}, "kalman.process_noise"),
        ({"delta": 1.0}, "kalman.delta"),
    ],
)
def test_invalid_kalman_noise_is_refused_naming_the_parameter(over, match):
    with pytest.raises(ConfigError, match=match):
        _kalman(**over)


def test_non_psd_initial_covariance_names_the_parameter():
    k = alpha_config(
        kalman__initial_state={"beta": 1.0, "alpha": 0.0, "P": [[1.0, 2.0], [2.0, 1.0]]}
    ).kalman
    with pytest.raises(ValueError, match="alpha.kalman.initial_state.P"):
        kalman_settings(k, 100.0, "AAA_BBB")
    zero_price = alpha_config().kalman
    with pytest.raises(ValueError, match="alpha.kalman.measurement_noise"):
        kalman_settings(zero_price, 0.0, "AAA_BBB")  # r_frac * 0 = 0
