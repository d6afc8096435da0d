"""Readable reference event loop: DataHandler -> ExecutionHandler -> Portfolio -> Strategy.

Per bar ``t`` (bar open time), in this order:

0. **carry**: the portfolio pays the borrow fee and the cash financing for the time since the
   previous bar, on the previous mark's balances;
1. **open**: every pending order live at ``t`` fills at bar ``t``'s open (execution handler);
2. **close**: the portfolio marks to market and the equity row for ``t`` is recorded;
3. **decision**: the strategy sees the market only through a view up to ``t`` and may emit a
   signal; its order goes live at ``t + latency_bars``.

The numba kernel ``statarb.kernels.backtest_loop`` is the fast path of the same loop; both return
:class:`statarb.backtest.results.RawResult`.
"""

from __future__ import annotations

import numpy as np

from statarb.backtest.config import BacktestConfig
from statarb.backtest.costs import accrual_days
from statarb.backtest.data_handler import DataHandler
from statarb.backtest.execution import ExecutionHandler, Order
from statarb.backtest.inputs import BacktestInputs
from statarb.backtest.portfolio import Portfolio
from statarb.backtest.results import RawResult
from statarb.backtest.strategy import PairsStrategy


def pair_notional(cfg: BacktestConfig, pair_ids: list[str]) -> np.ndarray:
    """Notional per entry of each pair: ``capital * weight * pair_leverage``."""
    w = np.asarray(cfg.weights(pair_ids), dtype=np.float64)
    return cfg.capital * w * cfg.pair_leverage


def run_reference(inputs: BacktestInputs, cfg: BacktestConfig) -> RawResult:
    """Run the event loop in plain Python (slow; the specification of the fast path)."""
    handler = DataHandler(inputs)
    n_pairs = handler.n_pairs
    notional = pair_notional(cfg, inputs.pair_ids)
    strategy = PairsStrategy(cfg, notional)
    execution = ExecutionHandler(cfg.costs, n_pairs, cfg.integer_shares)
    rates = np.column_stack(cfg.costs.leg_borrow_rates(inputs.symbols_a, inputs.symbols_b))
    portfolio = Portfolio(cfg.capital, n_pairs, rates.reshape(n_pairs, 2))
    record = cfg.costs.record()
    days = accrual_days(inputs.ts)
    signals, fills = [], []
    T = inputs.shape[0]
    cash_s, pv_s, eq_s = np.empty(T), np.empty(T), np.empty(T)
    borrow_s, fin_s = np.empty(T), np.empty(T)

    for t in handler:
        view = handler.view()
        # 0. carry since the previous mark
        borrow_s[t], fin_s[t] = portfolio.accrue(float(days[t]), record)
        # 1. open of bar t
        for p in range(n_pairs):
            bar = view.latest(p)
            pos = (float(portfolio.positions[p, 0]), float(portfolio.positions[p, 1]))
            for fill in execution.on_open(bar, pos):
                portfolio.apply_fill(fill)
                fills.append(fill)
        # 2. close of bar t
        closes = []
        for p in range(n_pairs):
            bar = view.latest(p)
            closes.append((bar.open_a, bar.close_a, bar.open_b, bar.close_b))
        cash_s[t], pv_s[t], eq_s[t] = portfolio.mark(closes)
        equity = eq_s[t]
        # 3. decisions at the close of bar t
        for p in range(n_pairs):
            committed = 0.0
            if cfg.max_gross_leverage > 0.0:
                for q in range(n_pairs):
                    if q != p:
                        pos_q = (float(portfolio.positions[q, 0]), float(portfolio.positions[q, 1]))
                        committed = portfolio.accumulate_gross(
                            committed, q, execution.committed_target(q, pos_q)
                        )
            sig = strategy.on_bar(view, p, equity, committed)
            if sig is None:
                continue
            execution.submit(Order(p, t + cfg.latency_bars, sig.target, len(signals)))
            signals.append(sig)

    return RawResult.from_objects(signals, fills, cash_s, pv_s, eq_s, inputs, borrow_s, fin_s)
