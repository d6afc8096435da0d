"""Saving a columnar dataset chunk by chunk (PartitionChunks): one partition group at a time,
the same files as one save of every row, refused when two chunks write one partition in a batch."""

from __future__ import annotations

import datetime as dt
import io

import polars as pl
import pytest
from kedro.io import DatasetError

from statarb.ingest.output_datasets import QuarantineDataset
from statarb.storage import write_batch
from statarb.storage.frame_chunks import PartitionChunks
from statarb.storage.parquet_dataset import PartitionedParquetDataset

UTC = dt.UTC


def _bars(day: int, symbols=("AAA", "BBB"), n: int = 3) -> pl.DataFrame:
    t0 = dt.datetime(2026, 3, day, 14, 30, tzinfo=UTC)
    rows = [(s, t0 + dt.timedelta(minutes=m)) for s in symbols for m in range(n)]
    return pl.DataFrame(
        {
            "symbol": [s for s, _ in rows],
            "datetime": [t for _, t in rows],
            "open": 10.0,
            "high": 11.0,
            "low": 9.0,
            "close": 10.5,
            "volume": 100.0,
            "adj_factor": 1.0,
            "source": "synthetic",
        },
        schema_overrides={"datetime": pl.Datetime("us", "UTC")},
    )


def _files(root) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _loaders(frames):
    return [lambda f=f: f for f in frames]


@pytest.mark.parametrize("batched", [False, True])
def test_chunks_write_the_files_of_one_save(tmp_path, batched):
    frames = [_bars(2), _bars(3), _bars(4)]
    one = PartitionedParquetDataset(str(tmp_path / "one"), "bars")
    one.save(pl.concat(frames))
    chunked = PartitionedParquetDataset(
        str(tmp_path / "chunked"), "bars", save_args={"write_batch": "t"} if batched else None
    )
    if batched:
        write_batch.begin("t")
    chunked.save(PartitionChunks(_loaders(frames)))
    if batched:
        assert not any(p.name == "data.parquet" for p in (tmp_path / "chunked").rglob("*"))
        write_batch.current("t").commit()
    assert _files(tmp_path / "chunked") == _files(tmp_path / "one")
    assert len(_files(tmp_path / "one")) == 3


def test_two_chunks_of_one_partition_are_refused_in_a_batch(tmp_path):
    ds = PartitionedParquetDataset(str(tmp_path / "b"), "bars", save_args={"write_batch": "t2"})
    write_batch.begin("t2")
    try:
        with pytest.raises(DatasetError, match="written by two chunks"):
            ds.save(PartitionChunks(_loaders([_bars(2, ("AAA",)), _bars(2, ("BBB",))])))
    finally:
        write_batch.abort("t2")
    assert not any(p.is_file() for p in (tmp_path / "b").rglob("*"))


def test_without_a_batch_chunks_of_one_partition_merge(tmp_path):
    ds = PartitionedParquetDataset(str(tmp_path / "m"), "bars")
    ds.save(PartitionChunks(_loaders([_bars(2, ("AAA",)), _bars(2, ("BBB",))])))
    assert ds.load().collect().height == 6


def test_lazy_quarantine_is_streamed_to_the_bytes_of_an_eager_write(tmp_path):
    q = pl.DataFrame({"rule": ["duplicate", "zero_price"] * 50, "source_row": list(range(100))})
    parts = [tmp_path / "g0.parquet", tmp_path / "g1.parquet"]
    q.head(30).write_parquet(parts[0])
    q.tail(70).write_parquet(parts[1])
    QuarantineDataset(str(tmp_path / "eager.parquet")).save(q)
    QuarantineDataset(str(tmp_path / "lazy.parquet")).save(pl.scan_parquet(parts))
    assert (tmp_path / "lazy.parquet").read_bytes() == (tmp_path / "eager.parquet").read_bytes()
    assert pl.read_parquet(io.BytesIO((tmp_path / "lazy.parquet").read_bytes())).equals(q)
