"""Execution handler: turns target positions into fills at a later bar's open with costs.

A signal on bar ``t`` becomes an order for *target* leg positions that starts at bar ``t +
latency`` (``latency >= 1``) and executes at the open of the first bar, from then on, on which
both legs trade. Each leg's fill is capped at ``max_participation * bar_volume`` when the cap is
on; the unfilled remainder is carried to the next bar's open (``remainder = "carry"``) or dropped
(``"cancel"``). A newer signal for the same pair replaces a pending order. Prices and
commissions follow :class:`statarb.backtest.config.CostModel`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from statarb.backtest.costs import CostModel
from statarb.backtest.data_handler import Bar
from statarb.backtest.portfolio import Fill
from statarb.kernels.costs import leg_cost

EPS = 1e-9


@dataclass
class Order:
    """Target leg units for one pair, live from bar ``start`` on; ``signal`` = signal index."""

    pair: int
    start: int
    target: tuple[float, float]
    signal: int


class ExecutionHandler:
    """Pending orders per pair and the fill / cost model."""

    def __init__(self, costs: CostModel, n_pairs: int, integer_shares: bool) -> None:
        self.costs = costs
        self._record = costs.record()
        self.integer_shares = integer_shares
        self.pending: list[Order | None] = [None] * n_pairs

    def submit(self, order: Order) -> None:
        self.pending[order.pair] = order

    def committed_target(self, pair: int, position: tuple[float, float]) -> tuple[float, float]:
        """The pending target of ``pair`` if it has one, else its current position."""
        o = self.pending[pair]
        return o.target if o is not None else position

    def leg_fill(self, side: int, qty: float, ref: float, vol: float) -> tuple[float, float, float]:
        """Price, commission and slippage (bps) of buying (+1) / selling (-1) ``qty`` at ``ref``
        (:func:`statarb.kernels.costs.leg_cost`, the formula the fast path uses)."""
        return leg_cost(side, qty, ref, vol, self._record)

    def on_open(self, bar: Bar, position: tuple[float, float]) -> list[Fill]:
        """Execute the pending order of ``bar.pair`` (if live at ``bar.t``) at this bar's open."""
        order = self.pending[bar.pair]
        if order is None or order.start > bar.t or not bar.valid:
            return []
        fills: list[Fill] = []
        remaining = False
        cap_frac = self.costs.max_participation
        for leg, ref, vol in ((0, bar.open_a, bar.vol_a), (1, bar.open_b, bar.vol_b)):
            delta = order.target[leg] - position[leg]
            want = abs(delta)
            if want <= EPS:
                continue
            qty = want
            if cap_frac > 0.0:
                cap = cap_frac * vol if (math.isfinite(vol) and vol > 0.0) else 0.0
                if self.integer_shares:
                    cap = math.floor(cap)
                qty = min(qty, cap)
            if qty <= EPS:
                remaining = True
                continue
            side = 1 if delta > 0.0 else -1
            price, commission, slip = self.leg_fill(side, qty, ref, vol)
            fills.append(
                Fill(bar.t, bar.pair, leg, side, qty, price, commission, slip, order.signal)
            )
            if want - qty > EPS:
                remaining = True
        if not remaining or self.costs.remainder == "cancel":
            self.pending[bar.pair] = None
        return fills
