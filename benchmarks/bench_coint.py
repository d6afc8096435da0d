"""Benchmark: Engle-Granger batch kernel vs a statsmodels ``coint`` loop, and the cost of the
selection funnel over the test alone, measured in one run.

1. All pairs of 50 synthetic symbols x 2,000 bars (1,225 pairs), ``autolag="aic"`` with
   statsmodels' default maxlag. statsmodels is timed on a random subset of pairs and extrapolated
   linearly to all pairs (stated in the output). Numba compile / cache-load time is reported
   separately.
2. Walk-forward screening on the default synthetic market (``statarb generate`` in memory: 30
   symbols, 82 sessions, 98 within-sector pairs, a test at every session close on the trailing
   7,800 bars, the shipped ``parameters_alpha.yml``): the test alone (the Engle-Granger batch on
   every window, what screening computed before the funnel) against the whole funnel (windows,
   degenerate checks, test, spread quality, decision). Run:

    .venv/bin/python benchmarks/bench_coint.py [--symbols 50] [--bars 2000] [--subset 60]
        [--days 252] [--screening-only]

   Section 2 also times the funnel with ``tests: [eg]`` only, so the cost of the shipped second
   test (Johansen) is measured in the same run, and without the shipped confirmation stage
   (``selection.confirmation.max_shared: null``), so its cost is measured too.
"""

from __future__ import annotations

import argparse
import itertools
import os
import time
import warnings

# one BLAS thread: statsmodels' small pinv/OLS calls are slower with thread pools, and the
# comparison is per core
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numba  # noqa: E402
import numpy as np  # noqa: E402
from statsmodels.tsa.stattools import coint  # noqa: E402
from timing import best_of  # noqa: E402

from statarb.alpha.engle_granger import engle_granger_batch  # noqa: E402


