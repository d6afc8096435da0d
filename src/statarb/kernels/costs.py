"""Numba kernel function of the fill cost model (shared by the fast and the reference loop).

:func:`leg_cost` prices one leg fill from a cost record: any object with the numeric fields of
:class:`statarb.backtest.costs.CostModel` (the backtest builds a namedtuple from them with
:meth:`CostModel.record`). For a fill of ``qty`` shares at reference price ``ref`` on a bar with
volume ``vol`` and side ``side`` (+1 buy, -1 sell):

* ``slippage_bps = fixed_bps + impact_k_bps * (qty / vol) ** impact_alpha`` (square-root law for
  ``alpha = 0.5``; Almgren et al. 2005); ``vol <= 0`` or missing counts as participation 1;
* ``price = ref * (1 + side * slippage_bps / 1e4)``;
* ``commission = max(per_share * qty, min_per_order) + fee_bps / 1e4 * qty * price``.

Adding a cost term = a field of ``CostModel`` (and its file key), its use here, and its tests.

:func:`accrual` gives the carry costs of one bar (borrow fee and cash financing) from the balances
of the previous mark; both loops call it at the start of every bar, before that bar's fills.
"""

from __future__ import annotations

import math

from numba import njit


@njit(cache=True)
def fill_cost(
    side: int, qty: float, ref: float, vol: float, per_share: float, min_per_order: float,
    fee_bps: float, fixed_bps: float, impact_k_bps: float, impact_alpha: float,
) -> tuple[float, float, float]:  # fmt: skip
    """``(price, commission, slippage_bps)`` of one leg fill from the cost terms themselves (the
    formula of the module docstring; the sweep kernel calls it with each configuration's terms)."""
    part = qty / vol if (math.isfinite(vol) and vol > 0.0) else 1.0
    slip = fixed_bps
    if impact_k_bps > 0.0:
        slip = slip + impact_k_bps * part**impact_alpha
    price = ref * (1.0 + side * slip * 1e-4)
    gross = qty * price
    commission = max(per_share * qty, min_per_order) + fee_bps * 1e-4 * gross
    return price, commission, slip


@njit(cache=True)
def leg_cost(side: int, qty: float, ref: float, vol: float, c) -> tuple[float, float, float]:
    """``(price, commission, slippage_bps)`` of one leg fill (see the module docstring)."""
    return fill_cost(side, qty, ref, vol, c.per_share, c.min_per_order, c.fee_bps, c.fixed_bps,
                     c.impact_k_bps, c.impact_alpha)  # fmt: skip


@njit(cache=True)
def accrual(cash: float, borrow_base: float, days: float, c) -> tuple[float, float]:
    """``(borrow, financing)`` costs of ``days`` calendar days (act/``day_count``) on the balances
    of the previous mark: ``borrow_base`` = ``sum |units| * last_close * annual_rate`` over the
    short legs, ``cash`` the cash balance (``cash_rate`` earned when >= 0, ``financing_rate`` paid
    when < 0; a negative financing cost is income)."""
    f = days / c.day_count
    borrow = borrow_base * f
    earned = -(c.cash_rate * cash * f)
    financing = earned if cash >= 0.0 else c.financing_rate * (-cash) * f
    return borrow, financing
