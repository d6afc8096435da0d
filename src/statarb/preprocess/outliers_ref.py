"""Reference twins of the Hampel return kernel (:mod:`statarb.preprocess.outliers`).

* :func:`hampel_return_ref`: plain Python from the definition, ``statistics.median`` of a list;
* :func:`hampel_return_partition_nb`: the numba kernel as it was before 2026-12-04, two
  ``np.median`` (copy + selection) of the window per bar, where the shipped kernel keeps the window
  sorted and merges the deviations (``benchmarks/bench_hampel.py`` times the three).

The tests require all three to give the same flags.
"""

from __future__ import annotations

import math
import statistics

import numpy as np
from numba import njit

from statarb.preprocess.outliers import MAD_SCALE


def hampel_return_ref(
    x: list[float], sym, sess, window: int, k: float, min_periods: int, floor_rel: float
) -> list[int]:
    """Hampel identifier on log-returns against the last accepted close, written directly from
    the definition in :mod:`statarb.preprocess.outliers` (``statistics.median`` over a list)."""
    out, accepted, ref, prev_flag = [], [], None, False
    for i in range(len(x)):
        if i == 0 or sym[i] != sym[i - 1]:
            accepted = []
        if i == 0 or sym[i] != sym[i - 1] or sess[i] != sess[i - 1]:
            ref, prev_flag = x[i], False
            out.append(0)
            continue
        r = math.log(x[i] / ref)
        w = accepted[-window:]
        flag = False
        if len(w) >= min_periods:
            med = statistics.median(w)
            scale = max(MAD_SCALE * statistics.median([abs(v - med) for v in w]), floor_rel)
            if abs(r - med) > k * scale:
                step = math.log(x[i] / x[i - 1])
                flag = not (prev_flag and abs(step - med) <= k * scale)
                if not flag:
                    r = step
        out.append(int(flag))
        if not flag:
            accepted.append(r)
            ref = x[i]
        prev_flag = flag
    return out


@njit(cache=True)
def hampel_return_partition_nb(x, new_symbol, new_session, window, k, min_periods, floor_rel):
    """The return kernel's arguments and flags, with ``np.median`` of a copy of the window."""
    n = x.size
    out = np.zeros(n, np.int8)
    buf = np.empty(window)  # ring buffer of accepted log-returns
    tmp = np.empty(window)
    cnt = 0
    pos = 0
    ref = 0.0
    prev_flag = False
    for i in range(n):
        if new_symbol[i]:
            cnt = 0
            pos = 0
        if new_symbol[i] or new_session[i]:
            ref = x[i]
            prev_flag = False
            continue
        r = np.log(x[i] / ref)
        flag = False
        if cnt >= min_periods:
            for j in range(cnt):
                tmp[j] = buf[j]
            med = np.median(tmp[:cnt])
            for j in range(cnt):
                tmp[j] = abs(buf[j] - med)
            scale = MAD_SCALE * np.median(tmp[:cnt])
            if scale < floor_rel:
                scale = floor_rel
            if abs(r - med) > k * scale:
                flag = True
                step = np.log(x[i] / x[i - 1])
                if prev_flag and abs(step - med) <= k * scale:
                    flag = False  # level shift confirmed: accept this bar as the new level
                    r = step
        if flag:
            out[i] = 1
            prev_flag = True
        else:
            buf[pos] = r
            pos = (pos + 1) % window
            if cnt < window:
                cnt += 1
            ref = x[i]
            prev_flag = False
    return out
