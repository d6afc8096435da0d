"""Entry point: run a backtest with the numba fast path (in time chunks) or the reference loop.

The fast path streams the run in time chunks: each chunk's ``(T_chunk, P)`` arrays go through
:func:`statarb.kernels.backtest_loop.backtest_loop`, which carries the loop state (positions,
pending orders, cash) to the next chunk, so the result is the same as one pass over the whole
run (tested) while memory holds one chunk.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from statarb.backtest.config import BacktestConfig
from statarb.backtest.costs import CostModel, accrual_days
from statarb.backtest.engine_ref import pair_notional, run_reference
from statarb.backtest.inputs import BacktestInputs
from statarb.backtest.results import BacktestResult, RawResult, to_frames
from statarb.kernels import backtest_loop as k


def strategy_record(cfg: BacktestConfig) -> k.StrategyNb:
    """The kernel's strategy record of ``cfg``."""
    c = cfg.costs
    return k.StrategyNb(
        float(cfg.entry_z), float(cfg.exit_z), float(cfg.stop_z), float(cfg.max_gross_leverage),
        int(cfg.max_holding_bars), int(cfg.latency_bars), bool(cfg.integer_shares),
        float(c.max_participation), c.remainder == "carry",
    )  # fmt: skip


def bars_record(
    inputs: BacktestInputs, lo: int = 0, hi: int | None = None, *, costs: CostModel
) -> k.BarsNb:
    """Rows ``lo:hi`` of ``inputs`` as the kernel's bars record (views, no copies), with the
    elapsed days of each bar (:func:`accrual_days` of the whole grid) and the legs' borrow fees
    of ``costs``."""
    s = slice(lo, hi)
    rates_a, rates_b = costs.leg_borrow_rates(inputs.symbols_a, inputs.symbols_b)
    return k.BarsNb(
        inputs.open_a[s], inputs.close_a[s], inputs.vol_a[s], inputs.open_b[s],
        inputs.close_b[s], inputs.vol_b[s], inputs.beta[s], inputs.z[s], inputs.tradable[s],
        accrual_days(inputs.ts)[s], rates_a, rates_b,
    )  # fmt: skip


def run_chunks(
    chunks: Iterable[tuple[int, k.BarsNb, np.ndarray]], notional: np.ndarray, cfg: BacktestConfig
) -> RawResult:
    """Run the kernel over consecutive time chunks ``(t0, bars, spread)`` (``spread``: the
    chunk's ``(T, P)`` spread, recorded on signals); returns the whole run's raw result."""
    strat, costs = strategy_record(cfg), cfg.costs.record()
    st = k.new_state(notional.shape[0], cfg.capital)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in k.Buffers._fields}
    extra: dict[str, list[np.ndarray]] = {"spread": [], "close_a": [], "close_b": []}
    n_sig = 0
    expected = 0
    for t0, bars, spread in chunks:
        if t0 != expected:
            raise ValueError(f"time chunks must be consecutive: got t0={t0}, expected {expected}")
        T, P = bars.open_a.shape
        cap = max(1024, (T * P) // 64)
        while True:
            snap = k.copy_state(st)
            buf = k.allocate_buffers(T, cap, 2 * cap)
            ns, nf = k.backtest_loop(bars, notional, strat, costs, st, buf, t0, n_sig)
            if ns >= 0:
                break
            st, cap = snap, cap * 4
        for name in k.SIGNAL_FIELDS:
            parts[name].append(getattr(buf, name)[:ns])
        for name in k.FILL_FIELDS:
            parts[name].append(getattr(buf, name)[:nf])
        for name in k.EQUITY_FIELDS:
            parts[name].append(getattr(buf, name))
        local, pair = buf.s_t[:ns] - t0, buf.s_p[:ns]
        extra["spread"].append(spread[local, pair])
        extra["close_a"].append(bars.close_a[local, pair])
        extra["close_b"].append(bars.close_b[local, pair])
        n_sig += ns
        expected = t0 + T

    def cat(name: str, dtype) -> np.ndarray:
        arrs = parts[name] if name in parts else extra[name]
        return np.concatenate(arrs) if arrs else np.empty(0, dtype)

    i8, f8 = np.int64, np.float64
    return RawResult(
        cat("s_t", i8), cat("s_p", i8), cat("s_dir", i8), cat("s_size", f8), cat("s_beta", f8),
        cat("s_z", f8), cat("s_reason", i8), cat("f_t", i8), cat("f_p", i8), cat("f_leg", i8),
        cat("f_side", i8), cat("f_qty", f8), cat("f_px", f8), cat("f_comm", f8),
        cat("f_slip", f8), cat("f_sig", i8), cat("eq_cash", f8), cat("eq_pv", f8), cat("eq", f8),
        cat("spread", f8), cat("close_a", f8), cat("close_b", f8), cat("eq_borrow", f8),
        cat("eq_fin", f8),
    )  # fmt: skip


def run_numba(
    inputs: BacktestInputs, cfg: BacktestConfig, chunk_bars: int | None = None
) -> RawResult:
    """The fast path on in-memory inputs, in chunks of ``chunk_bars`` bars (default: one)."""
    T = inputs.shape[0]
    step = max(1, int(chunk_bars or T or 1))
    chunks = (
        (lo, bars_record(inputs, lo, lo + step, costs=cfg.costs), inputs.spread[lo : lo + step])
        for lo in range(0, T, step)
    )
    return run_chunks(chunks, pair_notional(cfg, inputs.pair_ids), cfg)


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
