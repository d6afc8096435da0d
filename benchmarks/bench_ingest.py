"""Benchmark: ingestion (parse + validate + write) and tick -> bar aggregation, vs plain pandas.

Run on demand: ``.venv/bin/python benchmarks/bench_ingest.py [--rows 5000000] [--ticks 10000000]
[--threads 1]``. Generates dev-contract raw bar CSVs (one file per day, a few bad rows injected) and
a tick frame in a temporary folder, then runs each stage in its own subprocess (so the peak RSS,
``resource.getrusage(RUSAGE_SELF).ru_maxrss``, belongs to that stage alone) with
``POLARS_MAX_THREADS=--threads``:

- ``statarb ingest``: :func:`statarb.ingest.parse_partitions` + :func:`statarb.ingest.validate` +
  :func:`statarb.storage.parquet_store.write_partitions` (bars layout, one file per UTC date,
  durable: ``fsync=True``, the default);
- ``pandas ingest``: the same steps written plainly with pandas (``read_csv``, ``to_datetime``,
  ``tz_localize``/``tz_convert``, the same rules, ``to_parquet`` per date) as the reference;
- ``statarb ticks->bars``: :func:`statarb.preprocess.ticks_to_bars` (one-pass Numba kernel for
  fixed intervals; one call on 1,000 ticks before the clock starts loads the compiled kernel
  from Numba's on-disk cache, or compiles it on the very first run after installation);
- ``pandas ticks->bars``: ``groupby([symbol, datetime.dt.floor("1min")]).agg(first/max/min/last/sum)``.

Prints rows/s per stage, the per-step split of the ingest, peak RSS, and the ratios measured in
this run. Wall-clock numbers depend on machine load: compare the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TZ = "America/New_York"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---- data generation -------------------------------------------------------------------------


def generate(folder: Path, rows: int, n_sym: int, n_ticks: int) -> dict:
    import datetime as dt

    import numpy as np
    import polars as pl

    rng = np.random.default_rng(0)
    per_day = n_sym * 390
    days = -(-rows // per_day)
    symbols = [f"S{i:03d}" for i in range(n_sym)]
    (folder / "bars").mkdir(parents=True)
    day = dt.date(2025, 1, 6)
    tod = np.array([f"{9 + (30 + m) // 60:02d}:{(30 + m) % 60:02d}:00" for m in range(390)])
    total = 0
    written = 0
    while written < days:
        if day.weekday() < 5:
            close = 100 * np.exp(np.cumsum(rng.normal(0, 5e-4, (n_sym, 390)), axis=1))
            opn = close * np.exp(rng.normal(0, 2e-4, close.shape))
            hi = np.maximum(opn, close) * 1.0005
            lo = np.minimum(opn, close) * 0.9995
            df = pl.DataFrame(
                {
                    "Ticker": np.repeat(symbols, 390),
                    "Date": day.isoformat(),
                    "Time": np.tile(tod, n_sym),
                    "Open": opn.ravel(),
                    "High": hi.ravel(),
                    "Low": lo.ravel(),
                    "Close": close.ravel(),
                    "Volume": rng.integers(100, 10_000, per_day).astype(float),
                }
            )
            df = df.with_columns(  # a few bad rows per file: negative close, duplicate row
                pl.when(pl.int_range(pl.len()) == 7)
                .then(-1.0)
                .otherwise(pl.col("Close"))
                .alias("Close")
            )
            df = pl.concat([df, df.slice(100, 1)])
            df.write_csv(folder / "bars" / f"BENCH_bars_{day:%Y%m%d}.csv")
            total += df.height
            written += 1
        day += dt.timedelta(days=1)
    t0 = dt.datetime(2025, 1, 6, 14, 30, tzinfo=dt.UTC)
    offs = np.sort(rng.integers(0, 6.5 * 3600 * 1_000_000, n_ticks))
    ticks = pl.DataFrame(
        {
            "symbol": rng.choice(symbols[:20], n_ticks),
            "datetime": pl.Series(offs).cast(pl.Duration("us")) + t0,
            "price": 100 + rng.normal(0, 1, n_ticks),
            "size": rng.integers(1, 500, n_ticks).astype(float),
        }
    )
    ticks.write_parquet(folder / "ticks.parquet")
    return {"bar_rows": total, "bar_files": written, "symbols": symbols, "ticks": n_ticks}


# ---- stages ----------------------------------------------------------------------------------


def _shipped_config():
    """The ``ingestion`` section of ``conf/base`` as ``kedro run`` resolves and validates it, so
    the benchmark measures the shipped configuration (every validation rule included)."""
    from kedro.config import OmegaConfigLoader

    from statarb.ingest import IngestionConfig
    from statarb.settings import CONFIG_LOADER_ARGS

    conf = Path(__file__).resolve().parents[1] / "conf"
    args = {**CONFIG_LOADER_ARGS, "default_run_env": "base"}
    loader = OmegaConfigLoader(str(conf), **args)
    return IngestionConfig.from_params(loader["parameters"]["ingestion"], "ingestion")


def stage_statarb_ingest(folder: Path, symbols: list[str]) -> dict:
    from statarb.ingest import RowChecks, parse_partitions, validate
    from statarb.storage.parquet_store import write_partitions

    cfg = _shipped_config()
    spec = cfg.active.bars  # the project's own config
    files = sorted((folder / "bars").glob("*.csv"))
    parts = {f.name: f.read_bytes() for f in files}  # disk read excluded from both sides
    t0 = time.perf_counter()
    df = parse_partitions(parts, spec)
    t1 = time.perf_counter()
    res = validate(df, "bars", symbols, RowChecks.for_source(cfg, spec))
    t2 = time.perf_counter()
    import polars as pl

    store = res.valid.select("symbol", "datetime", "open", "high", "low", "close", "volume")
    store = store.with_columns(pl.lit(1.0).alias("adj_factor"))
    write_partitions(store, folder / "store_statarb", "bars", source="bench")
    t3 = time.perf_counter()
    return {
        "rows": df.height,
        "valid": res.valid.height,
        "parse": t1 - t0,
        "validate": t2 - t1,
        "write": t3 - t2,
        "total": t3 - t0,
        "peak_mb": _peak_mb(),
    }


def stage_pandas_ingest(folder: Path, symbols: list[str]) -> dict:
    import numpy as np
    import pandas as pd

    files = sorted((folder / "bars").glob("*.csv"))
    blobs = {f.name: f.read_bytes() for f in files}
    import io

    t0 = time.perf_counter()
    frames = []
    for name, data in blobs.items():
        d = pd.read_csv(
            io.BytesIO(data),
            dtype={
                "Ticker": str,
                "Date": str,
                "Time": str,
                "Open": float,
                "High": float,
                "Low": float,
                "Close": float,
                "Volume": float,
            },
        )
        local = pd.to_datetime(d["Date"] + " " + d["Time"], format="%Y-%m-%d %H:%M:%S")
        utc = local.dt.tz_localize(TZ, ambiguous="raise", nonexistent="raise").dt.tz_convert("UTC")
        frames.append(
            pd.DataFrame(
                {
                    "source_file": name,
                    "source_row": np.arange(1, len(d) + 1),
                    "symbol": d["Ticker"].str.upper(),
                    "datetime": utc.astype("datetime64[us, UTC]"),
                    "open": d["Open"],
                    "high": d["High"],
                    "low": d["Low"],
                    "close": d["Close"],
                    "volume": d["Volume"],
                }
            )
        )
    df = pd.concat(frames, ignore_index=True)
    t1 = time.perf_counter()
    px = df[["open", "high", "low", "close"]].to_numpy()
    rule = np.full(len(df), "", dtype=object)
    checks = [
        ("unknown_symbol", ~df["symbol"].isin(symbols).to_numpy()),
        ("non_finite_price", ~np.isfinite(px).all(axis=1)),
        ("negative_price", (px < 0).any(axis=1)),
        ("high_lt_low", (df["high"] < df["low"]).to_numpy()),
        ("invalid_volume", (~np.isfinite(df["volume"]) | (df["volume"] < 0)).to_numpy()),
    ]
    for name, mask in checks:
        rule[(rule == "") & mask] = name
    value_cols = ["symbol", "datetime", "open", "high", "low", "close", "volume"]
    dup = df.duplicated(subset=value_cols, keep="first").to_numpy()
    rule[(rule == "") & dup] = "duplicate"
    ok_dt = df["datetime"].where(rule == "")
    prev = ok_dt.groupby(df["symbol"]).transform(lambda s: s.cummax().ffill().shift(1))
    rule[(rule == "") & (df["datetime"] <= prev).to_numpy()] = "non_increasing_datetime"
    valid = df[rule == ""]
    t2 = time.perf_counter()
    out = folder / "store_pandas"
    v = valid[value_cols].assign(adj_factor=1.0).sort_values(["symbol", "datetime"])
    for date, part in v.groupby(v["datetime"].dt.date):
        p = out / f"date={date}"
        p.mkdir(parents=True, exist_ok=True)
        part.to_parquet(p / "data.parquet", index=False)
    t3 = time.perf_counter()
    return {
        "rows": len(df),
        "valid": len(valid),
        "parse": t1 - t0,
        "validate": t2 - t1,
        "write": t3 - t2,
        "total": t3 - t0,
        "peak_mb": _peak_mb(),
    }


def stage_statarb_ticks(folder: Path) -> dict:
    import polars as pl

    from statarb.preprocess import ticks_to_bars

    ticks = pl.read_parquet(folder / "ticks.parquet")
    ticks_to_bars(ticks.head(1000), every="1m")  # kernel load/compile, outside the clock
    t0 = time.perf_counter()
    bars = ticks_to_bars(ticks, every="1m")
    t1 = time.perf_counter()
    return {"rows": ticks.height, "bars": bars.height, "total": t1 - t0, "peak_mb": _peak_mb()}


def stage_pandas_ticks(folder: Path) -> dict:
    import pandas as pd

    ticks = pd.read_parquet(folder / "ticks.parquet")
    t0 = time.perf_counter()
    t = ticks.sort_values(["symbol", "datetime"], kind="stable")
    g = t.groupby(["symbol", t["datetime"].dt.floor("1min")], sort=True)
    bars = g.agg(
        open=("price", "first"),
        high=("price", "max"),
        low=("price", "min"),
        close=("price", "last"),
        volume=("size", "sum"),
    )
    t1 = time.perf_counter()
    return {"rows": len(ticks), "bars": len(bars), "total": t1 - t0, "peak_mb": _peak_mb()}


STAGES = {
    "statarb_ingest": stage_statarb_ingest,
    "pandas_ingest": stage_pandas_ingest,
    "statarb_ticks": stage_statarb_ticks,
    "pandas_ticks": stage_pandas_ticks,
}


def run_stage(name: str, folder: Path, threads: int) -> dict:
    env = dict(os.environ, POLARS_MAX_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    out = subprocess.run(
        [sys.executable, __file__, "--stage", name, "--folder", str(folder)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=5_000_000, help="bar rows to ingest (>= 5M)")
    ap.add_argument("--symbols", type=int, default=50)
    ap.add_argument("--ticks", type=int, default=10_000_000)
    ap.add_argument("--threads", type=int, default=1, help="POLARS_MAX_THREADS of each stage")
    ap.add_argument("--stage", choices=sorted(STAGES), help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stage:
        folder = Path(args.folder)
        meta = json.loads((folder / "meta.json").read_text())
        fn = STAGES[args.stage]
        res = fn(folder, meta["symbols"]) if "ingest" in args.stage else fn(folder)
        print(json.dumps(res))
        return
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        meta = generate(folder, args.rows, args.symbols, args.ticks)
        (folder / "meta.json").write_text(json.dumps(meta))
        print(
            f"generated {meta['bar_rows']:,} bar rows in {meta['bar_files']} CSV files and "
            f"{meta['ticks']:,} ticks in {time.perf_counter() - t0:.1f}s; "
            f"POLARS_MAX_THREADS={args.threads}"
        )
        res = {name: run_stage(name, folder, args.threads) for name in STAGES}
    si, pi = res["statarb_ingest"], res["pandas_ingest"]
    print("\ningest (parse + validate + write), bars")
    for label, r in (("statarb (polars)", si), ("pandas reference", pi)):
        print(
            f"  {label:18s} {r['rows'] / r['total']:>12,.0f} bars/s  total {r['total']:6.2f}s  "
            f"parse {r['parse']:5.2f}s validate {r['validate']:5.2f}s write {r['write']:5.2f}s  "
            f"peak RSS {r['peak_mb']:,.0f} MB"
        )
    print(
        f"  speed-up vs pandas: total {pi['total'] / si['total']:.1f}x, parse "
        f"{pi['parse'] / si['parse']:.1f}x, validate {pi['validate'] / si['validate']:.1f}x, "
        f"write {pi['write'] / si['write']:.1f}x; parse+validate only "
        f"{si['rows'] / (si['parse'] + si['validate']):,.0f} bars/s"
    )
    st, pt = res["statarb_ticks"], res["pandas_ticks"]
    print("\nticks -> 1-min bars")
    for label, r in (("statarb (polars)", st), ("pandas reference", pt)):
        print(
            f"  {label:18s} {r['rows'] / r['total']:>12,.0f} ticks/s  {r['total']:6.2f}s  "
            f"{r['bars']:,} bars  peak RSS {r['peak_mb']:,.0f} MB"
        )
    print(f"  speed-up vs pandas: {pt['total'] / st['total']:.1f}x")
    print("\naims: >= 5,000,000 bars/s ingest on 1 core; >= 10,000,000 ticks/s ticks->bars")


if __name__ == "__main__":
    main()
