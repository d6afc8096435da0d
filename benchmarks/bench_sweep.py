"""Throughput of the one-pass sweep kernel vs the engine looped per configuration and vectorbt.

Run from the project root (on demand; not part of the test suite)::

    .venv/bin/python benchmarks/bench_sweep.py              # 96 configs x 4 pairs x 10k bars
    .venv/bin/python benchmarks/bench_sweep.py --quick      # smaller, for a smoke run
    .venv/bin/python benchmarks/bench_sweep.py --kedro      # also: `kedro run --pipelines sweep`
                                                            # vs `--pipelines backtest` (ratio)

Rate = configurations x pair-bars per second. Timed in one invocation:

* **one-pass kernel** (:func:`statarb.sweep.runner.sweep_equity`): every configuration in one
  pass over the bars;
* **engine per configuration**: :func:`statarb.backtest.engine.run_numba` once per configuration
  (the same results, bit for bit - ``tests/sweep``);
* **vectorbt** ``Portfolio.from_signals`` on the same grid: the engine's signals of every
  configuration, as long/short entries and exits of both legs (the replay of
  ``benchmarks/bench_backtest.py``), one column pair per (configuration, pair), cash shared per
  configuration (``group_by``), all configurations in ONE call. vectorbt is given the signals
  (their generation is not timed), so this is its simulation speed on the grid. It runs under
  ``$BENCH_PYTHON``, else ``.venv-bench/bin/python``, else this interpreter if vectorbt imports
  (``requirements-bench.lock``); otherwise it is skipped and said so.

With ``--kedro`` the script also times ``kedro run --pipelines backtest`` and ``kedro run
--pipelines sweep`` on the project's data (run ``statarb generate`` and ``kedro run`` first), back
to back, and prints the ratio (issue 13: a default sweep of >= 100 configurations within 3x one
backtest run).
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
sys.path.insert(0, str(ROOT / "benchmarks"))


def time_vectorbt(path: str) -> dict:
    """vectorbt on the grid's signals (runs under the bench interpreter; no statarb import)."""
    import pandas as pd
    import vectorbt as vbt
    from bench_backtest import _leg_signals

    d = dict(np.load(path))
    T, P = d["open_a"].shape
    C = int(d["n_configs"])
    cols = 2 * P * C
    opens, closes = np.empty((T, cols)), np.empty((T, cols))
    le, lx, se, sx = (np.zeros((T, cols), bool) for _ in range(4))
    for c in range(C):
        m = d["sig_c"] == c
        a, b, x, y = _leg_signals(d["sig_t"][m], d["sig_p"][m], d["sig_dir"][m], T, P)
        s = slice(2 * P * c, 2 * P * (c + 1))
        opens[:, s][:, 0::2], opens[:, s][:, 1::2] = d["open_a"], d["open_b"]
        closes[:, s][:, 0::2], closes[:, s][:, 1::2] = d["close_a"], d["close_b"]
        le[:, s], lx[:, s], se[:, s], sx[:, s] = a, b, x, y
    sh = lambda x: np.vstack([np.zeros((1, x.shape[1]), bool), x[:-1]])  # noqa: E731
    idx = pd.date_range("2024-01-02 14:30", periods=T, freq="min")
    groups = np.repeat(np.arange(C), 2 * P)
    kwargs = dict(
        entries=sh(le), exits=sh(lx), short_entries=sh(se), short_exits=sh(sx),
        price=pd.DataFrame(opens, index=idx), size=100.0, fees=0.0001, slippage=0.0001,
        init_cash=1e6, cash_sharing=True, group_by=groups, freq="1min",
    )  # fmt: skip
    close = pd.DataFrame(closes, index=idx)
    rows = ("entries", "exits", "short_entries", "short_exits", "price")  # time axis only
    warm = {k: (v.iloc[:50] if hasattr(v, "iloc") else v[:50]) if k in rows else v
            for k, v in kwargs.items()}  # fmt: skip
    vbt.Portfolio.from_signals(close.iloc[:50], **warm).value()  # warm-up: numba compilation
    best = np.inf
    for _ in range(2):  # best of two (the first full-size call may still compile or cache)
        t0 = time.perf_counter()
        pf = vbt.Portfolio.from_signals(close, **kwargs)
        pf.value()
        best = min(best, time.perf_counter() - t0)
    return {"engine": "vectorbt from_signals", "seconds": best}


