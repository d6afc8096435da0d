"""``scan_table`` / ``SQLTableDataset(load_args={lazy: true})``: a LazyFrame equal to the eager
read, whose string equalities are pushed into SQL (on both back-ends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from kedro.io import DatasetError

from statarb.storage import sql_io, sql_scan
from statarb.storage.database import ensure_schema, get_engine
from statarb.storage.sql_dataset import SQLTableDataset
from statarb.storage.sql_io import read_table, write_frame
from tests.reporting.synthetic import make_synthetic_run
from tests.storage.sql_fixtures import pair_frame, symbols_frame


def test_string_equalities_reads_and_chains_only():
    c = pl.col
    f = sql_scan.string_equalities
    assert f((c("run_id") == "r1") & (c("x") > 1) & (pl.lit("A_B") == c("pair_id"))) == {
        "run_id": "r1",
        "pair_id": "A_B",
    }
    assert f((c("run_id") == "r1") | (c("run_id") == "r2")) == {}  # OR: nothing pushed
    assert f(c("n") == 3) == {} and f(c("run_id").is_in(["a"])) == {} and f(None) == {}
    assert f(c("is_cointegrated")) == {"is_cointegrated": True}  # a bare Boolean column
    assert f((c("flag") == False) & (c("run_id") == "r1")) == {"flag": False, "run_id": "r1"}  # noqa: E712
    assert f(c("flag") | (c("run_id") == "r1")) == {} and f(~c("flag")) == {}


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
    real = sql_scan.iter_table
    monkeypatch.setattr(sql_scan, "iter_table",
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


def test_reads_stream_in_batches_and_boolean_filters_are_pushed(db_url, monkeypatch):
    """A large table is read in batches (never all rows as Python objects): the batches
    concatenate to the eager read, a Boolean filter goes to SQL, and a filter that cannot be
    translated (``is_in``) is applied to every batch with the same answer."""
    ensure_schema(db_url)
    ts = datetime(2026, 3, 2, 21, tzinfo=UTC)
    pairs = [f"A{i:02d}_B{i:02d}" for i in range(7)]
    rows = [(p, ts + timedelta(days=d), d % 3 == 0, -3.0 - d) for p in pairs for d in range(5)]
    cols = ["pair_id", "test_ts", "is_cointegrated", "adf_statistic"]
    frame = pl.DataFrame(rows, schema=cols, orient="row")
    with get_engine(db_url).begin() as conn:
        legs = [(p[:3], p[4:]) for p in pairs]
        write_frame(conn, "symbols", symbols_frame(*(s for leg in legs for s in leg)))
        write_frame(conn, "pair_universe", pair_frame(*legs))
        write_frame(conn, "cointegration_results", frame, mode="insert")
    eng = get_engine(db_url)
    full = read_table(eng, "cointegration_results")
    batches = list(sql_io.iter_table(eng, "cointegration_results", batch_rows=4))
    assert [b.height for b in batches] == [4] * 8 + [3]
    assert pl.concat(batches).equals(full)
    empty = list(sql_io.iter_table(eng, "cointegration_results", where="1 = 0", batch_rows=4))
    assert len(empty) == 1 and empty[0].height == 0 and empty[0].schema == full.schema
    seen = []
    real = sql_io.iter_table
    monkeypatch.setattr(sql_scan, "iter_table", lambda *a, **k: seen.append(k["params"])
                        or real(*a, **{**k, "batch_rows": 4}))  # fmt: skip
    lf = sql_scan.scan_table(lambda: eng, "cointegration_results")
    got = lf.filter(pl.col("is_cointegrated")).select("pair_id", "test_ts").collect()
    assert got.equals(full.filter(pl.col("is_cointegrated")).select("pair_id", "test_ts"))
    assert got.height == 14 and seen[-1] == {"eq_is_cointegrated": True}
    some = lf.filter(pl.col("pair_id").is_in(pairs[2:4])).collect()
    assert some.equals(full.filter(pl.col("pair_id").is_in(pairs[2:4]))) and some.height == 10
    assert seen[-1] == {}
    assert lf.head(6).collect().equals(full.head(6))
