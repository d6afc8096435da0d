"""Kedro ``PartitionedParquetDataset``: catalog round trip, load_args, save_args, exists."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
import yaml
from kedro.io import DataCatalog, DatasetError
from polars.testing import assert_frame_equal

from statarb.storage.parquet_dataset import PartitionedParquetDataset
from statarb.storage.parquet_store import partition_files
from tests.config_helpers import conf_file

from .test_parquet_schemas import full_frame, make_bars

CATALOG = """
bars:
  type: statarb.storage.parquet_dataset.PartitionedParquetDataset
  path: {root}/bars
  layout: bars
  source: SYNTH
bars_bbb_window:
  type: statarb.storage.parquet_dataset.PartitionedParquetDataset
  path: {root}/bars
  layout: bars
  load_args:
    symbols: [BBB]
    start: "2024-03-05"
    end: "2024-03-05"
    columns: [symbol, datetime, close]
spreads:
  type: statarb.storage.parquet_dataset.PartitionedParquetDataset
  path: {root}/alpha/spreads
  layout: spread_series
  save_args:
    mode: replace
"""


@pytest.fixture
def catalog(tmp_path) -> DataCatalog:
    return DataCatalog.from_config(yaml.safe_load(CATALOG.format(root=tmp_path.as_posix())))


def test_catalog_round_trip_of_bars(catalog, tmp_path):
    assert not catalog.exists("bars")
    bars = make_bars(("AAA", "BBB"), n=4)
    catalog.save("bars", bars.lazy())  # a LazyFrame is collected
    assert catalog.exists("bars")
    assert all("source=SYNTH" in f.as_posix() for f in partition_files(tmp_path / "bars", "bars"))
    loaded = catalog.load("bars")
    assert isinstance(loaded, pl.LazyFrame)
    got = loaded.collect().sort("symbol", "datetime")
    assert_frame_equal(got.select(bars.columns), bars.sort("symbol", "datetime"))
    assert got.schema["date"] == pl.Date and set(got["source"]) == {"SYNTH"}
    catalog.save("bars", bars)  # idempotent
    assert catalog.load("bars").collect().height == bars.height

    window = catalog.load("bars_bbb_window").collect()
    ref = bars.filter(
        pl.col("symbol") == "BBB", pl.col("datetime").dt.date() == dt.date(2024, 3, 5)
    ).select("symbol", "datetime", "close")
    assert window.height > 0
    assert_frame_equal(window, ref)


def test_save_args_mode_replace_and_describe(catalog):
    sp = full_frame("spread_series")
    catalog.save("spreads", sp)
    catalog.save("spreads", sp.tail(1))
    assert_frame_equal(catalog.load("spreads").collect(), sp.tail(1))
    ds = catalog.get("spreads")
    assert "layout='spread_series'" in str(ds) and "mode" in str(ds)


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(DatasetError, match=r"unknown load_args \['symbol'\]"):
        PartitionedParquetDataset(str(tmp_path), "bars", load_args={"symbol": "A"})
    with pytest.raises(ValueError, match="unknown columnar layout"):
        PartitionedParquetDataset(str(tmp_path), "bar")
    ds = PartitionedParquetDataset(str(tmp_path), "bars", source="S")
    with pytest.raises(DatasetError, match="saves Polars DataFrame/LazyFrame"):
        ds.save(make_bars().to_pandas())
    with pytest.raises(DatasetError, match="high < low"):
        ds.save(make_bars().with_columns(high=pl.lit(0.0)))


def test_project_catalog_columnar_entries_build(tmp_path, monkeypatch):
    """Every ``PartitionedParquetDataset`` entry of ``conf/base/catalog.yml`` instantiates and
    reads empty (paths relative to the project root, here a temporary working directory)."""
    from pathlib import Path

    conf = Path(__file__).resolve().parents[2] / "conf" / "base" / "catalog.yml"
    entries = {
        name: cfg
        for name, cfg in conf_file(conf.name).items()
        if isinstance(cfg, dict) and cfg.get("type", "").endswith("PartitionedParquetDataset")
    }
    assert set(entries) >= {"bars", "bars_adjusted", "ticks", "spread_series", "ou_output"}
    monkeypatch.chdir(tmp_path)
    catalog = DataCatalog.from_config(entries)
    for name in entries:
        assert not catalog.exists(name)
        assert catalog.load(name).collect().height == 0
    catalog.save("spread_series", full_frame("spread_series"))
    assert (tmp_path / "data/alpha/spreads/pair_id=AAA_BBB/data.parquet").is_file()
