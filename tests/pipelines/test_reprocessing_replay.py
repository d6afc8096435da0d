"""Versioned reprocessing end to end (spec §9.3), through real ``kedro run``s of a project copy.

Raw vendor files are ingested and preprocessed as batch 1 (``storage.batches.mode=append``), a
backtest runs on them and records the batch it read in ``config_json``; a corrected vendor file is
re-ingested as batch 2; a backtest pinned to batch 1 (``storage.batches.pin.bars_adjusted=1``)
then gives bit-identical signals, fills and equity, while an unpinned one sees the correction.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from tests.project_fixtures import make_project

from statarb.backtest.persistence import load_run
from statarb.backtest.synth import inputs_to_frames, synthetic_inputs
from statarb.storage import database
from statarb.storage.parquet_store import write_partitions
from statarb.storage.sql_io import write_frame

NY = "America/New_York"


def _write_raw(raw: Path, bars: pl.DataFrame) -> None:
    """Vendor files (docs/dev-contract.md): one CSV per New York trading date, local times."""
    (raw / "bars").mkdir(parents=True, exist_ok=True)
    local = bars.with_columns(pl.col("datetime").dt.convert_time_zone(NY).alias("t"))
    local = local.with_columns(pl.col("t").dt.date().alias("day"))
    for (day,), part in local.partition_by("day", as_dict=True).items():
        out = part.sort("t", "symbol").select(
            pl.col("symbol").alias("Ticker"),
            pl.col("t").dt.strftime("%Y-%m-%d").alias("Date"),
            pl.col("t").dt.strftime("%H:%M:%S").alias("Time"),
            pl.col("open").alias("Open"),
            pl.col("high").alias("High"),
            pl.col("low").alias("Low"),
            pl.col("close").alias("Close"),
            pl.col("volume").alias("Volume"),
        )
        out.write_csv(raw / "bars" / f"SYNTH_bars_{day:%Y%m%d}.csv")


def _kedro_run(root: Path, pipelines: list[str], params: dict) -> None:
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(root)
    with KedroSession.create(project_path=root, runtime_params=params) as session:
        session.run(pipeline_names=pipelines)
    database.dispose_engines()


def _latest_run(url: str) -> dict:
    with database.get_engine(url).connect() as conn:
        run_id = conn.execute(
            sa.text("SELECT run_id FROM backtest_runs ORDER BY created_at DESC, run_id DESC")
        ).scalar()
    return load_run(url, run_id)


def _events(run: dict) -> tuple:
    return (
        run["signals"].drop("id", "run_id"),
        run["fills"].drop("id", "run_id", "signal_id"),
        run["equity"].drop("run_id"),
    )


def test_a_backtest_pinned_to_the_old_batch_replays_bit_identically(db_url, tmp_path, monkeypatch):
    root = make_project(tmp_path / "proj", db_url)
    (root / "src").mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.kedro]\npackage_name = "statarb"\nproject_name = "statarb"\n'
        'kedro_init_version = "1.7.0"\nsource_dir = "src"\n'
    )
    monkeypatch.chdir(root)  # costs_path and report folders are project-relative
    inp = synthetic_inputs(390, 2, seed=11, ou_phi=0.9, volume_mean=5_000)  # one regular session
    bars, spreads = inputs_to_frames(inp)
    bars = bars.drop("outlier_flag")
    raw = root / "data/01_raw"
    syms = sorted(inp.symbols_a + inp.symbols_b)
    raw.mkdir(parents=True)
    pl.DataFrame({"ticker": syms, "name": syms, "asset_class": "equity", "exchange": "XNAS",
                  "currency": "USD", "sector": "Tech"}).write_csv(raw / "symbols.csv")  # fmt: skip
    (raw / "corporate_actions.csv").write_text("ticker,action,ex_date,ratio,cash_amount,note\n")
    _write_raw(raw, bars)
    append = {"storage": {"batches": {"mode": "append", "note": "vendor v1"}}}
    _kedro_run(root, ["ingestion", "preprocessing"], append)

    # alpha outputs stand in for the alpha pipeline (the lead's area), written once
    write_partitions(spreads, root / "data/alpha/spreads", "spread_series", fsync=False)
    universe = pl.DataFrame(
        {"pair_id": inp.pair_ids, "symbol_a": inp.symbols_a, "symbol_b": inp.symbols_b}
    )
    coint = pl.DataFrame({"pair_id": inp.pair_ids, "test_ts": [inp.timestamps()[0]] * 2,
                          "is_cointegrated": [True, True]})  # fmt: skip
    with database.get_engine(db_url).begin() as conn:
        write_frame(conn, "pair_universe", universe)
        write_frame(conn, "cointegration_results", coint)
    _kedro_run(root, ["backtest"], {})
    run_a = _latest_run(db_url)
    conf_a = json.loads(run_a["runs"]["config_json"][0])
    assert conf_a["data_batches"] == {"bars_adjusted": 1}

    # the vendor corrects the last day of A000: re-ingest everything as batch 2
    last = bars["datetime"].dt.convert_time_zone(NY).dt.date().max()
    hit = (pl.col("symbol") == "A000") & (
        pl.col("datetime").dt.convert_time_zone(NY).dt.date() == last
    )
    fixed = bars.with_columns(
        pl.when(hit).then(pl.col(c) * 1.02).otherwise(pl.col(c)) for c in ("open", "high", "low",
                                                                            "close")
    )  # fmt: skip
    _write_raw(raw, fixed)
    _kedro_run(root, ["ingestion", "preprocessing"], {"storage": {"batches": {"mode": "append",
                                                                             "note": "fix"}}})  # fmt: skip
    with database.get_engine(db_url).connect() as conn:
        batches = conn.execute(sa.text("SELECT batch_id, note FROM data_batches ORDER BY 1")).all()
    assert [tuple(b) for b in batches] == [(1, "vendor v1"), (2, "fix")]

    _kedro_run(root, ["backtest"], {"storage": {"batches": {"pin": {"bars_adjusted": 1}}}})
    run_b = _latest_run(db_url)
    assert run_b["runs"]["run_id"][0] != run_a["runs"]["run_id"][0]
    assert json.loads(run_b["runs"]["config_json"][0])["data_batches"] == {"bars_adjusted": 1}
    for a, b in zip(_events(run_a), _events(run_b), strict=True):
        assert a.equals(b)  # bit-identical: same rows, same float bits

    _kedro_run(root, ["backtest"], {})
    run_c = _latest_run(db_url)
    assert json.loads(run_c["runs"]["config_json"][0])["data_batches"] == {"bars_adjusted": 2}
    assert not _events(run_c)[2].equals(_events(run_a)[2])  # the correction changes the equity
    database.dispose_engines()


@pytest.fixture(autouse=True)
def _no_env_db(monkeypatch):
    monkeypatch.delenv("STATARB_DB_URL", raising=False)
    monkeypatch.delenv("KEDRO_ENV", raising=False)
