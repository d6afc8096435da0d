"""The sweep grid: the Cartesian product of ``sweep.grid`` and each point's backtest config.

A point fixes the thresholds, the holding limit, the two lookbacks (Kalman ``delta`` and the OU
window; ``None`` = the ``alpha`` section's value) and the cost scale. Its
:class:`~statarb.backtest.config.BacktestConfig` is the ``backtest`` section with those values and
the cost schedule's fee and slippage terms multiplied by the scale (``per_share``,
``min_per_order``, ``fee_bps``, ``fixed_bps``, ``impact_k_bps``; the volume cap is not a cost and
is kept): scale 0 is the frictionless run, 1 the configured costs, 2 and 4 the stress cases of the
cost-sensitivity report (pyfolio's slippage sweep, for fees too).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, replace
from typing import Any

from statarb.backtest.config import BacktestConfig, CostModel
from statarb.sweep.params import GridParams

SCALED_COST_TERMS = ("per_share", "min_per_order", "fee_bps", "fixed_bps", "impact_k_bps")


@dataclass(frozen=True)
class SweepPoint:
    """One configuration of the grid (its swept values)."""

    entry_z: float
    exit_z: float
    stop_z: float
    max_holding_bars: int
    kalman_delta: float | None
    ou_window_bars: int | None
    cost_scale: float

    @property
    def lookback(self) -> tuple[float | None, int | None]:
        """The key of its signal inputs (spreads / OU bands recomputed once per key)."""
        return (self.kalman_delta, self.ou_window_bars)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def expand(grid: GridParams) -> list[SweepPoint]:
    """Every valid point of the grid (``0 <= exit_z < entry_z < stop_z``), in a fixed order:
    lookbacks outermost, then cost scale, entry, exit, stop, holding limit."""
    out = []
    for delta, window, scale, entry, exit_, stop, hold in itertools.product(
        grid.kalman_delta, grid.ou_window_bars, grid.cost_scale, grid.entry_z, grid.exit_z,
        grid.stop_z, grid.max_holding_bars,
    ):  # fmt: skip
        if 0 <= exit_ < entry < stop:
            out.append(SweepPoint(entry, exit_, stop, hold, delta, window, scale))
    if not out:
        raise ValueError(
            "sweep.grid: no valid configuration (every combination breaks "
            "0 <= exit_z < entry_z < stop_z)"
        )
    return out


def scale_costs(costs: CostModel, scale: float) -> CostModel:
    """``costs`` with the fee and slippage terms (:data:`SCALED_COST_TERMS`) times ``scale``."""
    return replace(costs, **{k: float(getattr(costs, k)) * float(scale) for k in SCALED_COST_TERMS})


def config_for(base: BacktestConfig, point: SweepPoint) -> BacktestConfig:
    """The full backtest configuration of ``point`` (``base`` = the ``backtest`` section)."""
    return replace(
        base,
        entry_z=float(point.entry_z),
        exit_z=float(point.exit_z),
        stop_z=float(point.stop_z),
        max_holding_bars=int(point.max_holding_bars),
        costs=scale_costs(base.costs, point.cost_scale),
    )
