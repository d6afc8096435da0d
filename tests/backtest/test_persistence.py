"""Persistence of runs on SQLite and PostgreSQL: one transaction, immutability, signal links."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl
import pytest

import statarb.backtest.persistence as persistence
from statarb.backtest.engine import run_backtest
from statarb.backtest.persistence import (
    RunExistsError,
    RunValidationError,
    load_run,
    save_run,
    validate_result,
)
from statarb.backtest.synth import synthetic_inputs
from statarb.storage.database import get_engine, upgrade
from statarb.storage.sql_io import read_table, write_frame

from ._util import config, costs

TABLES = ("backtest_runs", "backtest_signals", "backtest_fills", "backtest_equity")


@pytest.fixture(scope="module")
def result_and_cfg():
    inputs = synthetic_inputs(600, 1, seed=3, ou_phi=0.9)
    cfg = config(costs=costs(max_participation=0.05, borrow_rate=0.05, cash_rate=0.02))
    return run_backtest(inputs, cfg), cfg


@pytest.fixture
def db(db_url: str) -> str:
    upgrade(db_url)
    symbols = pl.DataFrame({"symbol_id": ["A000", "B000"]})
    pairs = pl.DataFrame({"pair_id": ["A000_B000"], "symbol_a": ["A000"], "symbol_b": ["B000"]})
    with get_engine(db_url).begin() as conn:
        write_frame(conn, "symbols", symbols)
        write_frame(conn, "pair_universe", pairs)
    return db_url


def _counts(url: str) -> dict[str, int]:
    eng = get_engine(url)
    return {t: read_table(eng, t).height for t in TABLES}


def test_round_trip_links_fills_to_signals(db: str, result_and_cfg, tmp_path) -> None:
    res, cfg = result_and_cfg
    run_id = save_run(res, cfg, db, equity_root=tmp_path / "equity")
    today = datetime.now(UTC).strftime("%Y%m%d")
    assert run_id == f"bt_{today}_001"
    stored = load_run(db, run_id)
    run = stored["runs"].row(0, named=True)
    assert run["pair_id"] == "A000_B000" and run["strategy_name"] == cfg.strategy_name
    assert run["start_ts"] == res.start_ts and run["end_ts"] == res.end_ts
    conf = json.loads(run["config_json"])
    assert conf["costs"]["volume_cap"]["max_participation"] == 0.05
    assert conf["capital"] == cfg.capital and len(conf["git_commit"]) in (40, 7)
    sig, fills = stored["signals"], stored["fills"]
    assert sig.height == res.signals.height and fills.height == res.fills.height
    assert sig["direction"].to_list() == res.signals["direction"].to_list()
    # every fill points at the stored id of the signal that produced it
    ids = sig["id"].to_list()
    assert fills["signal_id"].to_list() == [ids[i] for i in res.fills["signal_idx"].to_list()]
    linked = fills.join(sig.select("id", "signal_ts"), left_on="signal_id", right_on="id")
    assert (linked["fill_ts"] > linked["signal_ts"]).all()
    eq = stored["equity"]
    assert eq["equity"].to_list() == res.equity["equity"].to_list()
    pq = pl.read_parquet(tmp_path / "equity" / f"run_id={run_id}" / "equity.parquet")
    assert pq["equity"].to_list() == res.equity["equity"].to_list()
    assert pq.columns == ["run_id", "ts", "equity", "cash", "positions_value"]  # spec §4.3 only
    from statarb.backtest.accruals_dataset import RunAccrualsDataset

    acc = RunAccrualsDataset(str(tmp_path / "equity")).load()
    mine = acc.filter(pl.col("run_id") == run_id).collect()
    assert mine["ts"].to_list() == res.equity["ts"].to_list()
    assert mine["borrow_cost"].to_list() == res.equity["borrow_cost"].to_list()
    assert mine["financing_cost"].to_list() == res.equity["financing_cost"].to_list()
    assert RunAccrualsDataset(str(tmp_path / "none")).load().collect().height == 0
    # a second run gets the next number; its signal ids do not collide
    run2 = save_run(res, cfg, db)
    assert run2 == f"bt_{today}_002"
    assert load_run(db, run2)["signals"]["id"].min() > max(ids)


def test_existing_run_id_is_refused(db: str, result_and_cfg) -> None:
    res, cfg = result_and_cfg
    save_run(res, cfg, db, run_id="bt_20240101_007")
    before = _counts(db)
    with pytest.raises(RunExistsError, match="bt_20240101_007.*immutable"):
        save_run(res, cfg, db, run_id="bt_20240101_007")
    assert _counts(db) == before


def test_failure_after_fills_insert_leaves_nothing(db: str, result_and_cfg, monkeypatch) -> None:
    res, cfg = result_and_cfg
    real = persistence.write_frame
    seen = []

    def failing(conn, table, df, mode="upsert"):
        seen.append(table)
        if table == "backtest_equity":  # fills are already inserted at this point
            raise RuntimeError("injected failure after the fills insert")
        return real(conn, table, df, mode)

    monkeypatch.setattr(persistence, "write_frame", failing)
    with pytest.raises(RuntimeError, match="injected"):
        save_run(res, cfg, db)
    assert seen == list(TABLES)
    assert _counts(db) == dict.fromkeys(TABLES, 0)


def test_validation_rejects_events_outside_the_run(result_and_cfg) -> None:
    res, _ = result_and_cfg
    late = res.fills.with_columns(
        pl.when(pl.int_range(pl.len()) == 1)
        .then(pl.col("fill_ts") + pl.duration(days=1))
        .otherwise(pl.col("fill_ts"))
        .alias("fill_ts")
    )
    bad = type(res)(**{**res.__dict__, "fills": late})
    with pytest.raises(RunValidationError, match=r"backtest_fills: row 1: rule 'fill_ts within"):
        validate_result(bad)
    wrong = res.signals.with_columns(pl.lit("sideways").alias("direction"))
    with pytest.raises(RunValidationError, match="backtest_signals: row 0: rule 'direction in"):
        validate_result(type(res)(**{**res.__dict__, "signals": wrong}))


def test_run_dataset_saves_and_loads_newest(db: str, result_and_cfg) -> None:
    from kedro.io import DatasetError

    from statarb.backtest.run_dataset import BacktestRunDataset

    res, cfg = result_and_cfg
    fresh = BacktestRunDataset(credentials={"con": db})
    with pytest.raises(DatasetError, match="no run stored"):
        fresh.load()
    with pytest.raises(DatasetError, match="expects"):
        fresh.save({"result": res})
    ds = BacktestRunDataset(credentials={"con": db})
    ds.save({"result": res, "config": cfg, "run_id": "bt_20240102_001"})
    ds.save({"result": res, "config": cfg, "run_id": "bt_20240102_002"})
    assert ds.load()["run_id"] == "bt_20240102_002"
    loaded = BacktestRunDataset(credentials={"con": db}).load()  # newest by created_at
    assert loaded["run_id"] == "bt_20240102_002"
    assert loaded["fills"].height == res.fills.height
