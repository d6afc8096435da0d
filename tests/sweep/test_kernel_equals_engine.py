"""The one-pass sweep kernel gives, per configuration, exactly one engine run's equity and metrics.

Reference: the backtest engine's readable loop (``engine="reference"``) and its numba fast path,
run once per configuration; metrics from :func:`statarb.reporting.metrics.return_metrics` on the
engine's equity frame. Equality is exact (``==``), not approximate, including with the portfolio
gross-exposure cap binding (it couples the pairs of a configuration; the kernel keeps per
configuration state, so nothing is simplified).
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest

from statarb.backtest.engine import run_backtest, run_numba, run_reference
from statarb.backtest.synth import synthetic_inputs
from statarb.reporting.metrics import return_metrics
from statarb.sweep.grid import SweepPoint, config_for
from statarb.sweep.lookbacks import stacks_from_inputs
from statarb.sweep.reference import sweep_equity_reference
from statarb.sweep.runner import run_sweep, sweep_equity

from ..backtest._util import config, costs


def _points(deltas=(None,)) -> list[SweepPoint]:
    out = []
    for d in deltas:
        for scale in (0.0, 1.0, 4.0):
            for entry, exit_, stop, hold in [(2.0, 0.5, 4.0, 120), (1.5, 0.0, 3.0, 0),
                                             (2.5, 1.0, 5.0, 30)]:  # fmt: skip
                out.append(SweepPoint(entry, exit_, stop, hold, d, None, scale))
    return out


def _second_lookback(inputs, seed: int):
    """Another layer of signals on the same bars (as a different Kalman delta would give)."""
    other = copy.deepcopy(inputs)
    rng = np.random.default_rng(seed)
    other.z = other.z * 0.8 + 0.3 * rng.standard_normal(other.z.shape)
    other.beta = other.beta * (1.0 + 0.01 * rng.standard_normal(other.beta.shape))
    return other


BASES = {
    "plain": dict(),
    "gross_cap_binding": dict(max_gross_leverage=0.9, pair_leverage=1.5, latency_bars=2),
    "volume_cap_cancel_fractional": dict(
        costs=costs(max_participation=0.05, remainder="cancel"), integer_shares=False
    ),
}


@pytest.mark.parametrize("case", sorted(BASES))
def test_equity_bit_identical_to_reference_engine(case: str) -> None:
    inputs = synthetic_inputs(
        1200, 3, seed=4, ou_phi=0.9, missing_frac=0.03, gate_off_frac=0.15, volume_mean=400
    )
    other = _second_lookback(inputs, 5)
    stacks = stacks_from_inputs({(None, None): inputs, (1e-9, None): other})
    base = config(**BASES[case])
    points = _points(deltas=(None, 1e-9))
    eq, counters = sweep_equity(points, base, stacks)
    ref_eq, ref_counters = sweep_equity_reference(points, base, stacks)
    np.testing.assert_array_equal(eq, ref_eq)
    np.testing.assert_array_equal(counters[:, :3], ref_counters[:, :3])  # signals, fills, entries
    np.testing.assert_allclose(counters[:, 3:], ref_counters[:, 3:], rtol=1e-12)  # cost sums
    assert (ref_counters[:, 1] > 0).all()  # every configuration trades
    # the reference twin is the engine's own readable loop, configuration by configuration
    p = points[-1]
    raw = run_reference(other, config_for(base, p))
    np.testing.assert_array_equal(ref_eq[:, -1], raw.equity)


def test_gross_cap_really_binds() -> None:
    """The capped case differs from the uncapped one (so the test above exercises the cap)."""
    inputs = synthetic_inputs(1200, 3, seed=4, ou_phi=0.9, missing_frac=0.03, volume_mean=400)
    stacks = stacks_from_inputs({(None, None): inputs})
    p = [SweepPoint(1.5, 0.0, 3.0, 0, None, None, 1.0)]
    capped, _ = sweep_equity(p, config(**BASES["gross_cap_binding"]), stacks)
    free = dataclasses.replace(config(**BASES["gross_cap_binding"]), max_gross_leverage=0.0)
    uncapped, _ = sweep_equity(p, free, stacks)
    assert not np.array_equal(capped, uncapped)


def test_metrics_equal_engine_run_metrics() -> None:
    """Sweep rows == return_metrics of the engine's equity frame, field by field, exactly."""
    inputs = synthetic_inputs(3000, 2, seed=11, ou_phi=0.97, missing_frac=0.01)
    stacks = stacks_from_inputs({(None, None): inputs})
    base = config(max_gross_leverage=1.5)
    points = _points()
    out = run_sweep(points, base, stacks, max_buffer_bytes=3000 * 8 * 4)  # blocks of 4 configs
    for j, p in enumerate(points):
        res = run_backtest(inputs, config_for(base, p), engine="numba")
        ref = return_metrics(res.equity)
        row = out.metrics.row(j, named=True)
        for name in ("sharpe_annual", "sortino_annual", "max_drawdown", "total_return",
                     "annual_return", "annual_volatility"):  # fmt: skip
            a, b = row[name], getattr(ref, name)
            assert (a == b) or (np.isnan(a) and np.isnan(b)), (p, name, a, b)
        assert row["final_equity"] == res.equity["equity"][-1]
        assert row["num_fills"] == res.fills.height
        assert row["num_signals"] == res.signals.height
        entries = sum(1 for r in res.raw.sig_reason if r == 1)
        assert row["num_trades"] == entries


def test_time_chunks_give_the_same_result() -> None:
    """Two calls over consecutive bar ranges == one call (the state carries over)."""
    from statarb.backtest.engine_ref import pair_notional
    from statarb.kernels import sweep_loop as k
    from statarb.sweep.runner import bars_record, grid_record

    inputs = synthetic_inputs(800, 2, seed=2, ou_phi=0.9, gate_off_frac=0.1)
    stacks = stacks_from_inputs({(None, None): inputs})
    base = config()
    points = _points()
    whole, _ = sweep_equity(points, base, stacks)
    grid, shared = grid_record(points, base, stacks)
    st = k.new_sweep_state(len(points), 2, base.capital)
    notional = pair_notional(base, stacks.grid.pair_ids)
    parts = []
    for lo, hi in ((0, 333), (333, 800)):
        eq = np.empty((hi - lo, len(points)))
        cnt = np.zeros((len(points), k.N_COUNTERS))
        k.sweep_loop(bars_record(stacks.view(lo, hi)), notional, grid, shared, st, eq, cnt, lo)
        parts.append(eq)
    np.testing.assert_array_equal(np.vstack(parts), whole)
    assert run_numba  # the numba engine is the other reference (test above)