def make_prices(n_symbols: int, n_bars: int, seed: int = 0) -> np.ndarray:
    """Random walks with a few common factors, so some pairs are cointegrated."""
    rng = np.random.default_rng(seed)
    factors = np.cumsum(rng.normal(size=(n_bars, 5)), axis=0)
    load = rng.normal(size=(5, n_symbols))
    idio = np.cumsum(rng.normal(scale=0.3, size=(n_bars, n_symbols)), axis=0)
    noise = rng.normal(scale=0.5, size=(n_bars, n_symbols))
    use_idio = rng.random(n_symbols) < 0.5
    return 100.0 + factors @ load + idio * use_idio + noise


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--symbols", type=int, default=50)
    ap.add_argument("--bars", type=int, default=2000)
    ap.add_argument("--subset", type=int, default=60, help="pairs timed with statsmodels")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--days", type=int, default=None, help="sessions of the screened market")
    ap.add_argument("--screening-only", action="store_true", help="skip section 1")
    args = ap.parse_args()
    if args.screening_only:
        screening_section(args.repeat, args.days)
        return

    px = make_prices(args.symbols, args.bars)
    pairs = list(itertools.combinations(range(args.symbols), 2))
    ys = np.asfortranarray(px[:, [a for a, _ in pairs]])
    xs = np.asfortranarray(px[:, [b for _, b in pairs]])
    n_pairs = len(pairs)
    threads = numba.get_num_threads()

    t0 = time.perf_counter()
    engle_granger_batch(ys[:, :2], xs[:, :2])
    compile_s = time.perf_counter() - t0

    out = engle_granger_batch(ys, xs)
    batch_s = best_of(lambda: engle_granger_batch(ys, xs), args.repeat)
    numba.set_num_threads(1)
    batch1_s = best_of(lambda: engle_granger_batch(ys, xs), args.repeat)
    numba.set_num_threads(threads)

    rng = np.random.default_rng(1)
    subset = rng.choice(n_pairs, size=min(args.subset, n_pairs), replace=False)
    ref = np.empty((subset.size, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        for i, j in enumerate(subset):
            r = coint(ys[:, j], xs[:, j], autolag="aic")
            ref[i] = r[0], r[1]
        sm_s = time.perf_counter() - t
    sm_per_pair = sm_s / subset.size

    d_stat = np.max(np.abs(out["stat"][subset] - ref[:, 0]))
    d_rel = np.max(np.abs(out["stat"][subset] - ref[:, 0]) / np.abs(ref[:, 0]))
    d_p = np.max(np.abs(out["pvalue"][subset] - ref[:, 1]))

    print(
        f"pairs: {n_pairs} ({args.symbols} symbols x {args.bars} bars), autolag=AIC, maxlag default"
    )
    print(f"numba first call (compile or cache load): {compile_s:.2f} s")
    print(
        f"batch, {threads} threads : {batch_s * 1e3:8.1f} ms total, {batch_s / n_pairs * 1e3:.3f} ms/pair"
    )
    print(
        f"batch, 1 thread   : {batch1_s * 1e3:8.1f} ms total, {batch1_s / n_pairs * 1e3:.3f} ms/pair/core"
    )
    print(
        f"statsmodels coint : {sm_per_pair * 1e3:.2f} ms/pair (timed on {subset.size} pairs, "
        f"extrapolated to {n_pairs}: {sm_per_pair * n_pairs:.1f} s)"
    )
    print(
        f"speed-up: {sm_per_pair / (batch1_s / n_pairs):.0f}x per core, {sm_per_pair / (batch_s / n_pairs):.0f}x all threads"
    )
    print(
        f"max |stat diff| {d_stat:.2e} (rel {d_rel:.2e}), max |p-value diff| {d_p:.2e} on the subset"
    )
    screening_section(args.repeat, args.days)


def screening_section(repeat: int, days: int | None) -> None:
    """Section 2 of the module docstring."""
    from datetime import UTC, datetime, timedelta
    from pathlib import Path

    import polars as pl

    from statarb.alpha.config import AlphaConfig
    from statarb.alpha.schedule import build_schedule
    from statarb.alpha.screening import _window_rows, screen_pairs
    from statarb.config_loader import resolved_parameters
    from statarb.synthetic.config import load_config
    from statarb.synthetic.generator import build

    conf = Path(__file__).resolve().parents[1] / "conf" / "base"
    params = resolved_parameters(str(conf.parent))["alpha"]
    cfg = AlphaConfig.from_params(params, "alpha")
    eg_only = {**params, "screening": {**params["screening"], "tests": ["eg"]}}
    cfg_eg = AlphaConfig.from_params(eg_only, "alpha")
    sel = params["selection"]
    unconfirmed = {**params, "selection": {**sel, "confirmation": {**sel["confirmation"],
                                                                   "max_shared": None}}}  # fmt: skip
    cfg_nocf = AlphaConfig.from_params(unconfirmed, "alpha")
    m = build(load_config(conf / "parameters_synthetic.yml").with_overrides(n_days=days)).market
    syms = list(m.symbols)
    pairs = [
        (f"{a}_{b}", a, b)
        for i, a in enumerate(syms)
        for j, b in enumerate(syms)
        if a < b and m.sectors[i] == m.sectors[j]
    ]
    times = np.asarray(m.clock.utc_us, dtype=np.int64)
    panel = pl.DataFrame(
        {"datetime": pl.Series(times).cast(pl.Datetime("us", "UTC")),
         **{s: m.close[:, k] for k, s in enumerate(syms)}}
    )  # fmt: skip
    sched = build_schedule(panel["datetime"], cfg.schedule, timedelta(minutes=1)).to_list()
    w = cfg.screening.window_bars
    col = {s: k for k, s in enumerate(syms)}
    valid = np.isfinite(m.close)
    ends = np.searchsorted(times + 60_000_000, [int(t.timestamp() * 1e6) for t in sched], "right")

    def test_alone() -> int:
        n_tests = 0
        for end in ends:
            rows = [
                _window_rows(valid[:, col[a]], valid[:, col[b]], int(end), w) for _, a, b in pairs
            ]
            if rows[0].size < w:
                continue
            y = np.column_stack(
                [m.close[r, col[a]] for r, (_, a, _) in zip(rows, pairs, strict=True)]
            )
            x = np.column_stack(
                [m.close[r, col[b]] for r, (_, _, b) in zip(rows, pairs, strict=True)]
            )
            engle_granger_batch(y, x)
            n_tests += len(pairs)
        return n_tests

    now = datetime(2030, 1, 1, tzinfo=UTC)
    n_tests = test_alone()
    screen_pairs(panel, pairs, sched, cfg, now)
    t_test = best_of(test_alone, repeat)
    t_funnel = best_of(lambda: screen_pairs(panel, pairs, sched, cfg, now), repeat)
    t_funnel_eg = best_of(lambda: screen_pairs(panel, pairs, sched, cfg_eg, now), repeat)
    t_funnel_nocf = best_of(lambda: screen_pairs(panel, pairs, sched, cfg_nocf, now), repeat)
    print(f"\nscreening: {len(pairs)} pairs x {len(sched)} session closes, window {w} bars, "
          f"{n_tests} full-window pair-tests, {numba.get_num_threads()} threads")  # fmt: skip
    print(
        f"test alone (EG on every window) : {t_test:6.2f} s, {t_test / n_tests * 1e3:.3f} ms/pair-test"
    )
    print(
        f"whole funnel (shipped config)   : {t_funnel:6.2f} s, {t_funnel / n_tests * 1e3:.3f} ms/pair-test"
    )
    print(
        f"funnel, tests [eg] only         : {t_funnel_eg:6.2f} s, {t_funnel_eg / n_tests * 1e3:.3f} ms/pair-test"
    )
    print(
        f"funnel / test alone             : {t_funnel / t_test:.2f}x (shipped tests {cfg.screening.tests})"
    )
    print(
        f"funnel, no confirmation         : {t_funnel_nocf:6.2f} s, {t_funnel_nocf / n_tests * 1e3:.3f} ms/pair-test"
    )
    print(f"funnel [eg] only / test alone   : {t_funnel_eg / t_test:.2f}x")
    print(f"funnel / funnel without confirm.: {t_funnel / t_funnel_nocf:.2f}x")


if __name__ == "__main__":
    main()
