"""Benchmark: every stage on growing synthetic universes - wall, CPU, peak RSS and growth exponents.

Run on demand (not in the test suite)::

    .venv/bin/python benchmarks/bench_scale.py --sizes 20x30,40x30,80x30 [--sizes-days 40x25,40x50]
        [--stages generate,ingestion,preprocessing,alpha,backtest,reporting] [--keep DIR]
        [--local-yaml FILE] [--universe-modes sector,all]

Each size ``NxD`` is ``statarb generate --symbols N --days D`` in a throw-away copy of the project
(``conf/``, ``src/``, ``pyproject.toml``; SQLite under its ``data/``), then one
``kedro run --pipelines <stage>`` per stage, each its own process, so the figures are per stage:
wall time, CPU time (user + system, including its waited-for children) and peak RSS
(``ru_maxrss`` from ``os.wait4``: the largest single process - with Dask, the largest of the
client and its workers). ``--local-yaml`` is copied to ``conf/local/`` (e.g. a
``compute:`` section with ``engine: dask``).

``--universe-modes`` runs the pair stages (alpha, backtest, reporting) of every size once per
``alpha.universe.mode`` (e.g. ``sector`` then ``all``: about four times the pairs on the same
symbols and bars), after one run of the stages before them.

At the end it fits, per stage, ``log(metric) = a + b log(pairs)`` over sizes that share ``D``
(the growth exponent in pairs at a fixed number of bars; more symbols, so the panel grows too),
``log(metric) = a + u log(pairs)`` over universe modes of one size (exponent in pairs at fixed
symbols and bars: only the pairs change) and ``log(metric) = a + c log(bars)`` over sizes that
share ``N`` (exponent in bars). Memory flat in pairs means ``u ~ 0`` (and ``b`` no more than the
panel's share).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STAGES = ("generate", "ingestion", "preprocessing", "alpha", "backtest", "reporting")
PAIR_STAGES = ("alpha", "backtest", "reporting")


def make_project(root: Path, local_yaml: Path | None) -> Path:
    """A copy of the project at ``root`` (SQLite store under ``root/data``)."""
    shutil.copytree(REPO / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    if local_yaml is not None:
        shutil.copy(local_yaml, root / "conf" / "local" / local_yaml.name)
    shutil.copytree(REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", ".telemetry"):
        if (REPO / name).exists():
            shutil.copy(REPO / name, root / name)
    (root / "data").mkdir()
    return root


def measured(args: list[str], cwd: Path, log: Path) -> dict[str, float]:
    """Run ``args``; wall seconds, CPU seconds and peak RSS (GiB) of its process tree."""
    env = {k: v for k, v in os.environ.items() if k != "STATARB_DB_URL"}
    t0 = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log.read_text()[-4000:]
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}); log {log}:\n{tail}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss / 2**20}


def counts(root: Path) -> tuple[int, int]:
    """(pairs in ``pair_universe``, rows of ``bars_adjusted``) of the project's store."""
    import polars as pl

    db = root / "data" / "statarb.db"
    pairs = 0
    if db.exists():
        with sqlite3.connect(db) as c:
            pairs = c.execute("SELECT count(*) FROM pair_universe").fetchone()[0]
    files = list((root / "data" / "bars_adjusted").rglob("*.parquet"))
    bars = pl.scan_parquet(files).select(pl.len()).collect().item() if files else 0
    return int(pairs), int(bars)


def _stage_args(stage: str, n: int, d: int) -> list[str]:
    if stage == "generate":
        return [str(BIN / "statarb"), "generate", "--symbols", str(n), "--days", str(d)]
    return [str(BIN / "kedro"), "run", "--pipelines", stage]


