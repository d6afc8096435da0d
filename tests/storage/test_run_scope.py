"""Run scopes: rows and partitions an earlier configuration left outside this run's scope are
removed; rows inside it keep their ids and stamps (both SQL back-ends, the Parquet tier)."""

from __future__ import annotations

import polars as pl
import pytest

from statarb.storage import database
from statarb.storage.parquet_dataset import PartitionedParquetDataset
from statarb.storage.parquet_read import scan_store
from statarb.storage.parquet_write import write_partitions
from statarb.storage.run_scope import Scoped, prune_partitions, prune_table, unscoped
from statarb.storage.sql_dataset import SQLTableDataset
from statarb.storage.sql_io import read_table, write_frame
from tests.storage.sql_fixtures import engine_fixture, seeded_fixture, utc  # noqa: F401

T1, T2, T3 = utc(2026, 1, 2, 21), utc(2026, 1, 5, 21), utc(2026, 1, 6, 21)


def _coint(pairs: list[str], times: list) -> pl.DataFrame:
    rows = [(p, t) for p in pairs for t in times]
    return pl.DataFrame(
        {
            "pair_id": [p for p, _ in rows],
            "test_ts": [t for _, t in rows],
            "adf_pvalue": [0.01] * len(rows),
            "is_cointegrated": [True] * len(rows),
            "created_at": [utc(2026, 1, 1)] * len(rows),
        },
        schema_overrides={
            "test_ts": pl.Datetime("us", "UTC"),
            "created_at": pl.Datetime("us", "UTC"),
        },  # fmt: skip
    )


def test_prune_table_keeps_exactly_the_scope(seeded):
    with seeded.begin() as conn:
        write_frame(conn, "cointegration_results", _coint(["AAPL_MSFT", "QQQ_SPY"], [T1, T2]))
    before = read_table(seeded, "cointegration_results")
    with seeded.begin() as conn:
        n = prune_table(conn, "cointegration_results",
                        {"pair_id": ["AAPL_MSFT"], "test_ts": pl.Series([T1, T3])})  # fmt: skip
    after = read_table(seeded, "cointegration_results")
    assert n == 3
    assert after.select("pair_id", "test_ts").rows() == [("AAPL_MSFT", T1)]
    kept = before.filter((pl.col("pair_id") == "AAPL_MSFT") & (pl.col("test_ts") == T1))
    assert after.equals(kept)  # id and created_at of the kept row unchanged


def test_prune_table_ignores_columns_the_table_lacks(seeded):
    with seeded.begin() as conn:
        write_frame(conn, "cointegration_results", _coint(["AAPL_MSFT", "QQQ_SPY"], [T1]))
        assert prune_table(conn, "cointegration_results", {"window_end": [T1]}) == 0
        assert prune_table(conn, "cointegration_results", {"pair_id": ["QQQ_SPY"]}) == 1
    assert read_table(seeded, "cointegration_results")["pair_id"].to_list() == ["QQQ_SPY"]


def _spreads(pairs: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "pair_id": [p for p in pairs for _ in range(2)],
            "datetime": [T1, T2] * len(pairs),
            "spread": [0.5, -0.5] * len(pairs),
            "beta": [1.1, 1.2] * len(pairs),
        },
        schema_overrides={"datetime": pl.Datetime("us", "UTC")},
    )


def test_prune_partitions_removes_other_pairs(tmp_path):
    write_partitions(_spreads(["AAA_BBB", "CCC_DDD", "EEE_FFF"]), tmp_path, "spread_series")
    assert prune_partitions(tmp_path, "spread_series", {"pair_id": ["CCC_DDD"]}) == 2
    left = scan_store(tmp_path, "spread_series").collect()
    assert left["pair_id"].unique().to_list() == ["CCC_DDD"] and left.height == 2
    assert prune_partitions(tmp_path, "spread_series", {"test_ts": [T1]}) == 0  # no id column


def test_a_scoped_save_prunes_first_then_writes(seeded, db_url, tmp_path):
    with seeded.begin() as conn:
        write_frame(conn, "cointegration_results", _coint(["AAPL_MSFT", "QQQ_SPY"], [T1, T2]))
    ds = SQLTableDataset("cointegration_results", {"con": db_url},
                         save_args={"keep_if_unchanged": ["created_at"]})  # fmt: skip
    new = _coint(["QQQ_SPY"], [T2, T3])
    ds.save(Scoped(new, {"pair_id": ["QQQ_SPY"], "test_ts": [T2, T3]}))
    got = read_table(seeded, "cointegration_results")
    assert got.select("pair_id", "test_ts").rows() == [("QQQ_SPY", T2), ("QQQ_SPY", T3)]
    ds.save(_coint(["AAPL_MSFT"], [T1]))  # a plain save prunes nothing
    assert read_table(seeded, "cointegration_results").height == 3
    store = PartitionedParquetDataset(str(tmp_path), "spread_series")
    store.save(_spreads(["AAPL_MSFT", "QQQ_SPY"]))
    store.save(Scoped(_spreads(["QQQ_SPY"]), {"pair_id": ["QQQ_SPY"]}))
    assert store.load().collect()["pair_id"].unique().to_list() == ["QQQ_SPY"]
    assert unscoped(Scoped(new, {"pair_id": []})) is new and unscoped(new) is new
    with pytest.raises(ValueError, match="names no column"):
        Scoped(new, {})
    database.dispose_engines()


def _ou(pair: str, windows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "pair_id": [pair] * len(windows),
            "window_start": [w[0] for w in windows],
            "window_end": [w[1] for w in windows],
            "theta": [0.01] * len(windows),
            "created_at": [utc(2026, 1, 1)] * len(windows),
        },
        schema_overrides={
            c: pl.Datetime("us", "UTC") for c in ("window_start", "window_end", "created_at")
        },  # fmt: skip
    )


def test_replace_by_pair_drops_the_written_pairs_other_windows(seeded, db_url):
    ds = SQLTableDataset("ou_params", {"con": db_url},
                         save_args={"keep_if_unchanged": ["created_at"], "replace_by": "pair_id"})  # fmt: skip
    old = [(utc(2026, 1, 2, 14, 30), T1), (utc(2026, 1, 5, 14, 30), T2)]
    ds.save(pl.concat([_ou("AAPL_MSFT", old), _ou("QQQ_SPY", old)]))
    before = read_table(seeded, "ou_params")
    # another OU window: same window_end T2, other start; window T1 no longer fitted
    ds.save(_ou("AAPL_MSFT", [(utc(2026, 1, 5, 10), T2)]))
    after = read_table(seeded, "ou_params")
    aapl = after.filter(pl.col("pair_id") == "AAPL_MSFT")
    assert aapl.select("window_start", "window_end").rows() == [(utc(2026, 1, 5, 10), T2)]
    untouched = before.filter(pl.col("pair_id") == "QQQ_SPY")
    assert after.filter(pl.col("pair_id") == "QQQ_SPY").equals(untouched)  # ids, stamps kept
    ds.save(_ou("QQQ_SPY", old))  # an identical save keeps every row as it was
    assert read_table(seeded, "ou_params").filter(pl.col("pair_id") == "QQQ_SPY").equals(untouched)
    database.dispose_engines()


def test_replace_by_must_name_a_key_column():
    from kedro.io import DatasetError

    with pytest.raises(DatasetError, match="replace_by"):
        SQLTableDataset("ou_params", save_args={"replace_by": "theta"})
