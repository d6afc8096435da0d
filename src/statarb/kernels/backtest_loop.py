"""Numba fast path of the pairs backtest event loop (same semantics as ``backtest/engine_ref.py``).

Arrays are laid out ``(T, P)`` (bar index, pair) so the inner per-pair loop is contiguous. Per bar
``t`` the loop does, in this order (see ``docs/backtest.md``):

0. **carry** - borrow fee and cash financing for the time since the previous bar, on the
   balances of the previous mark (:func:`statarb.kernels.costs.accrual`);
1. **open of bar t** - pending orders whose start bar is ``<= t`` execute at the open when both
   legs have a valid bar (costs: :func:`statarb.kernels.costs.leg_cost`);
2. **close of bar t** - mark-to-market, record ``cash``, ``positions_value``, ``equity``;
3. **decision at close of bar t** - the strategy state machine (entry / exit / stop / max-hold /
   gate-off) emits signals whose orders start at bar ``t + latency``.

The kernel takes arrays plus records, never positional scalars (vectorbt's ``nb`` style):
``bars`` (:class:`BarsNb`), the strategy record (:class:`StrategyNb`), the cost record
(``CostModel.record()``), the loop state (:class:`LoopState`, carried from one call to the next)
and the output buffers (:class:`Buffers`). A call covers bars ``t0 .. t0 + T - 1`` of the whole
run, so the backtest streams in time chunks with bounded memory and the same result as one call.

The reference Python loop performs the same floating-point operations in the same order, so the
two produce identical signals, fills and equity (checked in ``tests/backtest``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from statarb.kernels.costs import accrual, leg_cost

# reasons recorded on signals
R_ENTRY, R_EXIT, R_STOP, R_MAXHOLD, R_GATE = 1, 2, 3, 4, 5
EPS = 1e-9


@njit(cache=True)
def _round_half_even(x: float) -> float:
    return np.rint(x)


class StrategyNb(NamedTuple):
    """Strategy, sizing and timing parameters of the loop."""

    entry_z: float
    exit_z: float
    stop_z: float
    max_gross: float  # committed gross exposure <= max_gross * equity (0 = no cap)
    max_hold: int  # bars (0 = no limit)
    latency: int  # bars between a decision and its order
    integer: bool  # whole shares
    max_participation: float  # fill cap as a share of the bar's volume (0 = no cap)
    carry: bool  # an unfilled remainder is carried to the next bar (else cancelled)


class BarsNb(NamedTuple):
    """``(T, P)`` inputs of one time chunk."""

    open_a: np.ndarray
    close_a: np.ndarray
    vol_a: np.ndarray
    open_b: np.ndarray
    close_b: np.ndarray
    vol_b: np.ndarray
    beta: np.ndarray
    z: np.ndarray
    tradable: np.ndarray
    days: np.ndarray  # (T,) calendar days since the previous bar (0 for the run's first bar)
    borrow_a: np.ndarray  # (P,) annual borrow fee of leg A (paid while short)
    borrow_b: np.ndarray  # (P,) annual borrow fee of leg B


class LoopState(NamedTuple):
    """Everything the loop carries from one bar (and one call) to the next."""

    pos: np.ndarray  # (P, 2) leg positions
    last: np.ndarray  # (P, 2) last valid closes
    state: np.ndarray  # (P,) -1 / 0 / +1
    held: np.ndarray  # (P,) bars in the position
    armed: np.ndarray  # (P,) entry re-armed after a forced exit
    size_a: np.ndarray  # (P,) units of A of the open position
    o_active: np.ndarray  # (P,) a pending order
    o_start: np.ndarray  # (P,) its first bar (whole-run index)
    o_tgt: np.ndarray  # (P, 2) its target positions
    o_sig: np.ndarray  # (P,) its signal (whole-run index)
    cash: np.ndarray  # (1,)
    borrow_base: np.ndarray  # (1,) sum |short units| * last close * rate at the last mark


class Buffers(NamedTuple):
    """Output buffers of one call (signals, leg fills, the equity rows of its bars)."""

    s_t: np.ndarray
    s_p: np.ndarray
    s_dir: np.ndarray
    s_size: np.ndarray
    s_beta: np.ndarray
    s_z: np.ndarray
    s_reason: np.ndarray
    f_t: np.ndarray
    f_p: np.ndarray
    f_leg: np.ndarray
    f_side: np.ndarray
    f_qty: np.ndarray
    f_px: np.ndarray
    f_comm: np.ndarray
    f_slip: np.ndarray
    f_sig: np.ndarray
    eq_cash: np.ndarray
    eq_pv: np.ndarray
    eq: np.ndarray
    eq_borrow: np.ndarray  # borrow fee accrued at the start of each bar
    eq_fin: np.ndarray  # financing cost (negative: interest earned) at the start of each bar


SIGNAL_FIELDS = Buffers._fields[:7]
FILL_FIELDS = Buffers._fields[7:16]
EQUITY_FIELDS = Buffers._fields[16:]
_INT_FIELDS = {"s_t", "s_p", "s_dir", "s_reason", "f_t", "f_p", "f_leg", "f_side", "f_sig"}


def new_state(n_pairs: int, capital: float) -> LoopState:
    """The loop state before the first bar: flat, armed, no order, all capital in cash."""
    p = n_pairs
    return LoopState(
        np.zeros((p, 2)), np.full((p, 2), np.nan), np.zeros(p, np.int64), np.zeros(p, np.int64),
        np.ones(p, np.bool_), np.zeros(p), np.zeros(p, np.bool_), np.zeros(p, np.int64),
        np.zeros((p, 2)), np.zeros(p, np.int64), np.array([float(capital)]), np.zeros(1),
    )  # fmt: skip


def copy_state(st: LoopState) -> LoopState:
    """A deep copy (to retry a chunk with larger buffers)."""
    return LoopState(*(a.copy() for a in st))


def allocate_buffers(n_bars: int, sig_cap: int, fill_cap: int) -> Buffers:
    """Output buffers for ``n_bars`` bars and at most ``sig_cap`` signals / ``fill_cap`` fills."""
    arrs = {}
    for name in Buffers._fields:
        size = sig_cap if name in SIGNAL_FIELDS else fill_cap if name in FILL_FIELDS else n_bars
        arrs[name] = np.empty(size, np.int64 if name in _INT_FIELDS else np.float64)
    return Buffers(**arrs)


@njit(cache=True)
def backtest_loop(bars, notional, strat, costs, st, buf, t0, sig0):
    """Run bars ``t0 .. t0 + T - 1`` of the run from state ``st`` (updated in place) into
    ``buf``; return ``(n_sig, n_fill)`` written. ``sig0`` = signals written before this call
    (signal indices are whole-run, like bar indices). ``(-1, -1)`` means a buffer was too small:
    the state is then partly advanced; call again from a copy with larger buffers.
    """
    open_a, close_a, vol_a = bars.open_a, bars.close_a, bars.vol_a
    open_b, close_b, vol_b = bars.open_b, bars.close_b, bars.vol_b
    beta, z, tradable = bars.beta, bars.z, bars.tradable
    acc_days, borrow_a, borrow_b = bars.days, bars.borrow_a, bars.borrow_b
    T, P = open_a.shape
    entry_z = strat.entry_z
    exit_z = strat.exit_z
    stop_z = strat.stop_z
    max_gross = strat.max_gross
    max_part = strat.max_participation
    max_hold = strat.max_hold
    latency = strat.latency
    integer = strat.integer
    carry = strat.carry
    cash = st.cash[0]
    pos, last, state, held, armed = st.pos, st.last, st.state, st.held, st.armed
    size_a, o_active, o_start, o_tgt, o_sig = st.size_a, st.o_active, st.o_start, st.o_tgt, st.o_sig
    s_t, s_p, s_dir, s_size, s_beta = buf.s_t, buf.s_p, buf.s_dir, buf.s_size, buf.s_beta
    s_z, s_reason = buf.s_z, buf.s_reason
    f_t, f_p, f_leg, f_side, f_qty = buf.f_t, buf.f_p, buf.f_leg, buf.f_side, buf.f_qty
    f_px, f_comm, f_slip, f_sig = buf.f_px, buf.f_comm, buf.f_slip, buf.f_sig
    eq_cash, eq_pv, eq = buf.eq_cash, buf.eq_pv, buf.eq
    eq_borrow, eq_fin = buf.eq_borrow, buf.eq_fin
    bb = st.borrow_base[0]

    sig_cap = s_t.shape[0]
    fill_cap = f_t.shape[0]
    ns = 0
    nf = 0

    for t in range(T):
        tg = t0 + t  # whole-run bar index
        # ---- 0. carry since the previous mark (its short notional and cash) ------------------
        bc = 0.0
        fc = 0.0
        if acc_days[t] > 0.0:
            bc, fc = accrual(cash, bb, acc_days[t], costs)
            cash = cash - bc - fc
        eq_borrow[t] = bc
        eq_fin[t] = fc
        # ---- 1. fills at the open of bar t -------------------------------------------------
        # (the four-way "both legs have a bar" test is written out twice on purpose: moving it into
        # an inlined @njit helper cost 35-60 % of throughput in benchmarks/bench_backtest.py)
        for p in range(P):
            if not o_active[p] or o_start[p] > tg:
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
                delta = o_tgt[p, leg] - pos[p, leg]
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
                price, comm, slip = leg_cost(side, qty, ref, vol, costs)
                gross = qty * price
                cash = cash - (side * gross + comm)
                pos[p, leg] = pos[p, leg] + side * qty
                if nf >= fill_cap:
                    return -1, -1
                f_t[nf] = tg
                f_p[nf] = p
                f_leg[nf] = leg
                f_side[nf] = side
                f_qty[nf] = qty
                f_px[nf] = price
                f_comm[nf] = comm
                f_slip[nf] = slip
                f_sig[nf] = o_sig[p]
                nf += 1
                if want - qty > EPS:
                    remaining = True
            if not remaining or not carry:
                o_active[p] = False

        # ---- 2. mark-to-market at the close of bar t -----------------------------------------
        pv = 0.0
        bb = 0.0
        for p in range(P):
            if math.isfinite(close_a[t, p]) and math.isfinite(open_a[t, p]):
                last[p, 0] = close_a[t, p]
            if math.isfinite(close_b[t, p]) and math.isfinite(open_b[t, p]):
                last[p, 1] = close_b[t, p]
            if pos[p, 0] != 0.0:
                v = pos[p, 0] * last[p, 0]
                pv = pv + v
                if v < 0.0:
                    bb = bb - v * borrow_a[p]
            if pos[p, 1] != 0.0:
                v = pos[p, 1] * last[p, 1]
                pv = pv + v
                if v < 0.0:
                    bb = bb - v * borrow_b[p]
        equity = cash + pv
        eq_cash[t] = cash
        eq_pv[t] = pv
        eq[t] = equity

        # ---- 3. decisions at the close of bar t ------------------------------------------------
        for p in range(P):
            if not (
                math.isfinite(open_a[t, p])
                and math.isfinite(open_b[t, p])
                and math.isfinite(close_a[t, p])
                and math.isfinite(close_b[t, p])
            ):
                continue
            zz = z[t, p]
            b = beta[t, p]
            if not (math.isfinite(zz) and math.isfinite(b)):
                continue
            s = state[p]
            trad = tradable[t, p]
            new = s
            reason = 0
            if s != 0:
                held[p] += 1
                if not trad:
                    new = 0
                    reason = R_GATE
                elif abs(zz) > stop_z:
                    new = 0
                    reason = R_STOP
                elif max_hold > 0 and held[p] >= max_hold:
                    new = 0
                    reason = R_MAXHOLD
                elif s == 1 and zz >= -exit_z or s == -1 and zz <= exit_z:
                    new = 0
                    reason = R_EXIT
                if new == 0 and reason != R_EXIT:
                    armed[p] = False
            if not armed[p] and abs(zz) < entry_z:
                armed[p] = True
            ua = 0.0
            if new == 0 and armed[p] and trad and abs(zz) > entry_z and abs(zz) <= stop_z:
                d = 1 if zz < 0.0 else -1
                n = notional[p]
                if max_gross > 0.0:
                    committed = 0.0
                    for q in range(P):
                        if q == p:
                            continue
                        if o_active[q]:
                            ga = o_tgt[q, 0]
                            gb = o_tgt[q, 1]
                        else:
                            ga = pos[q, 0]
                            gb = pos[q, 1]
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
                    reason = R_ENTRY
            if new == s:
                continue
            if ns >= sig_cap:
                return -1, -1
            if new == 0:
                tgt_a = 0.0
                tgt_b = 0.0
                sz = size_a[p]
            else:
                tgt_a = new * ua
                tgt_b = -new * b * ua
                if integer:
                    tgt_b = _round_half_even(tgt_b)
                sz = ua
                size_a[p] = ua
                held[p] = 0
            s_t[ns] = tg
            s_p[ns] = p
            s_dir[ns] = new
            s_size[ns] = sz
            s_beta[ns] = b
            s_z[ns] = zz
            s_reason[ns] = reason
            o_active[p] = True
            o_start[p] = tg + latency
            o_tgt[p, 0] = tgt_a
            o_tgt[p, 1] = tgt_b
            o_sig[p] = sig0 + ns
            ns += 1
            state[p] = new

    st.cash[0] = cash
    st.borrow_base[0] = bb
    return ns, nf
