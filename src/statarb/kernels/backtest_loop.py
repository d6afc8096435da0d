"""Numba fast path of the pairs backtest event loop (same semantics as ``backtest/engine_ref.py``).

Arrays are laid out ``(T, P)`` (bar index, pair) so the inner per-pair loop is contiguous. Per bar
``t`` the loop does, in this order (see ``docs/backtest.md``):

1. **open of bar t** - pending orders whose start bar is ``<= t`` execute at the open when both
   legs have a valid bar (costs: :class:`statarb.backtest.config.CostModel`);
2. **close of bar t** - mark-to-market, record ``cash``, ``positions_value``, ``equity``;
3. **decision at close of bar t** - the strategy state machine (entry / exit / stop / max-hold /
   gate-off) emits signals whose orders start at bar ``t + latency``.

The reference Python loop performs the same floating-point operations in the same order, so the
two produce identical signals, fills and equity (checked in ``tests/backtest``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# params (float64 array) slots
P_ENTRY, P_EXIT, P_STOP, P_MAXGROSS, P_CASH = 0, 1, 2, 3, 4
P_PER_SHARE, P_MIN_FEE, P_FEE_BPS, P_FIXED_BPS, P_IMPACT_K, P_IMPACT_ALPHA, P_MAX_PART = range(
    5, 12
)
N_FPARAMS = 12
# iparams (int64 array) slots
I_MAXHOLD, I_LATENCY, I_INTEGER, I_CARRY = 0, 1, 2, 3
N_IPARAMS = 4

# reasons recorded on signals
R_ENTRY, R_EXIT, R_STOP, R_MAXHOLD, R_GATE = 1, 2, 3, 4, 5
EPS = 1e-9


@njit(cache=True)
def _round_half_even(x: float) -> float:
    return np.rint(x)


SIGNAL_BUFFERS = (
    ("s_t", np.int64), ("s_p", np.int64), ("s_dir", np.int64), ("s_size", np.float64),
    ("s_beta", np.float64), ("s_z", np.float64), ("s_reason", np.int64),
)  # fmt: skip
FILL_BUFFERS = (
    ("f_t", np.int64), ("f_p", np.int64), ("f_leg", np.int64), ("f_side", np.int64),
    ("f_qty", np.float64), ("f_px", np.float64), ("f_comm", np.float64),
    ("f_slip", np.float64), ("f_sig", np.int64),
)  # fmt: skip
EQUITY_BUFFERS = ("eq_cash", "eq_pv", "eq")


def allocate_outputs(n_bars: int, sig_cap: int, fill_cap: int) -> list[np.ndarray]:
    """Output buffers of :func:`backtest_loop`, in its argument order."""
    return [
        *(np.empty(sig_cap, dt) for _, dt in SIGNAL_BUFFERS),
        *(np.empty(fill_cap, dt) for _, dt in FILL_BUFFERS),
        *(np.empty(n_bars) for _ in EQUITY_BUFFERS),
    ]


@njit(cache=True)
def backtest_loop(
    open_a,
    close_a,
    vol_a,
    open_b,
    close_b,
    vol_b,
    beta,
    z,
    tradable,
    notional,
    fparams,
    iparams,
    s_t,
    s_p,
    s_dir,
    s_size,
    s_beta,
    s_z,
    s_reason,
    f_t,
    f_p,
    f_leg,
    f_side,
    f_qty,
    f_px,
    f_comm,
    f_slip,
    f_sig,
    eq_cash,
    eq_pv,
    eq,
):
    """Run the event loop writing into the caller's output buffers; return ``(n_sig, n_fill)``.

    ``(-1, -1)`` means a signal or fill buffer was too small; call again with larger ones.
    Signal buffers: ``t, pair, direction (+1 long / -1 short / 0 flat), size, hedge_ratio, z,
    reason``. Fill buffers: ``t, pair, leg (0 = A, 1 = B), side (+1 buy / -1 sell), qty, price,
    commission, slippage_bps, signal index``. Equity buffers (length ``T``): ``cash,
    positions_value, equity``. See :func:`allocate_outputs`.
    """
    T, P = open_a.shape
    entry_z = fparams[P_ENTRY]
    exit_z = fparams[P_EXIT]
    stop_z = fparams[P_STOP]
    max_gross = fparams[P_MAXGROSS]
    cash = fparams[P_CASH]
    per_share = fparams[P_PER_SHARE]
    min_fee = fparams[P_MIN_FEE]
    fee_bps = fparams[P_FEE_BPS]
    fixed_bps = fparams[P_FIXED_BPS]
    impact_k = fparams[P_IMPACT_K]
    impact_alpha = fparams[P_IMPACT_ALPHA]
    max_part = fparams[P_MAX_PART]
    max_hold = iparams[I_MAXHOLD]
    latency = iparams[I_LATENCY]
    integer = iparams[I_INTEGER] != 0
    carry = iparams[I_CARRY] != 0

    pos = np.zeros((P, 2))
    last = np.full((P, 2), np.nan)
    state = np.zeros(P, np.int64)
    held = np.zeros(P, np.int64)
    armed = np.ones(P, np.bool_)
    size_a = np.zeros(P)
    o_active = np.zeros(P, np.bool_)
    o_start = np.zeros(P, np.int64)
    o_tgt = np.zeros((P, 2))
    o_sig = np.zeros(P, np.int64)

    sig_cap = s_t.shape[0]
    fill_cap = f_t.shape[0]
    ns = 0
    nf = 0

    for t in range(T):
        # ---- 1. fills at the open of bar t -------------------------------------------------
        # (the four-way "both legs have a bar" test is written out twice on purpose: moving it into
        # an inlined @njit helper cost 35-60 % of throughput in benchmarks/bench_backtest.py)
        for p in range(P):
            if not o_active[p] or o_start[p] > t:
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
                part = qty / vol if (math.isfinite(vol) and vol > 0.0) else 1.0
                slip = fixed_bps
                if impact_k > 0.0:
                    slip = slip + impact_k * part**impact_alpha
                price = ref * (1.0 + side * slip * 1e-4)
                gross = qty * price
                comm = max(per_share * qty, min_fee) + fee_bps * 1e-4 * gross
                cash = cash - (side * gross + comm)
                pos[p, leg] = pos[p, leg] + side * qty
                if nf >= fill_cap:
                    return -1, -1
                f_t[nf] = t
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
        for p in range(P):
            if math.isfinite(close_a[t, p]) and math.isfinite(open_a[t, p]):
                last[p, 0] = close_a[t, p]
            if math.isfinite(close_b[t, p]) and math.isfinite(open_b[t, p]):
                last[p, 1] = close_b[t, p]
            if pos[p, 0] != 0.0:
                pv = pv + pos[p, 0] * last[p, 0]
            if pos[p, 1] != 0.0:
                pv = pv + pos[p, 1] * last[p, 1]
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
            s_t[ns] = t
            s_p[ns] = p
            s_dir[ns] = new
            s_size[ns] = sz
            s_beta[ns] = b
            s_z[ns] = zz
            s_reason[ns] = reason
            o_active[p] = True
            o_start[p] = t + latency
            o_tgt[p, 0] = tgt_a
            o_tgt[p, 1] = tgt_b
            o_sig[p] = ns
            ns += 1
            state[p] = new

    return ns, nf