def run_size(
    n: int, d: int, stages: list[str], work: Path, local_yaml: Path | None, modes: list[str]
) -> list[dict]:
    """One record per universe mode: the stages before the pair stages run once (shared)."""
    root = make_project(work / f"s{n}_d{d}", local_yaml)
    front: dict = {}
    recs = []
    for mode in modes:
        rec: dict = {"symbols": n, "days": d, "mode": mode, "stages": {}}
        (root / "conf" / "local" / "parameters_universe.yml").write_text(
            f"alpha:\n  universe:\n    mode: {mode}\n"
        )
        for stage in stages:
            if stage not in PAIR_STAGES and stage in front:
                rec["stages"][stage] = front[stage]
                continue
            m = measured(_stage_args(stage, n, d), root, root / f"{stage}_{mode}.log")
            rec["stages"][stage] = m
            if stage not in PAIR_STAGES:
                front[stage] = m
            print(f"  {n:4d} x {d:3d} {mode:7s} {stage:14s} wall {m['wall']:8.1f}s  "
                  f"cpu {m['cpu']:8.1f}s  peak RSS {m['rss']:6.2f} GiB", flush=True)  # fmt: skip
        rec["pairs"], rec["bars"] = counts(root)
        recs.append(rec)
    return recs


def exponent(xs: list[float], ys: list[float]) -> float:
    """Slope of ``log y`` on ``log x`` (NaN with fewer than two distinct ``x``)."""
    if len(set(xs)) < 2:
        return float("nan")
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def _mean_exponents(groups: list[list[dict]], x: str, stage: str) -> tuple[float, float]:
    """Mean (wall, rss) exponents in ``x`` over the groups with at least two records."""
    fits = [(exponent([r[x] for r in g], [r["stages"][stage]["wall"] for r in g]),
             exponent([r[x] for r in g], [r["stages"][stage]["rss"] for r in g]))
            for g in groups if len(g) > 1]  # fmt: skip
    if not fits:
        return float("nan"), float("nan")
    return float(np.nanmean([f[0] for f in fits])), float(np.nanmean([f[1] for f in fits]))


def report(recs: list[dict], stages: list[str]) -> None:
    print("\nsymbols  days mode       pairs        bars  stage           wall s    cpu s  peak GiB")
    for r in recs:
        for s in stages:
            m = r["stages"][s]
            print(f"{r['symbols']:7d} {r['days']:5d} {r['mode']:7s} {r['pairs']:8d} {r['bars']:11d}"
                  f"  {s:14s}{m['wall']:8.1f} {m['cpu']:8.1f} {m['rss']:9.2f}")  # fmt: skip
    by_days, by_syms, by_size = defaultdict(list), defaultdict(list), defaultdict(list)
    for r in recs:
        by_days[(r["days"], r["mode"])].append(r)
        by_syms[(r["symbols"], r["mode"])].append(r)
        by_size[(r["symbols"], r["days"])].append(r)
    print(
        "\ngrowth exponents (log-log slope): b = in pairs at fixed days, u = in pairs at fixed "
        "symbols and days (universe modes), c = in bars at fixed symbols"
    )
    print("stage           b_wall  b_rss   u_wall  u_rss   c_wall  c_rss")
    for s in stages:
        bw, br = _mean_exponents(list(by_days.values()), "pairs", s)
        uw, ur = (
            _mean_exponents(list(by_size.values()), "pairs", s)
            if s in PAIR_STAGES
            else (float("nan"),) * 2
        )
        cw, cr = _mean_exponents(list(by_syms.values()), "bars", s)
        print(f"{s:14s} {bw:7.2f} {br:6.2f} {uw:8.2f} {ur:6.2f} {cw:8.2f} {cr:6.2f}")


def _sizes(text: str) -> list[tuple[int, int]]:
    return [tuple(int(v) for v in s.lower().split("x")) for s in text.split(",") if s]  # type: ignore[misc]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="20x30,40x30,80x30", help="NxD list: symbols x days")
    ap.add_argument("--sizes-days", default="", help="more NxD sizes (e.g. same N, growing D)")
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--keep", type=Path, default=None, help="work folder to keep (default: temp)")
    ap.add_argument("--local-yaml", type=Path, default=None)
    ap.add_argument("--universe-modes", default="sector", help="alpha.universe.mode list")
    args = ap.parse_args()
    stages = [s for s in args.stages.split(",") if s]
    unknown = set(stages) - set(STAGES)
    if unknown:
        ap.error(f"unknown stage(s) {sorted(unknown)}; choose from {STAGES}")
    sizes = _sizes(args.sizes) + _sizes(args.sizes_days)
    with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        print(f"work folder {work}; {os.cpu_count()} cores")
        modes = [m for m in args.universe_modes.split(",") if m]
        recs = [r for n, d in sizes for r in run_size(n, d, stages, work, args.local_yaml, modes)]
    report(recs, stages)


if __name__ == "__main__":
    main()
