"""Throughput of the numba backtest loop vs vectorbt ``Portfolio.from_signals`` and backtrader.

Run from the project root::

    .venv/bin/python benchmarks/bench_backtest.py            # full sizes (1 x 1M, 100 x 100k)
    .venv/bin/python benchmarks/bench_backtest.py --quick    # 10x smaller, for a smoke run

The competitors are benchmark-only dependencies pinned in ``requirements-bench.lock`` (they agree
with requirements.lock, so ``make bench`` may install them into ``.venv``). To keep them out of the
project venv, install them into a separate one instead::

    python3.11 -m venv .venv-bench && .venv-bench/bin/pip install -r requirements-bench.lock

Everything is timed in one invocation: this script runs our kernel in-process, writes the prices
and the kernel's signals to a temporary ``.npz`` and runs itself again with ``--competitors`` under
``$BENCH_PYTHON``, else ``.venv-bench/bin/python``, else this interpreter if vectorbt is
importable, to time vectorbt and backtrader on exactly those signals (entries/exits of both legs,
filled at the next bar's open). Without any of them only our loop is timed.

"Bars" are pair-bars (one bar of both legs of one pair). backtrader is an object-per-bar Python
engine (~10^4 bars/s), so it runs on a prefix of the data (``--bt-bars``) and its bars/s is
compared; vectorbt and our loop run on the full sizes. Ratios = our bars/s / their bars/s.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------------------------
# competitors (run under the bench venv: numpy, pandas, vectorbt, backtrader; no statarb import)
# --------------------------------------------------------------------------------------------
def _leg_signals(sig_t, sig_p, sig_dir, T, P):
    """Per leg column (A0, B0, A1, B1, ...): long/short entries and exits at the signal bar."""
    le, lx, se, sx = (np.zeros((T, 2 * P), dtype=bool) for _ in range(4))
    state = np.zeros(P, dtype=np.int64)
    for t, p, d in zip(sig_t, sig_p, sig_dir, strict=True):
        prev = state[p]
        for leg, sign in ((0, 1), (1, -1)):  # long spread = long A, short B
            c = 2 * p + leg
            if prev * sign > 0:
                lx[t, c] = True
            elif prev * sign < 0:
                sx[t, c] = True
            if d * sign > 0:
                le[t, c] = True
            elif d * sign < 0:
                se[t, c] = True
        state[p] = d
    return le, lx, se, sx


def time_vectorbt(d: dict, label: str) -> dict:
    import pandas as pd
    import vectorbt as vbt

    T, P = d["open_a"].shape
    opens = np.empty((T, 2 * P))
    closes = np.empty((T, 2 * P))
    opens[:, 0::2], opens[:, 1::2] = d["open_a"], d["open_b"]
    closes[:, 0::2], closes[:, 1::2] = d["close_a"], d["close_b"]
    le, lx, se, sx = _leg_signals(d["sig_t"], d["sig_p"], d["sig_dir"], T, P)
    # decide at bar t, fill at the open of t+1: shift the signals by one bar
    sh = lambda x: np.vstack([np.zeros((1, x.shape[1]), bool), x[:-1]])  # noqa: E731
    idx = pd.date_range("2024-01-02 14:30", periods=T, freq="min")
    close = pd.DataFrame(closes, index=idx)
    price = pd.DataFrame(opens, index=idx)
    kwargs = dict(
        entries=sh(le), exits=sh(lx), short_entries=sh(se), short_exits=sh(sx),
        price=price, size=100.0, fees=0.0001, slippage=0.0001, init_cash=1e6,
        cash_sharing=True, group_by=True, freq="1min",
    )  # fmt: skip
    vbt.Portfolio.from_signals(close, **kwargs).value()  # warm-up: numba compilation
    t0 = time.perf_counter()
    pf = vbt.Portfolio.from_signals(close, **kwargs)
    pf.value()
    dt = time.perf_counter() - t0
    return {"engine": "vectorbt", "case": label, "bars": T * P, "seconds": dt}


def time_backtrader(d: dict, label: str, max_bars: int) -> dict:
    import backtrader as bt
    import pandas as pd

    T_full, P = d["open_a"].shape
    T = min(T_full, max(1, max_bars // P))
    P_bt = P if max_bars >= T * P else 1
    keep = (d["sig_t"] < T) & (d["sig_p"] < P_bt)
    le, lx, se, sx = _leg_signals(d["sig_t"][keep], d["sig_p"][keep], d["sig_dir"][keep], T, P_bt)
    idx = pd.date_range("2024-01-02 14:30", periods=T, freq="min")

    class Replay(bt.Strategy):
        def next(self):
            t = len(self) - 1
            for c, data in enumerate(self.datas):
                if lx[t, c] or sx[t, c]:
                    self.close(data=data)
                if le[t, c]:
                    self.buy(data=data, size=100)
                elif se[t, c]:
                    self.sell(data=data, size=100)

    cerebro = bt.Cerebro(stdstats=False)
    for p in range(P_bt):
        for o, c in ((d["open_a"], d["close_a"]), (d["open_b"], d["close_b"])):
            df = pd.DataFrame(
                {"open": o[:T, p], "high": np.fmax(o[:T, p], c[:T, p]),
                 "low": np.fmin(o[:T, p], c[:T, p]), "close": c[:T, p], "volume": 1e6},
                index=idx,
            )  # fmt: skip
            cerebro.adddata(bt.feeds.PandasData(dataname=df))
    cerebro.addstrategy(Replay)
    cerebro.broker.setcash(1e6)
    cerebro.broker.setcommission(commission=0.0001)
    t0 = time.perf_counter()
    cerebro.run()
    dt = time.perf_counter() - t0
    return {"engine": "backtrader", "case": label, "bars": T * P_bt, "seconds": dt}


def competitors(npz_paths: list[str], bt_bars: int) -> None:
    out = []
    for path in npz_paths:
        d = dict(np.load(path))
        label = str(d["label"])
        for name in ("vectorbt", "backtrader"):
            try:
                if name == "vectorbt":
                    out.append(time_vectorbt(d, label))
                else:
                    out.append(time_backtrader(d, label, bt_bars))
            except Exception as exc:  # report, keep the other competitor
                out.append({"engine": "error", "case": label, "error": repr(exc)})
    print(json.dumps(out))


# --------------------------------------------------------------------------------------------
# our loop (project venv)
# --------------------------------------------------------------------------------------------
def ours(T: int, P: int, label: str, tmpdir: Path, repeats: int) -> tuple[dict, Path]:
    sys.path.insert(0, str(ROOT / "src"))
    from statarb.backtest.config import BacktestConfig, CostModel
    from statarb.backtest.engine import run_numba
    from statarb.backtest.synth import synthetic_inputs

    cfg = BacktestConfig(
        max_holding_bars=390, max_gross_leverage=2.0,
        costs=CostModel(per_share=0.005, min_per_order=1.0, fixed_bps=1.0, impact_k_bps=10.0,
                        max_participation=0.1),
    )  # fmt: skip
    inputs = synthetic_inputs(T, P, seed=42, ou_phi=0.99, volume_mean=20_000)
    run_numba(synthetic_inputs(100, 2, seed=1), cfg)  # compile / load the cache
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        raw = run_numba(inputs, cfg)
        best = min(best, time.perf_counter() - t0)
    path = tmpdir / f"case_{T}x{P}.npz"
    np.savez(
        path, label=label, open_a=inputs.open_a, close_a=inputs.close_a,
        open_b=inputs.open_b, close_b=inputs.close_b,
        sig_t=raw.sig_t, sig_p=raw.sig_pair, sig_dir=raw.sig_dir,
    )  # fmt: skip
    res = {"engine": "statarb numba", "case": label, "bars": T * P, "seconds": best,
           "signals": int(len(raw.sig_t)), "fills": int(len(raw.fill_t))}  # fmt: skip
    return res, path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="10x smaller cases")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--bt-bars", type=int, default=50_000, help="pair-bars given to backtrader")
    ap.add_argument("--competitors", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.competitors is not None:
        competitors(args.competitors, args.bt_bars)
        return
    scale = 10 if args.quick else 1
    cases = [
        (1_000_000 // scale, 1, "1 pair x 1M bars"),
        (100_000 // scale, 100, "100 pairs x 100k bars"),
    ]
    if args.quick:
        cases = [(t, p, label + " /10") for t, p, label in cases]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for T, P, label in cases:
            r, path = ours(T, P, label, Path(tmp), args.repeats)
            results.append(r)
            paths.append(str(path))
            print(f"ours  {label:28s} {r['bars'] / r['seconds']:>14,.0f} bars/s "
                  f"({r['seconds']:.3f} s, {r['signals']} signals, {r['fills']} fills)", flush=True)  # fmt: skip
        bench_py = os.environ.get("BENCH_PYTHON", str(ROOT / ".venv-bench" / "bin" / "python"))
        if not Path(bench_py).exists() and importlib.util.find_spec("vectorbt") is not None:
            bench_py = sys.executable  # competitors installed in this venv (make bench)
        if Path(bench_py).exists():
            cmd = [bench_py, __file__, "--bt-bars", str(args.bt_bars), "--competitors", *paths]
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            if proc.returncode != 0:
                print("competitor run failed:\n" + proc.stderr[-3000:])
            else:
                results += json.loads(proc.stdout.strip().splitlines()[-1])
        else:
            print(f"no bench interpreter at {bench_py}: see the module docstring to install "
                  "vectorbt/backtrader; timing our loop only")  # fmt: skip
    ours_rate = {
        r["case"]: r["bars"] / r["seconds"] for r in results if r["engine"].startswith("statarb")
    }
    print()
    print(
        f"{'engine':16s} {'case':28s} {'pair-bars':>12s} {'seconds':>9s} {'bars/s':>14s} {'ours/them':>10s}"
    )
    for r in results:
        if r["engine"] == "error":
            print(f"{'error':16s} {r['case']:28s} {r['error']}")
            continue
        rate = r["bars"] / r["seconds"]
        ratio = ours_rate[r["case"]] / rate
        print(f"{r['engine']:16s} {r['case']:28s} {r['bars']:>12,d} {r['seconds']:>9.3f} "
              f"{rate:>14,.0f} {ratio:>9.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()
