"""Entry point: run a backtest on prepared inputs with the numba fast path or the reference loop."""

from __future__ import annotations

import numpy as np

from statarb.backtest.config import BacktestConfig
from statarb.backtest.engine_ref import pair_notional, run_reference
from statarb.backtest.inputs import BacktestInputs
from statarb.backtest.results import BacktestResult, RawResult, to_frames
from statarb.kernels import backtest_loop as k


def kernel_params(cfg: BacktestConfig) -> tuple[np.ndarray, np.ndarray]:
    """Pack the config into the kernel's float and int parameter vectors."""
    c = cfg.costs
    f = np.zeros(k.N_FPARAMS)
    f[k.P_ENTRY], f[k.P_EXIT], f[k.P_STOP] = cfg.entry_z, cfg.exit_z, cfg.stop_z
    f[k.P_MAXGROSS], f[k.P_CASH] = cfg.max_gross_leverage, cfg.capital
    f[k.P_PER_SHARE], f[k.P_MIN_FEE], f[k.P_FEE_BPS] = c.per_share, c.min_per_order, c.fee_bps
    f[k.P_FIXED_BPS], f[k.P_IMPACT_K] = c.fixed_bps, c.impact_k_bps
    f[k.P_IMPACT_ALPHA], f[k.P_MAX_PART] = c.impact_alpha, c.max_participation
    i = np.zeros(k.N_IPARAMS, dtype=np.int64)
    i[k.I_MAXHOLD], i[k.I_LATENCY] = cfg.max_holding_bars, cfg.latency_bars
    i[k.I_INTEGER], i[k.I_CARRY] = int(cfg.integer_shares), int(c.remainder == "carry")
    return f, i


def run_numba(inputs: BacktestInputs, cfg: BacktestConfig) -> RawResult:
    """Run :func:`statarb.kernels.backtest_loop.backtest_loop`, growing output buffers as needed."""
    f, i = kernel_params(cfg)
    notional = pair_notional(cfg, inputs.pair_ids)
    T, P = inputs.shape
    cap = max(1024, (T * P) // 64)
    while True:
        out = k.allocate_outputs(T, cap, 2 * cap)
        ns, nf = k.backtest_loop(
            inputs.open_a,
            inputs.close_a,
            inputs.vol_a,
            inputs.open_b,
            inputs.close_b,
            inputs.vol_b,
            inputs.beta,
            inputs.z,
            inputs.tradable,
            notional,
            f,
            i,
            *out,
        )
        if ns >= 0:
            break
        cap *= 4
    n_s, n_f = len(k.SIGNAL_BUFFERS), len(k.FILL_BUFFERS)
    sig = [a[:ns] for a in out[:n_s]]
    fills = [a[:nf] for a in out[n_s : n_s + n_f]]
    return RawResult(*sig, *fills, *out[n_s + n_f :])


def run_backtest(
    inputs: BacktestInputs, cfg: BacktestConfig, engine: str = "numba"
) -> BacktestResult:
    """Run the event loop (``engine`` = ``"numba"`` or ``"reference"``) and build the frames."""
    if engine == "numba":
        raw = run_numba(inputs, cfg)
    elif engine == "reference":
        raw = run_reference(inputs, cfg)
    else:
        raise ValueError(f"engine must be 'numba' or 'reference', got {engine!r}")
    return to_frames(raw, inputs)
