"""The HDF5 tier through Kedro: a ``type:`` swap of a catalog entry, and ``bar_partition_index``.

The same catalog entries (the shipped ``bars_adjusted`` entry with only its ``type`` changed) load
and save the same frames on both tiers; with ``credentials`` the relational index lists exactly
the slices of the files, on both relational back-ends, and locates their rows.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import polars as pl
import pytest
from kedro.io import DataCatalog
from polars.testing import assert_frame_equal

from statarb.storage import database
from statarb.storage.hdf5_format import group_path
from statarb.storage.parquet_schemas import get_layout
from statarb.storage.sql_io import read_table, write_frame
from tests.config_helpers import conf_file
from tests.storage.sql_fixtures import symbols_frame
from tests.storage.test_store_tiers import _intraday

HDF5 = "statarb.storage.hdf5_dataset.HDF5StoreDataset"


def _catalog(tmp_path: Path, tier: str, url: str | None = None) -> DataCatalog:
    base = conf_file("catalog.yml")
    entry = {**base["bars_adjusted"], "path": str(tmp_path / tier / "bars_adjusted")}
    if tier == "hdf5":
        entry["type"] = HDF5  # the only change: the tier
        if url is not None:
            entry["credentials"] = "db"
    return DataCatalog.from_config({"bars_adjusted": entry}, credentials={"db": {"con": url}})


def test_type_swap_gives_the_same_data_with_no_other_change(tmp_path):
    bars = _intraday(("AAA", "BBB"), days=3, per_day=60).with_columns(
        pl.lit("SYNTH").alias("source"), pl.lit(0, pl.Int8).alias("outlier_flag")
    )
    got = {}
    for tier in ("parquet", "hdf5"):
        cat = _catalog(tmp_path, tier)
        cat.save("bars_adjusted", bars)
        cat.save("bars_adjusted", bars.head(10))  # mode replace (shipped save_args)
        got[tier] = cat.load("bars_adjusted").collect().sort("symbol", "datetime")
        assert cat.exists("bars_adjusted")
    assert_frame_equal(got["parquet"], got["hdf5"], check_exact=True)
    assert got["hdf5"].height == 10 + 60 * 2 * 2  # day 1 replaced, days 2-3 kept


def test_bar_partition_index_mirrors_the_files(tmp_path, db_url):
    database.upgrade(db_url)
    with database.get_engine(db_url).begin() as conn:
        write_frame(conn, "symbols", symbols_frame("AAA", "BBB", "CCC"))
    cat = _catalog(tmp_path, "hdf5", db_url)
    bars = pl.concat(
        [_intraday(("AAA", "BBB"), days=4, per_day=390), _intraday(("CCC",), days=2, per_day=390)]
    ).with_columns(pl.lit("SYNTH").alias("source"))
    cat.save("bars_adjusted", bars)
    idx = read_table(database.get_engine(db_url), "bar_partition_index").sort("symbol_id", "date")
    assert idx.height == 2 * 4 + 2 and set(idx["symbol_id"]) == {"AAA", "BBB", "CCC"}
    assert (idx["row_stop"] - idx["row_start"]).to_list() == [390] * idx.height
    assert set(idx["h5_group"]) == {"/bars/AAA", "/bars/BBB", "/bars/CCC"}
    root = tmp_path / "hdf5" / "bars_adjusted"
    row = idx.filter(pl.col("symbol_id") == "BBB").row(2, named=True)  # third day of BBB
    with h5py.File(root / row["path"], "r") as f:
        ts = f[row["h5_group"]]["datetime"][row["row_start"] : row["row_stop"]]
    want = bars.filter(pl.col("symbol") == "BBB", pl.col("datetime").dt.date() == row["date"])
    assert ts.tolist() == want["datetime"].dt.epoch("us").to_list()
    assert row["start_ts"] == want["datetime"].min() and row["end_ts"] == want["datetime"].max()
    # a replace of one day (the shipped save_args) with 5 BBB bars: AAA loses that day, BBB's
    # slice shrinks, CCC (other days) is untouched; the index follows the files
    day = bars.filter(pl.col("datetime").dt.date() == row["date"], pl.col("symbol") == "BBB")
    cat.save("bars_adjusted", day.head(5))
    idx2 = read_table(database.get_engine(db_url), "bar_partition_index")
    assert idx2.height == idx.height - 1
    hit = idx2.filter(pl.col("date") == row["date"])
    assert hit["symbol_id"].to_list() == ["BBB"] and hit["row_stop"][0] - hit["row_start"][0] == 5
    database.dispose_engines()


def test_hdf5_layout_is_the_spec_group_per_symbol(tmp_path):
    from statarb.storage.hdf5_store import write_hdf5

    (f,) = write_hdf5(_intraday(("AAA",), days=2, per_day=390), tmp_path, "bars", source="S")
    with h5py.File(f, "r") as h:
        g = h[group_path(get_layout("bars"), "AAA")]
        assert g.name == "/bars/AAA"
        for col in ("datetime", "open", "high", "low", "close", "volume"):
            assert g[col].chunks == (390,) and g[col].compression == "gzip"
        assert g["datetime"].dtype.kind == "i" and g["datetime"].attrs["unit"] == "us"


@pytest.mark.parametrize("tier", ["parquet", "hdf5"])
def test_append_without_a_batch_run_is_refused(tmp_path, tier):
    ds = _catalog(tmp_path, tier).get("bars_adjusted")
    kind = f"{type(ds).__module__}.{type(ds).__name__}"
    entry = {"type": kind, "path": str(tmp_path / "x"), "layout": "bars",
             "save_args": {"mode": "append"}}  # fmt: skip
    cat = DataCatalog.from_config({"x": entry})
    frame = _intraday(("AAA",), days=1, per_day=3).with_columns(pl.lit("S").alias("source"))
    with pytest.raises(Exception, match="append needs a batch"):
        cat.save("x", frame)
