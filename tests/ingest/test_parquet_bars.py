"""Parquet raw bar files (``{prefix}_bars_{YYYYMMDD}.parquet``, ``format: auto``): the same rules,
the same row numbers and the same store as the CSV of the same day.

Until the generator writes them, the fixture converts each generated CSV day to its Parquet twin
(:func:`tests.ingest.rawfiles.csv_day_to_parquet`) and runs the real pipeline on the CSV delivery,
on the Parquet delivery, and on a delivery holding both formats (the Parquet file is read).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from kedro.runner import SequentialRunner

from statarb.pipelines.ingestion import create_pipeline
from statarb.storage.database import dispose_engines
from statarb.synthetic.generator import generate
from tests.ingest.corpus_delivery import BASE
from tests.ingest.kedro_helpers import build_catalog
from tests.ingest.rawfiles import csv_day_to_parquet
from tests.pipelines.ingestion.snapshots import file_bytes, table_rows

QUARANTINE = "02_intermediate/quarantine/bars.parquet"


@pytest.fixture(scope="module")
def csv_raw(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("csv_raw")
    generate(out, BASE, force=True)
    return out


def _with_parquet(csv_raw: Path, dest: Path, keep_csv: bool) -> Path:
    shutil.copytree(csv_raw, dest)
    for f in sorted((dest / "bars").glob("*.csv")):
        f.with_suffix(".parquet").write_bytes(csv_day_to_parquet(f.read_bytes()))
        if not keep_csv:
            f.unlink()
    return dest


def _ingest(project: Path, raw: Path, db_url: str) -> tuple[dict[str, bytes], dict]:
    try:
        SequentialRunner().run(create_pipeline(), build_catalog(project, raw, db_url))
        return file_bytes(project / "data"), table_rows(db_url)
    finally:
        dispose_engines()


def _quarantine(files: dict[str, bytes]) -> pl.DataFrame:
    import io

    q = pl.read_parquet(io.BytesIO(files[QUARANTINE]))
    return q.with_columns(pl.col("source_file").str.replace(r"\.(csv|parquet)$", ""))


def test_parquet_twin_has_the_csv_text(csv_raw):
    f = sorted((csv_raw / "bars").glob("*.csv"))[0]
    twin = pl.read_parquet(csv_day_to_parquet(f.read_bytes()))
    text = pl.read_csv(f, infer_schema=False)
    assert twin.columns == text.columns and twin.height == text.height
    for c in ("Ticker", "Date", "Time"):
        assert twin[c].to_list() == text[c].to_list()
    assert twin.schema["Close"] == pl.Float64 and twin.schema["Volume"] == pl.Int64


@pytest.mark.parametrize("keep_csv", [False, True], ids=["parquet_only", "both_formats"])
def test_parquet_delivery_gives_the_csv_store(csv_raw, tmp_path, keep_csv):
    db_csv = f"sqlite:///{tmp_path / 'csv.db'}"
    db_pq = f"sqlite:///{tmp_path / 'pq.db'}"
    csv_files, csv_rows = _ingest(tmp_path / "a", csv_raw, db_csv)
    pq_raw = _with_parquet(csv_raw, tmp_path / "raw_pq", keep_csv)
    pq_files, pq_rows = _ingest(tmp_path / "b", pq_raw, db_pq)
    store = sorted(f for f in csv_files if f.startswith(("bars/", "ticks/")))
    assert store and store == sorted(f for f in pq_files if f.startswith(("bars/", "ticks/")))
    for f in store:  # every store partition byte for byte
        assert pq_files[f] == csv_files[f], f
    q_csv, q_pq = _quarantine(csv_files), _quarantine(pq_files)
    assert q_csv.height > 0 and q_pq.equals(q_csv)  # same rules, same 1-based rows
    stamps = {"symbols", "corporate_actions", "schema_version"}  # wall-clock stamps differ
    assert {t: r for t, r in pq_rows.items() if t not in stamps} == {
        t: r for t, r in csv_rows.items() if t not in stamps
    }
    assert [r[0] for r in pq_rows["symbols"]] == [r[0] for r in csv_rows["symbols"]]
    assert len(pq_rows["corporate_actions"]) == len(csv_rows["corporate_actions"])
