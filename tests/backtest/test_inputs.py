"""Alignment of bars/spreads/gating into arrays, the as-of rules and the OU band score."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from statarb.backtest.config import BacktestConfig
from statarb.backtest.engine import run_numba, run_reference
from statarb.backtest.inputs import BacktestInputError, ou_band_score, prepare_inputs
from statarb.backtest.synth import inputs_to_frames, synthetic_inputs

from ._util import config


@pytest.fixture(scope="module")
def synth():
    inp = synthetic_inputs(300, 2, seed=1, missing_frac=0.05)
    bars, spreads = inputs_to_frames(inp)
    return inp, bars, spreads


def _coint(pairs, ts, flags):
    return pl.DataFrame(
        {"pair_id": pairs, "test_ts": ts, "is_cointegrated": flags},
        schema_overrides={"test_ts": pl.Datetime("us", "UTC")},
    )


def test_round_trip_through_frames(synth) -> None:
    inp, bars, spreads = synth
    t0 = inp.timestamps()[0]
    coint = _coint(inp.pair_ids, [t0, t0], [True, True])
    got = prepare_inputs(bars.lazy(), spreads.lazy(), coint, inp.pair_ids, BacktestConfig())
    np.testing.assert_array_equal(got.ts, inp.ts)
    for name in ("open_a", "close_a", "vol_a", "open_b", "close_b", "vol_b", "beta", "z"):
        a, b = getattr(got, name), getattr(inp, name)
        both = np.isfinite(a) & np.isfinite(b)
        np.testing.assert_array_equal(a[both], b[both], err_msg=name)
    # a bar is missing in the output exactly when it was missing in the source
    np.testing.assert_array_equal(np.isnan(got.close_a), np.isnan(inp.close_a))
    # test at t0 is known from bar t0 - 1min on; so every bar is tradable
    assert got.tradable.all()


def test_gating_uses_tests_stamped_up_to_bar_close(synth) -> None:
    inp, bars, spreads = synth
    ts = inp.timestamps()
    pid = inp.pair_ids[0]
    # cointegrated from test at ts[100]; rejected by the test at ts[200]
    coint = _coint([pid, pid], [ts[100], ts[200]], [True, False])
    got = prepare_inputs(bars, spreads, coint, [pid], BacktestConfig())
    trad = got.tradable[:, 0]
    # bar t (open time) is decided at t + 1min: test_ts = ts[100] is usable from bar 99 on
    assert not trad[:99].any()
    assert trad[99:199].all()
    assert not trad[199:].any()


def test_outlier_bars_are_treated_as_missing(synth) -> None:
    inp, bars, spreads = synth
    t0 = inp.timestamps()[0]
    sym = inp.symbols_a[0]
    target = inp.timestamps()[50]
    flagged = bars.with_columns(
        pl.when((pl.col("symbol") == sym) & (pl.col("datetime") == target))
        .then(1)
        .otherwise(pl.col("outlier_flag"))
        .cast(pl.Int8)
        .alias("outlier_flag")
    )
    got = prepare_inputs(
        flagged,
        spreads,
        _coint([inp.pair_ids[0]], [t0], [True]),
        [inp.pair_ids[0]],
        BacktestConfig(),
    )
    assert np.isnan(got.open_a[50, 0]) and np.isnan(got.close_a[50, 0])


def test_bad_pairs_and_missing_columns_are_named(synth) -> None:
    inp, bars, spreads = synth
    coint = _coint([inp.pair_ids[0]], [inp.timestamps()[0]], [True])
    with pytest.raises(
        BacktestInputError, match="'B_A' is not a pair id of the form A_B with A < B"
    ):
        prepare_inputs(bars, spreads, coint, ["B_A"], BacktestConfig())
    with pytest.raises(BacktestInputError, match=r"spread_series: missing columns \['z_score'\]"):
        prepare_inputs(bars, spreads.drop("z_score"), coint, inp.pair_ids[:1], BacktestConfig())


def test_ou_band_score_matches_band_crossings() -> None:
    """Reference: the band rules of statarb.alpha.bands (entry outside, exit inside the bands)."""
    rng = np.random.default_rng(0)
    mu, sig_eq, k_entry, k_exit, entry_z, exit_z, stop_z = 0.3, 0.8, 2.0, 0.25, 2.0, 0.5, 4.0
    upper, lower, exit_lvl = mu + k_entry * sig_eq, mu - k_entry * sig_eq, mu + k_exit * sig_eq
    s = rng.normal(mu, 3 * sig_eq, 5000)
    df = pl.DataFrame({"s": s})
    score = (
        df.select(
            ou_band_score(
                pl.col("s"), pl.lit(upper), pl.lit(lower), pl.lit(exit_lvl), entry_z, exit_z
            )
        )
        .to_series()
        .to_numpy()
    )
    np.testing.assert_array_equal(score > entry_z, s > upper)
    np.testing.assert_array_equal(score < -entry_z, s < lower)
    np.testing.assert_array_equal(score <= exit_z, s <= exit_lvl)  # short exits
    np.testing.assert_array_equal(score >= -exit_z, s >= 2 * mu - exit_lvl)  # long exits
    stop_dist = k_exit + (stop_z - exit_z) / (entry_z - exit_z) * (k_entry - k_exit)
    np.testing.assert_array_equal(np.abs(score) > stop_z, np.abs(s - mu) > stop_dist * sig_eq)
    assert np.all(np.diff(score[np.argsort(s)]) >= 0)  # monotone in the spread


def test_ou_bands_source_as_of_window_end(synth) -> None:
    inp, bars, spreads = synth
    ts = inp.timestamps()
    pid = inp.pair_ids[0]
    ou = pl.DataFrame(
        {
            "pair_id": [pid, pid],
            "window_end": [ts[10], ts[150]],
            "entry_upper": [1.0, 2.0],
            "entry_lower": [-1.0, -2.0],
            "exit_threshold": [0.0, 0.0],
        }
    )
    cfg = BacktestConfig(signal_source="ou_bands", entry_z=2.0, exit_z=0.5, stop_z=4.0)
    got = prepare_inputs(bars, spreads, _coint([pid], [ts[0]], [True]), [pid], cfg, ou_params=ou)
    s = inp.spread[:, 0]
    assert np.isnan(got.z[:9, 0]).all()  # no band known yet
    # exit level = mid band (k_exit = 0): score = sign(s) * (exit_z + (entry_z - exit_z) |s| / h)
    expect = lambda x, h: np.sign(x) * (0.5 + 1.5 * np.abs(x) / h)  # noqa: E731
    np.testing.assert_allclose(got.z[9:149, 0], expect(s[9:149], 1.0))  # first band, bar 9 on
    np.testing.assert_allclose(got.z[149:, 0], expect(s[149:], 2.0))  # window_end ts[150]
    assert timedelta(minutes=cfg.bar_interval_minutes) == ts[150] - ts[149]


def test_realistic_pair_from_frames_reference_equals_numba() -> None:
    inp = synthetic_inputs(4000, 2, seed=21, ou_phi=0.99, missing_frac=0.01, volume_mean=5_000)
    bars, spreads = inputs_to_frames(inp)
    ts = inp.timestamps()
    coint = _coint(
        inp.pair_ids * 3,
        [ts[0], ts[0], ts[1500], ts[1500], ts[3000], ts[3000]],
        [True, True, False, True, True, True],
    )
    cfg = config()
    got = prepare_inputs(bars, spreads, coint, inp.pair_ids, cfg)
    a, b = run_reference(got, cfg), run_numba(got, cfg)
    assert len(a.sig_t) >= 10 and set(a.sig_reason.tolist()) >= {1, 2}
    gated = (a.sig_pair == 0) & (a.sig_t >= 1499) & (a.sig_t < 2999)
    assert not (gated & (a.sig_dir != 0)).any()  # no entry while the pair is not cointegrated
    for k, v in a.arrays().items():
        np.testing.assert_array_equal(v, b.arrays()[k], err_msg=k)


def test_no_tradable_pair_names_the_log_and_the_delay() -> None:
    """A run whose funnel selected nothing stops with where to look and what to change."""
    from statarb.pipelines.backtest.nodes import select_pairs

    universe = pl.DataFrame({"pair_id": ["AAA_BBB", "CCC_DDD"]})
    coint = pl.DataFrame({"pair_id": ["AAA_BBB", "CCC_DDD"], "is_cointegrated": [False, False]})
    spreads = pl.DataFrame({"pair_id": ["AAA_BBB"]})
    with pytest.raises(BacktestInputError, match="no tradable pair") as err:
        select_pairs("all", universe, coint, spreads)
    assert "selection_log.reason" in str(err.value)
    assert "alpha.selection.confirmation.max_shared: null" in str(err.value)
    ok = coint.with_columns(is_cointegrated=pl.col("pair_id") == "AAA_BBB")
    assert select_pairs("all", universe, ok, spreads) == ["AAA_BBB"]
