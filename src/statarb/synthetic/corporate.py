"""Corporate actions: pick splits/dividends and convert adjusted prices to raw traded prices.

Project convention (``docs/dev-contract.md``): ``adjusted = raw / F`` where, walking actions in
ex-date order, every bar strictly before an ex-date has ``F`` multiplied by ``ratio`` (split) or by
``1 / (1 - D / close_prev)`` (cash dividend ``D``, ``close_prev`` = last *raw* close before the
ex-date; CRSP/Yahoo price-ratio method). Going backwards from the last action with ``G`` the
product of the factors of later actions and ``c`` the adjusted ``close_prev``, the dividend factor
``f`` must satisfy ``f = 1 / (1 - D / (c G f))``, i.e. ``f = 1 + D / (c G)`` and the raw
``close_prev = c G + D``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from statarb.synthetic.market import MarketPlan


@dataclass(frozen=True)
class CorporateAction:
    """One action; ``ex_day`` indexes ``Market.clock.days``; ``factor`` is its ``F`` multiplier."""

    symbol: str
    action: str  # split | dividend
    ex_day: int
    ex_date: dt.date
    ratio: float | None
    cash_amount: float | None
    factor: float


def choose_actions(
    market: MarketPlan, rng: np.random.Generator
) -> list[tuple[str, str, int, float]]:
    """Pick ``(symbol, action, ex_day, ratio_or_yield)``; legs of cointegrated pairs first."""
    cfg = market.config
    n_days = len(market.clock.days)
    legs = [s for p in market.pairs for s in (p.symbol_a, p.symbol_b)]
    others = [s for s in market.symbols if s not in legs]
    order = legs[::2] + others + legs[1::2]  # alternate: some on pairs, some on free names
    picks: list[tuple[str, str, int, float]] = []
    used: set[tuple[str, int]] = set()
    kinds = ["split"] * cfg.n_splits + ["dividend"] * cfg.n_dividends
    for k, kind in enumerate(kinds):
        sym = order[k % len(order)]
        for _ in range(100):
            ex_day = int(rng.integers(1, n_days))
            if (sym, ex_day) not in used:
                break
        used.add((sym, ex_day))
        if kind == "split":
            picks.append((sym, kind, ex_day, float(cfg.split_ratios[k % len(cfg.split_ratios)])))
        else:
            picks.append((sym, kind, ex_day, float(rng.uniform(*cfg.dividend_yield))))
    return picks


def day_factors(
    market: MarketPlan, picks: list[tuple[str, str, int, float]]
) -> tuple[np.ndarray, list[CorporateAction]]:
    """Per (day, symbol) cumulative factor ``F`` and the actions with their cash amounts.

    Dividends are rounded to cents; the factor is derived from the rounded amount so the raw file
    reproduces the adjusted path exactly under the convention.
    """
    n_days = len(market.clock.days)
    factors = np.ones((n_days, len(market.symbols)))
    actions: list[CorporateAction] = []
    col = {s: j for j, s in enumerate(market.symbols)}
    for sym, kind, ex_day, val in sorted(picks, key=lambda p: (p[0], -p[2])):
        j = col[sym]
        g = factors[ex_day - 1, j]  # product of factors of later actions of this symbol
        if kind == "split":
            f, ratio, cash = val, val, None
        else:
            c = market.day_close[ex_day - 1, j]  # adjusted close of the last bar before ex
            cash = max(round(val * c * g, 2), 0.01)
            f, ratio = 1.0 + cash / (c * g), None
        factors[:ex_day, j] *= f
        actions.append(
            CorporateAction(sym, kind, ex_day, market.clock.days[ex_day], ratio, cash, f)
        )
    actions.sort(key=lambda a: (a.ex_date, a.symbol))
    return factors, actions


def factor_segments(
    market: MarketPlan, factors: np.ndarray, actions: list[CorporateAction]
) -> list[dict[str, object]]:
    """Expected ``adj_factor`` per (symbol, date segment between ex-dates), inclusive bounds."""
    days = market.clock.days
    out: list[dict[str, object]] = []
    for sym in sorted({a.symbol for a in actions}):
        j = market.symbols.index(sym)
        cuts = sorted({a.ex_day for a in actions if a.symbol == sym})
        bounds = [0, *cuts, len(days)]
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            out.append(
                {
                    "symbol": sym,
                    "start_date": days[lo].isoformat(),
                    "end_date": days[hi - 1].isoformat(),
                    "adj_factor": float(factors[lo, j]),
                }
            )
    return out
