"""The whole research run through real ``kedro run``s on generated data, in process and on a
2-worker Dask ``LocalCluster`` (small chunks, the funnel in several blocks): identical
``cointegration_results``, ``selection_log``, spreads, OU fits and backtest events."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from tests.pipelines.test_reprocessing_replay import _events, _kedro_run, _latest_run
from tests.project_fixtures import generated_project

from statarb.pipelines.alpha import nodes
from statarb.storage import database
from statarb.storage.parquet_dataset import PartitionedParquetDataset
from statarb.storage.sql_io import read_table

pytest.importorskip("distributed")
SMALL = {"chunk_pairs": 7, "chunk_pair_tests": 150, "chunk_pair_bars": 50_000}
DASK = {"engine": "dask", "dask": {"n_workers": 2, "memory_limit": "1GiB"}, **SMALL}


def _outputs(root: Path, url: str) -> dict[str, pl.DataFrame]:
    with database.get_engine(url).connect() as conn:
        out = {t: read_table(conn, t).drop("created_at")
               for t in ("cointegration_results", "selection_log")}  # fmt: skip
        out["ou_params"] = read_table(conn, "ou_params").drop("id", "created_at")
    spreads = PartitionedParquetDataset(str(root / "data/alpha/spreads"), "spread_series")
    out["spreads"] = spreads.load().collect().sort("pair_id", "datetime")
    signals, fills, equity = _events(_latest_run(url))
    out |= {"signals": signals, "fills": fills, "equity": equity}
    return out


def test_dask_run_equals_in_process_run(tmp_path, monkeypatch):
    root, url = generated_project(tmp_path / "proj", monkeypatch, n_symbols=12, n_days=24)
    engines = []  # the engine of every chunked stage the runs used

    def recording(cfg, real=nodes.mapper_for):
        engines.append(cfg.engine)
        return real(cfg)

    monkeypatch.setattr(nodes, "mapper_for", recording)
    _kedro_run(root, ["ingestion", "preprocessing"], {})
    _kedro_run(root, ["alpha", "backtest"], {"compute": SMALL})
    local = _outputs(root, url)
    assert engines == ["local", "local"]  # screening, spreads and OU
    assert local["cointegration_results"]["is_cointegrated"].any()  # something was selected
    assert local["fills"].height > 0 and local["spreads"].height > 0
    _kedro_run(root, ["alpha", "backtest"], {"compute": DASK})
    dask = _outputs(root, url)
    assert engines[2:] == ["dask", "dask"]
    for name, frame in local.items():
        assert frame.equals(dask[name]), name
    database.dispose_engines()
