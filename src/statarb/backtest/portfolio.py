"""Portfolio: cash, per-pair leg positions, mark-to-market at every bar close, gross exposure.

Accounting: a buy of ``q`` at ``price`` with commission ``c`` changes cash by ``-(q * price +
c)``, a sell by ``+(q * price) - c``; ``positions_value`` is ``sum(units * last valid close)``
(shorts negative) and ``equity = cash + positions_value``. At the start of every bar the carry
since the previous mark is taken from cash: the borrow fee on that mark's short notional and the
financing of that mark's cash (:func:`statarb.kernels.costs.accrual`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from statarb.kernels.costs import accrual


@dataclass(frozen=True)
class Fill:
    """One executed leg order (``leg`` 0 = A, 1 = B; ``side`` +1 buy, -1 sell)."""

    t: int
    pair: int
    leg: int
    side: int
    qty: float
    price: float
    commission: float
    slippage_bps: float
    signal: int


@dataclass
class Portfolio:
    """Holdings of every pair's two legs (a symbol shared by pairs is held per pair)."""

    cash: float
    n_pairs: int
    borrow_rates: np.ndarray | None = None  # (P, 2) annual borrow fee per leg (None: 0)
    positions: np.ndarray = field(init=False)
    last_close: np.ndarray = field(init=False)
    borrow_base: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.positions = np.zeros((self.n_pairs, 2))
        self.last_close = np.full((self.n_pairs, 2), np.nan)
        if self.borrow_rates is None:
            self.borrow_rates = np.zeros((self.n_pairs, 2))

    def accrue(self, days: float, costs) -> tuple[float, float]:
        """Take the carry of ``days`` since the last mark from cash; ``(borrow, financing)``
        (``costs``: the cost record of :meth:`statarb.backtest.costs.CostModel.record`)."""
        if not days > 0.0:
            return 0.0, 0.0
        borrow, financing = accrual(self.cash, self.borrow_base, days, costs)
        self.cash = self.cash - borrow - financing
        return borrow, financing

    def apply_fill(self, fill: Fill) -> None:
        """Book a fill: cash moves by the traded value and commission, the leg position by qty."""
        gross = fill.qty * fill.price
        self.cash = self.cash - (fill.side * gross + fill.commission)
        self.positions[fill.pair, fill.leg] = self.positions[fill.pair, fill.leg] + (
            fill.side * fill.qty
        )

    def mark(self, closes: list[tuple[float, float, float, float]]) -> tuple[float, float, float]:
        """Mark at the bar close; ``closes[p] = (open_a, close_a, open_b, close_b)``.

        A leg without a bar keeps its last valid close. Returns ``(cash, positions_value, equity)``.
        """
        pv = 0.0
        bb = 0.0
        for p, (oa, ca, ob, cb) in enumerate(closes):
            if np.isfinite(ca) and np.isfinite(oa):
                self.last_close[p, 0] = ca
            if np.isfinite(cb) and np.isfinite(ob):
                self.last_close[p, 1] = cb
            for leg in (0, 1):
                if self.positions[p, leg] != 0.0:
                    v = float(self.positions[p, leg] * self.last_close[p, leg])
                    pv = pv + v
                    if v < 0.0:
                        bb = bb - v * float(self.borrow_rates[p, leg])
        self.borrow_base = bb
        return self.cash, pv, self.cash + pv

    def accumulate_gross(self, acc: float, pair: int, units: tuple[float, float]) -> float:
        """``acc + |units_A| * close_A + |units_B| * close_B`` at the last closes of ``pair``
        (added one leg at a time, the same order as the numba kernel)."""
        for leg in (0, 1):
            if units[leg] != 0.0:
                acc = acc + abs(units[leg]) * self.last_close[pair, leg]
        return acc
