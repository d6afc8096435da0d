"""Benchmark: the HDF5 tier against the Parquet tier on the default data (spec §7.3 vs §7.1).

Run on demand: ``.venv/bin/python benchmarks/bench_hdf5.py [--store data/bars_adjusted]
[--repeat 3]``. Reads the project's ``bars_adjusted`` store (the default synthetic data after
``make run``: 30 symbols x 80 sessions x 390 one-minute bars) -- or any bars store given with
``--store`` -- into memory, then for each tier, in the same run and on the same frame:

- write: the whole frame into an empty store (durable writes, the default ``fsync=True``);
- size: bytes on disk;
- full read: every column of every bar;
- one symbol, one week: ``symbols=[...]``, a 5-day ``start``/``end`` range, every column;
- one column: ``symbol, datetime, close`` of every bar;
- rewrite: the same frame again (``mode="merge"``: read, merge, rewrite each unit).

Prints seconds (best of ``--repeat``), MB and the HDF5/Parquet ratio of each figure. Wall-clock
numbers depend on machine load: compare the ratios.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import best_of  # noqa: E402


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def main() -> int:

    from statarb.storage.hdf5_store import scan_hdf5, write_hdf5
    from statarb.storage.parquet_store import scan_store, write_partitions
    from statarb.storage.resolver import load_project, scan_entry

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--store", default=None, help="a Parquet bars store (default: the project's)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if args.store:
        frame = scan_store(args.store, "bars").collect()
    else:
        frame = scan_entry(load_project(".").store("bars_adjusted")).collect()
    if frame.height == 0:
        print("no bars: run `make run` first or pass --store <a bars store>")
        return 1
    frame = frame.sort("symbol", "datetime")
    sym = frame["symbol"].unique().sort()[0]
    day0 = frame["datetime"].min().date() + dt.timedelta(days=20)
    week = {"symbols": [sym], "start": day0, "end": day0 + dt.timedelta(days=6)}
    print(
        f"bars: {frame.height:,} rows, {frame['symbol'].n_unique()} symbols, "
        f"{frame['datetime'].dt.date().n_unique()} UTC days"
    )
    tiers = {
        "parquet": (write_partitions, scan_store),
        "hdf5": (write_hdf5, scan_hdf5),
    }
    results: dict[str, dict[str, float]] = {}
    tmp = Path(tempfile.mkdtemp(prefix="bench_hdf5_"))
    try:
        for name, (write, scan) in tiers.items():
            root = tmp / name
            r: dict[str, float] = {}
            r["write_s"] = best_of(
                lambda w=write, root=root: w(frame, root, "bars"),
                args.repeat,
                setup=lambda root=root: shutil.rmtree(root, ignore_errors=True),
            )
            r["size_mb"] = _size(root) / 1e6
            n = scan(root, "bars").collect().height
            assert n == frame.height, (name, n)
            r["full_read_s"] = best_of(
                lambda s=scan, root=root: s(root, "bars").collect(), args.repeat
            )
            r["week_read_s"] = best_of(
                lambda s=scan, root=root: s(root, "bars", **week).collect(), args.repeat
            )
            r["column_read_s"] = best_of(
                lambda s=scan, root=root: s(
                    root, "bars", columns=["symbol", "datetime", "close"]
                ).collect(),
                args.repeat,
            )
            r["rewrite_s"] = best_of(lambda w=write, root=root: w(frame, root, "bars"), args.repeat)
            results[name] = r
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'figure':16s} {'parquet':>10s} {'hdf5':>10s} {'hdf5/parquet':>13s}")
    for key in results["parquet"]:
        p, h = results["parquet"][key], results["hdf5"][key]
        print(f"{key:16s} {p:10.3f} {h:10.3f} {h / p:13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
