"""Event-driven pairs backtester: data handler, strategy, execution, portfolio, persistence.

``run_backtest(inputs, cfg)`` runs the numba fast path (``engine="reference"`` for the readable
Python loop); ``prepare_inputs`` aligns ``bars_adjusted``, ``spread_series`` and gating.
"""

from statarb.backtest.config import BacktestConfig, CostModel, load_costs
from statarb.backtest.engine import run_backtest
from statarb.backtest.inputs import BacktestInputs, prepare_inputs

__all__ = [
    "BacktestConfig",
    "BacktestInputs",
    "CostModel",
    "load_costs",
    "prepare_inputs",
    "run_backtest",
]
