"""One sweep end to end on in-memory stacks: the one-pass metrics and the walk-forward."""

from __future__ import annotations

from statarb.backtest.config import BacktestConfig
from statarb.sweep.grid import SweepPoint
from statarb.sweep.lookbacks import SignalStacks
from statarb.sweep.params import WalkForwardParams
from statarb.sweep.runner import SweepOutcome, run_sweep
from statarb.sweep.walk_forward import WalkForwardResult, make_windows, walk_forward


def evaluate(
    points: list[SweepPoint],
    base: BacktestConfig,
    stacks: SignalStacks,
    wf: WalkForwardParams | None,
    rank_cost_scale: float,
    max_buffer_bytes: int = 256 << 20,
) -> tuple[SweepOutcome, WalkForwardResult | None]:
    """Metrics of every point (one pass per block of configurations) and, when ``wf`` is enabled,
    the walk-forward out-of-sample run built on the same pass (formation Sharpes)."""
    windows = []
    if wf is not None and wf.enabled:
        windows = make_windows(
            stacks.grid.ts, wf.session_tz, wf.formation_sessions, wf.trading_sessions
        )
    formation = [w.formation for w in windows]
    out = run_sweep(points, base, stacks, formation, max_buffer_bytes)
    if not windows:
        return out, None
    full = out.metrics["sharpe_annual"].to_numpy()  # NaN where undefined
    res = walk_forward(
        points, base, stacks, windows, out.window_sharpe, rank_cost_scale,
        out.periods_per_year, full,
    )  # fmt: skip
    return out, res
