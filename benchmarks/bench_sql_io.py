"""Benchmark: relational writes/reads of 100k rows, ``statarb.storage.sql_io`` vs pandas.

Run on demand: ``.venv/bin/python benchmarks/bench_sql_io.py [--n 100000] [--pg URL | --no-pg]``.
On a temporary SQLite file and a throw-away PostgreSQL database (created and dropped), it times
for ``backtest_equity``:

- ``pandas.to_sql`` (reference insert: no validation, executemany in chunks of 10k) and the raw
  driver floor (PostgreSQL: ``COPY ... FROM STDIN`` straight into the table; SQLite: one
  ``executemany`` of plain tuples in one transaction) vs ``write_frame(mode="insert")`` (full
  validation, one transaction; PostgreSQL bulk path = COPY + INSERT ... SELECT);
- ``write_frame`` upsert of the same 100k keys (every row updated);
- ``pd.read_sql`` (reference read, naive timestamps) vs ``read_table`` (typed Polars, UTC).

Prints wall times, rows/s and ratios (ours / reference) measured in this run, best of
``--repeat``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import uuid

import numpy as np
import pandas as pd
import polars as pl
import sqlalchemy as sa
from timing import best_of

from statarb.storage import database
from statarb.storage.sql_io import read_table, write_frame

RUN = "bt_bench"


def _frame(n: int) -> pl.DataFrame:
    rng = np.random.default_rng(0)
    start = dt.datetime(2024, 1, 2)
    ts = pl.datetime_range(
        start, start + dt.timedelta(minutes=n - 1), "1m", time_zone="UTC", eager=True
    )
    return pl.DataFrame(
        {
            "run_id": RUN,
            "ts": ts,
            "equity": 1e6 + rng.normal(size=n).cumsum(),
            "cash": rng.normal(size=n),
            "positions_value": rng.normal(size=n),
        }
    )


def _reset(eng: sa.Engine) -> None:
    with eng.begin() as c:
        c.execute(sa.text("DELETE FROM backtest_equity"))
        c.execute(sa.text("DELETE FROM backtest_runs"))
        c.execute(
            sa.text(
                "INSERT INTO backtest_runs (run_id, start_ts, end_ts) "
                f"VALUES ('{RUN}', '2024-01-01', '2024-12-31')"
            )
        )


def bench(url: str, n: int, repeat: int) -> None:
    database.upgrade(url)
    eng = database.get_engine(url)
    df = _frame(n)
    pdf = df.to_pandas()
    pdf["ts"] = pdf["ts"].dt.tz_localize(None)

    def ref_insert() -> None:
        pdf.to_sql("backtest_equity", eng, if_exists="append", index=False, chunksize=10_000)

    csv = df.with_columns(pl.col("ts").dt.replace_time_zone(None)).write_csv(include_header=False)
    rows = list(
        zip(*(pdf[c].astype(str) if c == "ts" else pdf[c] for c in pdf.columns), strict=True)
    )

    def raw_insert() -> None:
        cols = ", ".join(pdf.columns)
        raw = eng.raw_connection()
        try:
            cur = raw.cursor()
            if eng.dialect.name == "postgresql":  # one CSV block, no per-row Python work
                with cur.copy(f"COPY backtest_equity ({cols}) FROM STDIN (FORMAT csv)") as cp:
                    cp.write(csv)
            else:  # the driver runs in autocommit under SQLAlchemy: open the transaction here
                marks = ", ".join("?" * len(pdf.columns))
                cur.execute("BEGIN")
                cur.executemany(f"INSERT INTO backtest_equity ({cols}) VALUES ({marks})", rows)
            raw.commit()
        finally:
            raw.close()

    t_ref = best_of(ref_insert, repeat, lambda: _reset(eng))
    t_raw = best_of(raw_insert, repeat, lambda: _reset(eng))
    t_ins = best_of(
        lambda: write_frame(eng, "backtest_equity", df, mode="insert"), repeat, lambda: _reset(eng)
    )
    upd = df.with_columns(pl.col("equity") + 1.0)
    t_ups = best_of(lambda: write_frame(eng, "backtest_equity", upd), repeat)
    t_rref = best_of(lambda: pd.read_sql("SELECT * FROM backtest_equity", eng), repeat)
    t_read = best_of(lambda: read_table(eng, "backtest_equity"), repeat)
    assert read_table(eng, "backtest_equity").height == n
    name = eng.dialect.name
    raw = "raw COPY" if name == "postgresql" else "raw executemany"
    print(
        f"{name:10s} n={n}: insert  pandas.to_sql {t_ref:6.2f}s ({n / t_ref:9,.0f} rows/s) | "
        f"{raw} {t_raw:6.2f}s ({n / t_raw:9,.0f} rows/s) | write_frame {t_ins:6.2f}s "
        f"({n / t_ins:9,.0f} rows/s) ratio {t_ins / t_ref:4.2f} vs to_sql, "
        f"{t_ins / t_raw:4.2f} vs {raw}"
    )
    print(
        f"{name:10s} n={n}: upsert  (all keys exist)          write_frame {t_ups:6.2f}s "
        f"ratio {t_ups / t_ref:4.2f} vs to_sql insert"
    )
    print(
        f"{name:10s} n={n}: read    pd.read_sql   {t_rref:6.2f}s | read_table  {t_read:6.2f}s "
        f"ratio {t_read / t_rref:4.2f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        try:
            bench(f"sqlite:///{d}/bench.db", args.n, args.repeat)
        finally:
            database.dispose_engines()
    if args.no_pg:
        return
    name = f"statarb_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        bench(sa.make_url(args.pg).set(database=name).render_as_string(False), args.n, args.repeat)
    finally:
        database.dispose_engines()
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
