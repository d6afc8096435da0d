"""``scan_table`` / ``SQLTableDataset(load_args={lazy: true})``: a LazyFrame equal to the eager
read, whose string equalities are pushed into SQL (on both back-ends)."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from kedro.io import DatasetError

from statarb.storage import sql_scan
from statarb.storage.database import ensure_schema, get_engine
from statarb.storage.sql_dataset import SQLTableDataset
from statarb.storage.sql_io import read_table, write_frame
from tests.reporting.synthetic import make_synthetic_run


def test_string_equalities_reads_and_chains_only():
    c = pl.col
    f = sql_scan.string_equalities
    assert f((c("run_id") == "r1") & (c("x") > 1) & (pl.lit("A_B") == c("pair_id"))) == {
        "run_id": "r1",
        "pair_id": "A_B",
    }
    assert f((c("run_id") == "r1") | (c("run_id") == "r2")) == {}  # OR: nothing pushed
    assert f(c("n") == 3) == {} and f(c("run_id").is_in(["a"])) == {} and f(None) == {}


@pytest.fixture
def two_runs(db_url):
    run = make_synthetic_run()
    ensure_schema(db_url)
    with get_engine(db_url).begin() as conn:
        for rid in ("bt_a", "bt_b"):
            r = {k: run[k].with_columns(run_id=pl.lit(rid)) for k in ("runs", "fills", "equity")}
            write_frame(conn, "backtest_runs", r["runs"], mode="insert")
            write_frame(conn, "backtest_fills", r["fills"].drop("id", "signal_id", strict=False),
                        mode="insert")  # fmt: skip
            write_frame(conn, "backtest_equity", r["equity"], mode="insert")
    return db_url


def test_lazy_scan_equals_eager_read_and_pushes_run_filter(two_runs, monkeypatch):
    eng = get_engine(two_runs)
    ds = SQLTableDataset("backtest_fills", credentials={"con": two_runs}, load_args={"lazy": True})
    lf = ds.load()
    assert isinstance(lf, pl.LazyFrame)
    full = read_table(eng, "backtest_fills")
    assert lf.collect().equals(full)
    seen = []
    real = sql_scan.read_table
    monkeypatch.setattr(sql_scan, "read_table",
                        lambda *a, **k: seen.append(k["params"]) or real(*a, **k))  # fmt: skip
    got = lf.filter(pl.col("run_id") == "bt_b", pl.col("side") == "buy").select("price").collect()
    want = full.filter(pl.col("run_id") == "bt_b", pl.col("side") == "buy").select("price")
    assert got.equals(want) and got.height > 0
    assert seen[-1] == {"eq_run_id": "bt_b", "eq_side": "buy"}  # both pushed into WHERE
    t0 = full["fill_ts"].min() + timedelta(hours=1)
    q = lf.filter(pl.col("run_id").is_in(["bt_a"]), pl.col("fill_ts") > t0).head(3)
    assert q.collect().equals(
        full.filter(pl.col("run_id") == "bt_a", pl.col("fill_ts") > t0).head(3)
    )
    assert seen[-1] == {}  # not translatable: read everything, filter in Polars


def test_lazy_cannot_be_combined_with_a_where():
    with pytest.raises(DatasetError, match="lazy cannot be combined"):
        SQLTableDataset("backtest_fills", load_args={"lazy": True, "where": "1=1"})
