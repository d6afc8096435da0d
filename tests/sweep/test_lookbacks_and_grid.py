"""Lookback stacks (spreads once per distinct lookback, equal to the alpha pipeline's) and the
strict sweep configuration."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from statarb.alpha.config import AlphaConfig
from statarb.alpha.series_chunk import series_chunk
from statarb.backtest.config import BacktestConfig
from statarb.backtest.synth import inputs_to_frames, synthetic_inputs
from statarb.config.registry import validate_parameters
from statarb.config.strict import ConfigError
from statarb.pipelines.alpha.nodes import build_alpha_schedule, build_price_panel
from statarb.sweep import lookbacks
from statarb.sweep.grid import SweepPoint, config_for, expand, scale_costs
from statarb.sweep.params import GridParams, SweepParams
from tests.config_helpers import base_params


@pytest.fixture(scope="module")
def market():
    inp = synthetic_inputs(2400, 2, seed=5, ou_phi=0.97)
    bars, _ = inputs_to_frames(inp)
    universe = pl.DataFrame(
        {"pair_id": inp.pair_ids, "symbol_a": inp.symbols_a, "symbol_b": inp.symbols_b}
    )
    alpha_params = base_params("alpha")
    alpha = AlphaConfig.from_params(alpha_params, "alpha")
    panel = build_price_panel(bars.lazy(), universe)
    schedule = build_alpha_schedule(panel, alpha_params)["test_ts"]
    pairs = list(universe.iter_rows())
    syms = sorted({s for _, a, b in pairs for s in (a, b)})
    cols = panel.select(pl.col(s).cast(pl.Float64).fill_null(np.nan) for s in syms).to_numpy()
    idx = [(p, syms.index(a), syms.index(b)) for p, a, b in pairs]
    # what the alpha pipeline stores (its own chunk function, window-by-window Kalman)
    stored, _, ou, _ = series_chunk(cols, panel["datetime"], idx, schedule, alpha, None, None)
    coint = pl.DataFrame(
        {"pair_id": inp.pair_ids, "test_ts": [inp.timestamps()[0]] * 2, "is_cointegrated": True}
    )
    return bars, stored, ou, coint, pairs, alpha, (panel, schedule)


def _base() -> BacktestConfig:
    return BacktestConfig.from_params(base_params("backtest") | {"costs_path": None})


def test_recomputed_spreads_equal_the_alpha_pipeline(market) -> None:
    bars, stored, ou, coint, pairs, alpha, panel = market
    pts = [SweepPoint(2.0, 0.5, 4.0, 0, None, None, 1.0)]
    args = (_base(), alpha, bars.lazy(), stored.lazy(), ou, coint, pairs, lambda: panel)
    a = lookbacks.build_stacks(pts, *args)
    b = lookbacks.build_stacks(pts, *args, force_recompute=True)
    for name in ("beta", "z", "spread", "tradable", "close_a", "vol_b"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert np.isfinite(a.z).mean() > 0.9


def test_one_layer_per_distinct_lookback(market, monkeypatch) -> None:
    bars, stored, ou, coint, pairs, alpha, panel = market
    calls = []
    real = lookbacks.recompute
    monkeypatch.setattr(lookbacks, "recompute", lambda *a, **k: calls.append(a) or real(*a, **k))
    pts = [
        SweepPoint(e, 0.5, 4.0, h, d, None, c)
        for d in (None, 1e-9, 1e-7) for e in (1.5, 2.0) for h in (0, 60) for c in (0.0, 1.0)
    ]  # fmt: skip
    s = lookbacks.build_stacks(
        pts, _base(), alpha, bars.lazy(), stored.lazy(), ou, coint, pairs, lambda: panel
    )
    assert len(calls) == 2  # the configured delta reads the stored spreads
    assert s.z.shape[0] == s.beta.shape[0] == 3
    assert {s.layers(p, "kalman_z") for p in pts} == {(0, 0), (1, 1), (2, 2)}
    assert not np.array_equal(s.z[0], s.z[1], equal_nan=True)  # delta changes the z-score


def test_ou_window_with_kalman_z_is_refused(market) -> None:
    bars, stored, ou, coint, pairs, alpha, panel = market
    pts = [SweepPoint(2.0, 0.5, 4.0, 0, None, 1000, 1.0)]
    with pytest.raises(ValueError, match="ou_window_bars: the OU window only matters"):
        lookbacks.build_stacks(
            pts, _base(), alpha, bars.lazy(), stored.lazy(), ou, coint, pairs, lambda: panel
        )


def test_grid_expansion_drops_invalid_and_scales_costs() -> None:
    g = GridParams(
        entry_z=[1.0, 2.0], exit_z=[0.5, 1.5], stop_z=[1.8, 3.0], max_holding_bars=[0],
        kalman_delta=[None], ou_window_bars=[None], cost_scale=[0.0, 2.0],
    )  # fmt: skip
    pts = expand(g)
    assert all(p.exit_z < p.entry_z < p.stop_z for p in pts)
    # (1.0: exit 0.5 with stop 1.8 or 3.0), (2.0: exit 0.5 or 1.5 with stop 3.0) -> 4 x 2 scales
    assert len(pts) == 8
    base = _base()
    c = scale_costs(base.costs, 2.0)
    assert c.per_share == 2 * base.costs.per_share and c.fixed_bps == 2 * base.costs.fixed_bps
    assert c.max_participation == base.costs.max_participation  # a cap, not a cost
    cfg = config_for(base, pts[0])
    assert (cfg.entry_z, cfg.capital) == (pts[0].entry_z, base.capital)


def test_sweep_section_is_strict() -> None:
    ok = base_params("sweep")
    SweepParams.from_params(ok, "sweep")
    bad = ok | {"top_kk": 3}
    with pytest.raises(
        ConfigError, match=r"sweep.top_kk: unknown key \(did you mean 'sweep.top_k'"
    ):
        validate_parameters({"sweep": bad})
    with pytest.raises(ConfigError, match="rank_cost_scale 3.0 is not in grid.cost_scale"):
        SweepParams.from_params(ok | {"rank_cost_scale": 3.0}, "sweep")
    grid = ok["grid"] | {"entry_z": [2.0, 2.0]}
    with pytest.raises(ConfigError, match="grid.entry_z lists a value twice"):
        SweepParams.from_params(ok | {"grid": grid}, "sweep")


def test_default_grid_has_at_least_100_configurations() -> None:
    sp = SweepParams.from_params(base_params("sweep"), "sweep")
    assert len(expand(sp.grid)) >= 100


def test_ou_bands_sweep_equals_engine_runs(market) -> None:
    """signal_source ou_bands: the score depends on entry/exit, one z layer per (lookback, entry,
    exit); every configuration's equity == the engine on prepare_inputs of its own config."""
    from dataclasses import replace

    from statarb.backtest.engine import run_numba
    from statarb.backtest.inputs import prepare_inputs
    from statarb.sweep.runner import sweep_equity

    bars, stored, ou, coint, pairs, alpha, panel = market
    base = replace(_base(), signal_source="ou_bands", max_gross_leverage=0.0)
    pts = [
        SweepPoint(e, x, 4.0, 0, None, w, 1.0)
        for w in (None, 1000) for e in (1.5, 2.0) for x in (0.0, 0.5)
    ]  # fmt: skip
    s = lookbacks.build_stacks(
        pts, base, alpha, bars.lazy(), stored.lazy(), ou, coint, pairs, lambda: panel
    )
    assert s.beta.shape[0] == 2 and s.z.shape[0] == 8  # 2 lookbacks x 4 (entry, exit)
    eq, _ = sweep_equity(pts, base, s)
    ids = [p for p, _, _ in pairs]
    checked = 0
    for j, p in enumerate(pts):
        if p.ou_window_bars is not None:
            continue
        cfg = config_for(base, p)
        inp = prepare_inputs(bars.lazy(), stored.lazy(), coint, ids, cfg, ou)
        raw = run_numba(inp, cfg)
        np.testing.assert_array_equal(eq[:, j], raw.equity, err_msg=str(p))
        checked += len(raw.fill_t) > 0
    assert checked >= 2  # some configurations trade
    a, b = s.layers(pts[0], "ou_bands"), s.layers(pts[4], "ou_bands")
    assert a[0] != b[0] and not np.array_equal(s.z[a[1]], s.z[b[1]], equal_nan=True)
