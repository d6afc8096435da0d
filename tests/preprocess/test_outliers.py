"""Hampel filter: equality with a plain-Python reference, recall on spikes, FPR on clean data."""

from __future__ import annotations

import datetime as dt
import math
import statistics

import numpy as np
import polars as pl
import pytest

from statarb.preprocess import flag_outliers, hampel_flags
from statarb.preprocess.outliers import _run_starts
from statarb.preprocess.outliers_ref import hampel_return_partition_nb
from statarb.preprocess.outliers_ref import hampel_return_ref as ref_return


def ref_level(x, sym, sess, window, k, min_periods, floor_rel, centered):
    """Textbook Hampel identifier on levels, written directly from its definition."""
    out = []
    n = len(x)
    for i in range(n):
        same = [j for j in range(n) if sym[j] == sym[i] and sess[j] == sess[i]]
        if centered:
            idx = [j for j in same if abs(j - i) <= window // 2]
        else:
            idx = [j for j in same if i - window < j <= i]
        if len(idx) < min_periods:
            out.append(0)
            continue
        w = [x[j] for j in idx]
        med = statistics.median(w)
        scale = max(1.4826 * statistics.median([abs(v - med) for v in w]), floor_rel * abs(med))
        out.append(int(abs(x[i] - med) > k * scale))
    return out


def _random_prices(rng, n, n_sym=3, n_sess=4, heavy=True):
    sym = np.sort(rng.integers(0, n_sym, n))
    sess = np.concatenate(
        [np.sort(rng.integers(0, n_sess, (sym == s).sum())) + 10 * s for s in range(n_sym)]
    )
    r = rng.standard_t(3, n) * 0.002 if heavy else rng.standard_normal(n) * 0.002
    x = 100 * np.exp(np.cumsum(r))
    x[rng.choice(n, 8, replace=False)] *= 1.05  # a few spikes
    x[50:70] = x[50]  # a flat stretch: MAD = 0, the floor decides
    return x, sym, sess


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("seed", [1, 2])
def test_level_method_equals_reference(seed, centered):
    rng = np.random.default_rng(seed)
    x, sym, sess = _random_prices(rng, 400)
    got = hampel_flags(
        x,
        sym,
        sess,
        method="level",
        window=9,
        k=3.0,
        min_periods=5,
        floor_rel=1e-4,
        centered=centered,
    )
    want = ref_level(list(x), sym, sess, 9, 3.0, 5, 1e-4, centered)
    assert got.dtype == np.int8
    assert got.tolist() == want
    assert 0 < sum(want) < 400  # the comparison is not vacuous


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_return_method_equals_reference(seed):
    rng = np.random.default_rng(seed)
    x, sym, sess = _random_prices(rng, 600)
    x[300:] *= 1.08  # a level shift inside a session
    got = hampel_flags(
        x, sym, sess, method="return", window=15, k=4.0, min_periods=5, floor_rel=1e-5
    )
    want = ref_return(list(x), sym, sess, 15, 4.0, 5, 1e-5)
    assert got.tolist() == want
    assert sum(want) > 0
    got_ns = hampel_flags(
        x, sym, None, method="return", window=15, k=4.0, min_periods=5, floor_rel=1e-5
    )
    assert got_ns.tolist() == ref_return(list(x), sym, np.zeros_like(sym), 15, 4.0, 5, 1e-5)


@pytest.mark.parametrize("seed", [6, 7])
def test_return_method_equals_reference_at_the_shipped_window(seed):
    """The sorted-window kernel at window 31 / min_periods 10 on a long series with ticks (many
    equal returns, so removals and medians meet ties), spikes, level shifts and session starts."""
    rng = np.random.default_rng(seed)
    x, sym, sess = _random_prices(rng, 4000, n_sym=2, n_sess=6)
    x = np.round(x, 2)  # one-cent ticks: equal returns, zero MADs
    x[2000:] *= 1.1
    got = hampel_flags(x, sym, sess, method="return", window=31, k=6.0, min_periods=10)
    want = ref_return(list(x), sym, sess, 31, 6.0, 10, 1e-5)
    assert got.tolist() == want
    assert sum(want) > 0
    starts_sym, starts_sess = _run_starts(sym), _run_starts(sess)
    old = hampel_return_partition_nb(x, starts_sym, starts_sess, 31, 6.0, 10, 1e-5)
    assert old.tolist() == want


def _session_frame(rng, n_days=20, per=390, sigma_day=0.015):
    """Clean 1-min geometric random walk, 390 bars a session, one symbol."""
    sig = sigma_day / math.sqrt(per)
    x = 100 * np.exp(np.cumsum(rng.standard_normal(n_days * per) * sig))
    start = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)
    times = [start + dt.timedelta(days=d, minutes=m) for d in range(n_days) for m in range(per)]
    return pl.DataFrame({"symbol": "AAA", "datetime": times, "close": x}), sig


def test_recall_on_injected_spikes_and_fpr_on_clean_data():
    rng = np.random.default_rng(11)
    clean, sig = _session_frame(rng)
    flags = flag_outliers(clean)["outlier_flag"]
    fpr = flags.mean()
    assert fpr < 0.001, f"false-positive rate {fpr:.4%} on clean data"
    # inject 60 one-bar spikes of 8-15 sigma (away from each session's first 12 bars)
    per = 390
    cand = np.array([i for i in range(clean.height) if i % per >= 12])
    idx = np.sort(rng.choice(cand, 60, replace=False))
    x = clean["close"].to_numpy().copy()
    x[idx] *= np.exp(rng.choice([-1, 1], 60) * rng.uniform(8, 15, 60) * sig)
    spiked = flag_outliers(clean.with_columns(pl.Series("close", x)))["outlier_flag"].to_numpy()
    recall = spiked[idx].mean()
    assert recall >= 0.95, f"recall {recall:.2%}"
    others = np.delete(spiked, idx).mean()
    assert others < 0.002, f"false positives beside spikes {others:.4%}"


def test_trailing_flag_uses_no_future_bars():
    rng = np.random.default_rng(5)
    df, _ = _session_frame(rng, n_days=2)
    full = flag_outliers(df)["outlier_flag"].to_numpy()
    head = flag_outliers(df.head(500))["outlier_flag"].to_numpy()
    assert (full[:500] == head).all()


def test_bad_arguments():
    with pytest.raises(ValueError, match="window must be >= 3"):
        hampel_flags(np.ones(5), np.zeros(5), window=2)
    with pytest.raises(ValueError, match="only defined for method='level'"):
        hampel_flags(np.ones(5), np.zeros(5), centered=True)
    with pytest.raises(ValueError, match="strictly positive"):
        hampel_flags(np.array([1.0, -1.0, 2.0]), np.zeros(3))