def ours(T: int, P: int, repeats: int, tmp: Path) -> tuple[list[dict], Path, int]:
    sys.path.insert(0, str(ROOT / "src"))
    from statarb.backtest.config import BacktestConfig, CostModel
    from statarb.backtest.engine import run_numba
    from statarb.backtest.synth import synthetic_inputs
    from statarb.sweep.grid import config_for, expand
    from statarb.sweep.lookbacks import stacks_from_inputs
    from statarb.sweep.params import GridParams
    from statarb.sweep.runner import sweep_equity

    base = BacktestConfig(
        max_holding_bars=390, max_gross_leverage=2.0,
        costs=CostModel(per_share=0.005, min_per_order=1.0, fixed_bps=1.0, impact_k_bps=10.0,
                        max_participation=0.1),
    )  # fmt: skip
    grid = GridParams(
        entry_z=[1.5, 2.0, 2.5], exit_z=[0.0, 0.5], stop_z=[3.5, 4.5], max_holding_bars=[195, 390],
        kalman_delta=[None], ou_window_bars=[None], cost_scale=[0.0, 1.0, 2.0, 4.0],
    )  # fmt: skip
    points = expand(grid)
    inputs = synthetic_inputs(T, P, seed=42, ou_phi=0.99, volume_mean=20_000)
    stacks = stacks_from_inputs({(None, None): inputs})
    small = stacks_from_inputs({(None, None): synthetic_inputs(100, 2, seed=1)})
    sweep_equity(points[:2], base, small)  # compile / load the caches
    run_numba(synthetic_inputs(100, 2, seed=1), base)
    one = loop = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        sweep_equity(points, base, stacks)
        one = min(one, time.perf_counter() - t0)
    sigs = []
    for _ in range(max(1, repeats - 1)):
        sigs = []
        t0 = time.perf_counter()
        for p in points:
            sigs.append(run_numba(inputs, config_for(base, p)))
        loop = min(loop, time.perf_counter() - t0)
    path = tmp / "grid.npz"
    np.savez(
        path, open_a=inputs.open_a, close_a=inputs.close_a, open_b=inputs.open_b,
        close_b=inputs.close_b, n_configs=len(points),
        sig_t=np.concatenate([r.sig_t for r in sigs]),
        sig_p=np.concatenate([r.sig_pair for r in sigs]),
        sig_dir=np.concatenate([r.sig_dir for r in sigs]),
        sig_c=np.concatenate([np.full(len(r.sig_t), c) for c, r in enumerate(sigs)]),
    )  # fmt: skip
    rows = [
        {"engine": "one-pass sweep kernel", "seconds": one},
        {"engine": "engine per config", "seconds": loop},
    ]
    return rows, path, len(points)


def kedro_ratio() -> None:
    """``kedro run --pipelines sweep`` vs ``--pipelines backtest``, back to back."""
    kedro = str(Path(sys.executable).with_name("kedro"))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = {}
    for name in ("backtest", "sweep", "backtest", "sweep"):
        t0 = time.perf_counter()
        proc = subprocess.run([kedro, "run", "--pipelines", name], cwd=ROOT, env=env,
                              capture_output=True, text=True)  # fmt: skip
        dt = time.perf_counter() - t0
        if proc.returncode != 0:
            print(f"kedro run --pipelines {name} failed:\n{proc.stderr[-2000:]}")
            return
        out.setdefault(name, []).append(dt)
        print(f"kedro run --pipelines {name:8s} {dt:7.2f} s", flush=True)
    b, s = min(out["backtest"]), min(out["sweep"])
    print(f"sweep / backtest (best of 2 each): {s:.2f} / {b:.2f} s = {s / b:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--bars", type=int, default=10_000)
    ap.add_argument("--pairs", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--kedro", action="store_true", help="also time the two kedro runs")
    ap.add_argument("--competitor", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.competitor:
        print(json.dumps(time_vectorbt(args.competitor)))
        return
    T, P = (2_000, 2) if args.quick else (args.bars, args.pairs)
    with tempfile.TemporaryDirectory() as tmp:
        rows, path, C = ours(T, P, args.repeats, Path(tmp))
        bench_py = os.environ.get("BENCH_PYTHON", str(ROOT / ".venv-bench" / "bin" / "python"))
        if not Path(bench_py).exists() and importlib.util.find_spec("vectorbt") is not None:
            bench_py = sys.executable
        if Path(bench_py).exists():
            proc = subprocess.run([bench_py, __file__, "--competitor", str(path)], cwd=ROOT,
                                  capture_output=True, text=True)  # fmt: skip
            if proc.returncode == 0:
                rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            else:
                print("vectorbt run failed:\n" + proc.stderr[-3000:])
        else:
            print(f"no bench interpreter at {bench_py} (see the docstring): vectorbt skipped")
    work = C * T * P
    ref = work / rows[0]["seconds"]
    print(f"\n{C} configurations x {P} pairs x {T} bars = {work:,} config-pair-bars")
    print(f"{'engine':24s} {'seconds':>9s} {'cfg x pair-bars/s':>18s} {'one-pass/them':>14s}")
    for r in rows:
        rate = work / r["seconds"]
        print(f"{r['engine']:24s} {r['seconds']:>9.3f} {rate:>18,.0f} {ref / rate:>13.1f}x")
    if args.kedro:
        print()
        kedro_ratio()


if __name__ == "__main__":
    main()
