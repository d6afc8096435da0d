"""The numba kernel reproduces the readable reference loop exactly (signals, fills, equity)."""

from __future__ import annotations

import numpy as np
import pytest

from statarb.backtest.engine import run_numba, run_reference
from statarb.backtest.synth import synthetic_inputs

from ._util import config, costs

CASES = {
    "plain": dict(),
    "cap_carry_integer": dict(costs=costs(max_participation=0.05)),
    "cap_cancel_fractional": dict(
        costs=costs(max_participation=0.05, remainder="cancel"), integer_shares=False
    ),
    "latency3_gross_cap": dict(latency_bars=3, max_gross_leverage=1.2, pair_leverage=0.8),
    "carry_levered": dict(  # borrow table, cash interest and debit financing (cash < 0)
        costs=costs(
            borrow_rate=0.02, borrow_rates={"B001": 0.3}, cash_rate=0.03, financing_rate=0.07
        ),  # fmt: skip
        pair_leverage=12.0,
    ),
    "no_costs_no_maxhold": dict(
        costs=costs(per_share=0, min_per_order=0, fee_bps=0, fixed_bps=0, impact_k_bps=0),
        max_holding_bars=0,
    ),
}


def assert_same(a, b) -> None:
    aa, bb = a.arrays(), b.arrays()
    for name in aa:
        assert aa[name].shape == bb[name].shape, name
        np.testing.assert_array_equal(aa[name], bb[name], err_msg=name)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("seed", [0, 1])
def test_numba_equals_reference_random(case: str, seed: int) -> None:
    inputs = synthetic_inputs(
        1500, 3, seed=seed, ou_phi=0.9, missing_frac=0.03, gate_off_frac=0.15, volume_mean=400
    )
    cfg = config(**CASES[case])
    ref, fast = run_reference(inputs, cfg), run_numba(inputs, cfg)
    assert len(ref.sig_t) > 10 and len(ref.fill_t) > 10  # the case really trades
    assert_same(ref, fast)


def test_numba_equals_reference_realistic_pair() -> None:
    """One liquid, slowly mean-reverting pair over ~2 weeks of minute bars."""
    inputs = synthetic_inputs(6000, 1, seed=7, ou_phi=0.995, volume_mean=50_000)
    cfg = config(costs=costs(max_participation=0.02), max_holding_bars=390)
    ref, fast = run_reference(inputs, cfg), run_numba(inputs, cfg)
    assert {1, -1, 0} <= set(ref.sig_dir.tolist())
    assert_same(ref, fast)


def test_output_buffers_grow() -> None:
    """More signals than the initial capacity: the wrapper retries with larger buffers."""
    inputs = synthetic_inputs(400, 40, seed=3, ou_phi=0.5)
    cfg = config(entry_z=1.0, exit_z=0.9, stop_z=10.0, max_holding_bars=1)
    ref, fast = run_reference(inputs, cfg), run_numba(inputs, cfg)
    assert len(fast.sig_t) > 1024
    assert_same(ref, fast)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("chunk", [1, 7, 390])
def test_time_chunks_give_the_one_pass_result(case: str, chunk: int) -> None:
    """The fast path streamed in time chunks (state carried between kernel calls: positions,
    pending orders across a chunk boundary, cash) equals the reference loop bit for bit."""
    inputs = synthetic_inputs(
        1200, 3, seed=5, ou_phi=0.9, missing_frac=0.03, gate_off_frac=0.15, volume_mean=400
    )
    cfg = config(**CASES[case])
    ref = run_reference(inputs, cfg)
    assert len(ref.sig_t) > 10
    assert_same(ref, run_numba(inputs, cfg, chunk_bars=chunk))


def test_buffer_retry_inside_a_chunk_restores_the_state() -> None:
    """A chunk whose buffers overflow is re-run from a copy of the state, not from its wreck."""
    inputs = synthetic_inputs(400, 40, seed=3, ou_phi=0.5)
    cfg = config(entry_z=1.0, exit_z=0.9, stop_z=10.0, max_holding_bars=1)
    ref = run_reference(inputs, cfg)
    fast = run_numba(inputs, cfg, chunk_bars=150)  # every chunk overflows its first buffers
    assert len(fast.sig_t) > 1024
    assert_same(ref, fast)
