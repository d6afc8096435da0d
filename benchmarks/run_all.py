"""Run every benchmark in this folder, one subprocess each, and print their reports in order.

``make bench`` calls this. Each script measures this project against its reference
implementations in the same run and prints the ratios; see each script's docstring.
``--quick`` passes smaller sizes where a script supports them (a smoke run, not the figures).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS: dict[str, list[str]] = {
    "bench_kalman.py": [],
    "bench_ou.py": [],
    "bench_coint.py": [],
    "bench_backtest.py": [],
    "bench_ingest.py": [],
    "bench_sql_io.py": [],
    "bench_tearsheet.py": [],
    "bench_hampel.py": [],
}
QUICK_ARGS: dict[str, list[str]] = {
    "bench_kalman.py": ["--n", "20000", "--n-slow", "2000"],
    "bench_ou.py": ["--n", "20000"],
    "bench_coint.py": ["--symbols", "12", "--bars", "1000", "--subset", "10"],
    "bench_backtest.py": ["--quick"],
    "bench_ingest.py": ["--rows", "500000", "--ticks", "1000000"],
    "bench_sql_io.py": ["--n", "10000", "--repeat", "1"],
    "bench_tearsheet.py": ["20", "5000"],
    "bench_hampel.py": ["--symbols", "5", "--days", "20", "--ref-bars", "5000", "--repeat", "1"],
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smaller sizes (smoke run)")
    ap.add_argument("names", nargs="*", help="only these scripts (e.g. bench_kalman.py)")
    args = ap.parse_args()
    failed = []
    for name, extra in BENCHMARKS.items():
        if args.names and name not in args.names:
            continue
        cmd = [sys.executable, str(HERE / name), *(QUICK_ARGS[name] if args.quick else extra)]
        print(f"\n===== {name} {' '.join(cmd[2:])}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd, cwd=HERE.parent)
        print(f"===== {name}: exit {rc} after {time.perf_counter() - t0:.1f} s", flush=True)
        if rc:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
