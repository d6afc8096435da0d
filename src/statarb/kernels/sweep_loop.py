"""Numba kernel of a parameter sweep: every configuration of a grid in ONE pass over the bars.

The loop is the backtest event loop of :mod:`statarb.kernels.backtest_loop` with one more axis:
per bar ``t`` and per configuration ``c`` it performs, for all pairs, the engine's three steps
(fills at the open, mark at the close, decisions at the close) on the configuration's own state
(positions, pending orders, cash, holding counters, arming), so each configuration's equity is
*bit-identical* to one engine run with that configuration. The plain reference twin is
:func:`statarb.sweep.reference.sweep_equity_reference` (the engine's readable Python loop, once
per configuration); ``tests/sweep`` checks the two agree bit for bit. What is shared across configurations is only what does not depend on
them: the bars, the last valid closes and the gating flag; the score ``z`` and the hedge ratio
``beta`` come from stacks indexed per configuration (one layer per distinct lookback, computed
once per lookback value by :mod:`statarb.sweep.lookbacks`).

Nothing of the engine is simplified: the portfolio gross-exposure cap couples the pairs of one
configuration and is evaluated per configuration exactly as the engine does (the pairs of a
configuration are visited in the same order). The kernel records no events - only the equity row
of every bar per configuration and a few counters; full events of chosen configurations come from
the engine itself (:mod:`statarb.sweep.runs`).

Layout (vectorbt's ``nb`` style: arrays and records, no positional scalars):

* ``bars`` (:class:`SweepBarsNb`): ``(T, P)`` legs' open/close/volume, ``(L, T, P)`` stacks of
  ``beta``, ``z`` and ``tradable``;
* ``grid`` (:class:`SweepGridNb`): per-configuration arrays (thresholds, holding limit, stack
  layers, scaled cost terms);
* ``shared`` (:class:`SharedNb`): settings common to all configurations;
* ``st`` (:class:`SweepState`): the loop state, carried from one call to the next (a call covers
  bars ``t0 .. t0 + T - 1``; time chunks give the same result as one call);
* ``eq_out`` ``(T, C)``: equity at the close of every bar; ``counters`` ``(C, N_COUNTERS)``.

Costs: :func:`statarb.kernels.costs.fill_cost` (the formula behind the engine's ``leg_cost``) with the
cost terms of the configuration (fees and slippage scaled for the cost-sensitivity report); carry
costs (borrow fee, cash financing) by :func:`statarb.kernels.costs.accrual` at the start of every
bar on the configuration's previous mark, as the engine does (not scaled by the cost scale).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from statarb.kernels.costs import accrual, fill_cost

EPS = 1e-9
# counters per configuration
K_SIGNALS, K_FILLS, K_ENTRIES, K_COMMISSION, K_SLIPPAGE = 0, 1, 2, 3, 4
N_COUNTERS = 5


class SweepBarsNb(NamedTuple):
    """Bars of one time chunk: legs ``(T, P)``, signal stacks ``(L, T, P)``."""

    open_a: np.ndarray
    close_a: np.ndarray
    vol_a: np.ndarray
    open_b: np.ndarray
    close_b: np.ndarray
    vol_b: np.ndarray
    beta: np.ndarray  # (L, T, P)
    z: np.ndarray  # (Z, T, P)
    tradable: np.ndarray  # (L, T, P) bool
    days: np.ndarray  # (T,) calendar days since the previous bar of the run (carry costs)


class SweepGridNb(NamedTuple):
    """One entry per configuration ``c``."""

    entry_z: np.ndarray
    exit_z: np.ndarray
    stop_z: np.ndarray
    max_hold: np.ndarray  # int64, 0 = no limit
    beta_layer: np.ndarray  # int64 layer of bars.beta / bars.tradable
    z_layer: np.ndarray  # int64 layer of bars.z
    per_share: np.ndarray
    min_per_order: np.ndarray
    fee_bps: np.ndarray
    fixed_bps: np.ndarray
    impact_k_bps: np.ndarray


class SharedNb(NamedTuple):
    """Settings common to every configuration of the sweep."""

    max_gross: float
    latency: int
    integer: bool
    max_participation: float
    carry: bool
    impact_alpha: float
    # carry costs (statarb.kernels.costs.accrual reads these three by name)
    day_count: float
    cash_rate: float
    financing_rate: float
    borrow_a: np.ndarray  # (P,) annual borrow fee of leg A (paid while short)
    borrow_b: np.ndarray  # (P,)


class SweepState(NamedTuple):
    """Loop state: ``last`` is shared, everything else is per configuration ``(C, P[, 2])``."""

    last: np.ndarray  # (P, 2)
    pos: np.ndarray  # (C, P, 2)
    state: np.ndarray  # (C, P)
    held: np.ndarray
    armed: np.ndarray
    size_a: np.ndarray
    o_active: np.ndarray
    o_start: np.ndarray
    o_tgt: np.ndarray  # (C, P, 2)
    cash: np.ndarray  # (C,)
    borrow_base: np.ndarray  # (C,) sum |short units| * last close * rate at the last mark


def new_sweep_state(n_configs: int, n_pairs: int, capital: float) -> SweepState:
    """Flat, armed, no pending order, all capital in cash, for every configuration."""
    c, p = n_configs, n_pairs
    return SweepState(
        np.full((p, 2), np.nan), np.zeros((c, p, 2)), np.zeros((c, p), np.int64),
        np.zeros((c, p), np.int64), np.ones((c, p), np.bool_), np.zeros((c, p)),
        np.zeros((c, p), np.bool_), np.zeros((c, p), np.int64), np.zeros((c, p, 2)),
        np.full(c, float(capital)), np.zeros(c),
    )  # fmt: skip


@njit(cache=True)
def sweep_loop(bars, notional, grid, shared, st, eq_out, counters, t0):
    """Run bars ``t0 .. t0 + T - 1`` for every configuration from ``st`` (updated in place);
    write the equity of bar ``t`` and configuration ``c`` to ``eq_out[t, c]`` and accumulate the
    counters. Same per-configuration semantics as ``backtest_loop``."""
    open_a, close_a, vol_a = bars.open_a, bars.close_a, bars.vol_a
    open_b, close_b, vol_b = bars.open_b, bars.close_b, bars.vol_b
    T, P = open_a.shape
    C = grid.entry_z.shape[0]
    max_gross = shared.max_gross
    max_part = shared.max_participation
    latency = shared.latency
    integer = shared.integer
    carry = shared.carry
    alpha = shared.impact_alpha
    last, pos, state, held, armed = st.last, st.pos, st.state, st.held, st.armed
    size_a, o_active, o_start, o_tgt, cash = st.size_a, st.o_active, st.o_start, st.o_tgt, st.cash

    for t in range(T):
        tg = t0 + t
        # last valid closes (shared; the fills at the open do not read them)
        for p in range(P):
            if math.isfinite(close_a[t, p]) and math.isfinite(open_a[t, p]):
                last[p, 0] = close_a[t, p]
            if math.isfinite(close_b[t, p]) and math.isfinite(open_b[t, p]):
                last[p, 1] = close_b[t, p]
        for c in range(C):
            lb = grid.beta_layer[c]
            lz = grid.z_layer[c]
            cc = cash[c]
            # ---- 0. carry since the previous mark (accrual, as backtest_loop) -------------
            if bars.days[t] > 0.0:
                bc, fc = accrual(cc, st.borrow_base[c], bars.days[t], shared)
                cc = cc - bc - fc
            # ---- 1. fills at the open of bar t ---------------------------------------------
            for p in range(P):
                if not o_active[c, p] or o_start[c, p] > tg:
                    continue
                if not (
                    math.isfinite(open_a[t, p])
                    and math.isfinite(open_b[t, p])
                    and math.isfinite(close_a[t, p])
                    and math.isfinite(close_b[t, p])
                ):
                    continue
                remaining = False
                for leg in range(2):
                    if leg == 0:
                        ref = open_a[t, p]
                        vol = vol_a[t, p]
                    else:
                        ref = open_b[t, p]
                        vol = vol_b[t, p]
                    delta = o_tgt[c, p, leg] - pos[c, p, leg]
                    want = abs(delta)
                    if want <= EPS:
                        continue
                    qty = want
                    if max_part > 0.0:
                        cap = max_part * vol if (math.isfinite(vol) and vol > 0.0) else 0.0
                        if integer:
                            cap = math.floor(cap)
                        if qty > cap:
                            qty = cap
                    if qty <= EPS:
                        remaining = True
                        continue
                    side = 1 if delta > 0.0 else -1
                    price, comm, _slip = fill_cost(
                        side, qty, ref, vol, grid.per_share[c], grid.min_per_order[c],
                        grid.fee_bps[c], grid.fixed_bps[c], grid.impact_k_bps[c], alpha,
                    )  # fmt: skip
                    gross = qty * price
                    cc = cc - (side * gross + comm)
                    pos[c, p, leg] = pos[c, p, leg] + side * qty
                    counters[c, K_FILLS] += 1.0
                    counters[c, K_COMMISSION] += comm
                    counters[c, K_SLIPPAGE] += qty * abs(price - ref)
                    if want - qty > EPS:
                        remaining = True
                if not remaining or not carry:
                    o_active[c, p] = False

            # ---- 2. mark-to-market at the close of bar t -------------------------------------
            pv = 0.0
            bb = 0.0
            for p in range(P):
                if pos[c, p, 0] != 0.0:
                    v = pos[c, p, 0] * last[p, 0]
                    pv = pv + v
                    if v < 0.0:
                        bb = bb - v * shared.borrow_a[p]
                if pos[c, p, 1] != 0.0:
                    v = pos[c, p, 1] * last[p, 1]
                    pv = pv + v
                    if v < 0.0:
                        bb = bb - v * shared.borrow_b[p]
            st.borrow_base[c] = bb
            equity = cc + pv
            eq_out[t, c] = equity

            # ---- 3. decisions at the close of bar t --------------------------------------------
            entry_z = grid.entry_z[c]
            exit_z = grid.exit_z[c]
            stop_z = grid.stop_z[c]
            max_hold = grid.max_hold[c]
            for p in range(P):
                if not (
                    math.isfinite(open_a[t, p])
                    and math.isfinite(open_b[t, p])
                    and math.isfinite(close_a[t, p])
                    and math.isfinite(close_b[t, p])
                ):
                    continue
                zz = bars.z[lz, t, p]
                b = bars.beta[lb, t, p]
                if not (math.isfinite(zz) and math.isfinite(b)):
                    continue
                s = state[c, p]
                trad = bars.tradable[lb, t, p]
                new = s
                forced = False
                if s != 0:
                    held[c, p] += 1
                    if not trad or abs(zz) > stop_z or max_hold > 0 and held[c, p] >= max_hold:
                        new = 0
                        forced = True
                    elif s == 1 and zz >= -exit_z or s == -1 and zz <= exit_z:
                        new = 0
                    if forced:
                        armed[c, p] = False
                if not armed[c, p] and abs(zz) < entry_z:
                    armed[c, p] = True
                ua = 0.0
                if new == 0 and armed[c, p] and trad and abs(zz) > entry_z and abs(zz) <= stop_z:
                    d = 1 if zz < 0.0 else -1
                    n = notional[p]
                    if max_gross > 0.0:
                        committed = 0.0
                        for q in range(P):
                            if q == p:
                                continue
                            if o_active[c, q]:
                                ga = o_tgt[c, q, 0]
                                gb = o_tgt[c, q, 1]
                            else:
                                ga = pos[c, q, 0]
                                gb = pos[c, q, 1]
                            if ga != 0.0:
                                committed = committed + abs(ga) * last[q, 0]
                            if gb != 0.0:
                                committed = committed + abs(gb) * last[q, 1]
                        headroom = max_gross * equity - committed
                        if headroom < n:
                            n = headroom
                    if n > 0.0:
                        ua = n / (close_a[t, p] + abs(b) * close_b[t, p])
                        if integer:
                            ua = math.floor(ua)
                    if ua > 0.0:
                        new = d
                        counters[c, K_ENTRIES] += 1.0
                if new == s:
                    continue
                counters[c, K_SIGNALS] += 1.0
                if new == 0:
                    tgt_a = 0.0
                    tgt_b = 0.0
                else:
                    tgt_a = new * ua
                    tgt_b = -new * b * ua
                    if integer:
                        tgt_b = np.rint(tgt_b)
                    size_a[c, p] = ua
                    held[c, p] = 0
                o_active[c, p] = True
                o_start[c, p] = tg + latency
                o_tgt[c, p, 0] = tgt_a
                o_tgt[c, p, 1] = tgt_b
                state[c, p] = new
            cash[c] = cc
