"""Walk-forward out-of-sample: choice by formation Sharpe, stitching, and no look-ahead."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from statarb.backtest.engine import run_numba
from statarb.backtest.synth import synthetic_inputs
from statarb.reporting.metrics import sharpe_ratio
from statarb.sweep.evaluate import evaluate
from statarb.sweep.grid import SweepPoint, config_for
from statarb.sweep.lookbacks import stacks_from_inputs
from statarb.sweep.params import WalkForwardParams
from statarb.sweep.walk_forward import make_windows, session_starts

from ..backtest._util import config, perturb_after

WF = WalkForwardParams(
    enabled=True, formation_sessions=2, trading_sessions=1, session_tz="America/New_York"
)
POINTS = [
    SweepPoint(e, x, s, h, None, None, c)
    for c in (0.0, 1.0)
    for e, x, s, h in [
        (1.5, 0.0, 3.0, 0),
        (2.0, 0.5, 4.0, 120),
        (2.5, 1.0, 5.0, 60),
        (1.0, 0.2, 3.5, 30),
    ]  # fmt: skip
]


def _inputs(seed: int = 3):
    # one-minute bars round the clock from 2024-01-02 09:30 New York: 7200 bars span 6 dates
    return synthetic_inputs(7200, 2, seed=seed, ou_phi=0.97, missing_frac=0.01, gate_off_frac=0.1)


def test_windows_follow_sessions() -> None:
    inputs = _inputs()
    starts = session_starts(inputs.ts, "America/New_York")
    assert starts[0] == 0 and starts.size == 6
    wins = make_windows(inputs.ts, "America/New_York", 2, 1)
    assert [w.trading[0] for w in wins] == list(starts[2:])
    for i, w in enumerate(wins):
        assert w.formation == (starts[i], starts[i + 2])  # the two sessions before trading
        assert w.trading[1] == (starts[i + 3] if i + 3 < starts.size else inputs.ts.size)


def test_choice_is_the_best_formation_sharpe_from_engine_runs() -> None:
    """Reference: engine run per candidate over the whole history, Sharpe on the formation bars."""
    inputs = _inputs()
    base = config()
    stacks = stacks_from_inputs({(None, None): inputs})
    _, wf = evaluate(POINTS, base, stacks, WF, rank_cost_scale=1.0)
    wins = make_windows(inputs.ts, "America/New_York", 2, 1)
    cand = [i for i, p in enumerate(POINTS) if p.cost_scale == 1.0]
    curves = {i: run_numba(inputs, config_for(base, POINTS[i])).equity for i in cand}
    for row, win in zip(wf.windows, wins, strict=True):
        lo, hi = win.formation
        seg = {i: curves[i][max(lo, 1) - 1 : hi] for i in cand}
        sh = {i: sharpe_ratio(s[1:] / s[:-1] - 1.0, 390 * 252) for i, s in seg.items()}
        best = max((i for i in cand if np.isfinite(sh[i])), key=lambda i: (sh[i], -i))
        assert row["point"] == best
        assert row["in_sample_sharpe"] == pytest.approx(sh[best], rel=1e-12)
        assert POINTS[row["point"]].cost_scale == 1.0  # never picks the frictionless copy


def test_stitched_equity_is_the_engine_on_each_trading_window() -> None:
    inputs = _inputs()
    base = config()
    _, wf = evaluate(POINTS, base, stacks_from_inputs({(None, None): inputs}), WF, 1.0)
    eq = wf.equity
    level = base.capital
    for row in wf.windows:
        part = eq.filter(eq["window"] == row["window"])["equity"].to_numpy()
        win = make_windows(inputs.ts, "America/New_York", 2, 1)[row["window"]]
        sub = copy.copy(inputs)
        s = slice(*win.trading)
        for name in ("open_a", "close_a", "vol_a", "open_b", "close_b", "vol_b", "beta", "z",
                     "spread", "tradable", "ts"):  # fmt: skip
            setattr(sub, name, getattr(inputs, name)[s])
        ref = run_numba(sub, config_for(base, POINTS[row["point"]])).equity
        np.testing.assert_allclose(part, level * ref / base.capital, rtol=1e-15)
        level = part[-1]
    assert wf.report["out_of_sample"]["total_return"] == pytest.approx(
        eq["equity"][-1] / base.capital - 1.0
    )
    assert "in_sample_best" in wf.report


@pytest.mark.parametrize("cut", [3000, 4500, 6100])
def test_no_look_ahead(cut: int) -> None:
    """Perturb every input after bar ``cut``: the OOS equity and the choices up to ``cut`` stay."""
    inputs = _inputs()
    base = config(max_gross_leverage=1.5)
    _, a = evaluate(POINTS, base, stacks_from_inputs({(None, None): inputs}), WF, 1.0)
    changed = perturb_after(inputs, cut, seed=cut)
    _, b = evaluate(POINTS, base, stacks_from_inputs({(None, None): changed}), WF, 1.0)
    ea, eb = a.equity["equity"].to_numpy(), b.equity["equity"].to_numpy()
    first = int(np.searchsorted(inputs.ts, a.equity["ts"].dt.epoch("us").to_numpy()[0]))
    upto = cut - first + 1
    np.testing.assert_array_equal(ea[:upto], eb[:upto])
    wins = make_windows(inputs.ts, "America/New_York", 2, 1)
    for ra, rb, w in zip(a.windows, b.windows, wins, strict=True):
        if w.trading[0] <= cut:  # chosen at the end of a formation window ending before cut
            assert ra["point"] == rb["point"]
    assert not np.array_equal(ea, eb)  # the perturbation reached the output (not vacuous)
