"""Portfolio: cash, per-pair leg positions, mark-to-market at every bar close, gross exposure.

Accounting (no financing or borrow costs): a buy of ``q`` at ``price`` with commission ``c``
changes cash by ``-(q * price + c)``, a sell by ``+(q * price) - c``; ``positions_value`` is
``sum(units * last valid close)`` (shorts negative) and ``equity = cash + positions_value``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


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
    positions: np.ndarray = field(init=False)
    last_close: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.positions = np.zeros((self.n_pairs, 2))
        self.last_close = np.full((self.n_pairs, 2), np.nan)

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
        for p, (oa, ca, ob, cb) in enumerate(closes):
            if np.isfinite(ca) and np.isfinite(oa):
                self.last_close[p, 0] = ca
            if np.isfinite(cb) and np.isfinite(ob):
                self.last_close[p, 1] = cb
            for leg in (0, 1):
                if self.positions[p, leg] != 0.0:
                    pv = pv + self.positions[p, leg] * self.last_close[p, leg]
        return self.cash, pv, self.cash + pv

    def accumulate_gross(self, acc: float, pair: int, units: tuple[float, float]) -> float:
        """``acc + |units_A| * close_A + |units_B| * close_B`` at the last closes of ``pair``
        (added one leg at a time, the same order as the numba kernel)."""
        for leg in (0, 1):
            if units[leg] != 0.0:
                acc = acc + abs(units[leg]) * self.last_close[pair, leg]
        return acc
