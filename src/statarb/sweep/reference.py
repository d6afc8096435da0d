"""Plain reference twin of :func:`statarb.sweep.runner.sweep_equity` (the specification of the
one-pass kernel :mod:`statarb.kernels.sweep_loop`).

It loops over the configurations and runs, for each, the backtest's readable reference event loop
(:func:`statarb.backtest.engine_ref.run_reference`: DataHandler -> ExecutionHandler -> Portfolio
-> PairsStrategy, no numba) on the configuration's lookback layer. Slow (one Python event loop per
configuration) and independent of the kernel's code: the kernel must reproduce its equity bit for
bit (``tests/sweep/test_kernel_equals_engine.py``).
"""

from __future__ import annotations

import numpy as np

from statarb.backtest.config import BacktestConfig
from statarb.backtest.engine_ref import run_reference
from statarb.sweep.grid import SweepPoint, config_for
from statarb.sweep.lookbacks import SignalStacks
from statarb.sweep.walk_forward import inputs_of


def sweep_equity_reference(
    points: list[SweepPoint], base: BacktestConfig, stacks: SignalStacks
) -> tuple[np.ndarray, np.ndarray]:
    """``(equity (T, C), counters (C, 5))`` like the kernel: signals, fills, entries, commission,
    slippage cost (``sum qty * |price - open|``) per configuration."""
    T = stacks.open_a.shape[0]
    eq = np.empty((T, len(points)))
    counters = np.zeros((len(points), 5))
    for j, p in enumerate(points):
        bi, zi = stacks.layers(p, base.signal_source)
        inputs = inputs_of(stacks, bi, zi)
        raw = run_reference(inputs, config_for(base, p))
        eq[:, j] = raw.equity
        ref = np.where(raw.fill_leg == 0, inputs.open_a[raw.fill_t, raw.fill_pair],
                       inputs.open_b[raw.fill_t, raw.fill_pair])  # fmt: skip
        counters[j] = (
            len(raw.sig_t), len(raw.fill_t), int(np.sum(raw.sig_reason == 1)),
            float(raw.fill_commission.sum()), float(np.sum(raw.fill_qty * np.abs(raw.fill_price - ref))),
        )  # fmt: skip
    return eq, counters
