"""Ingestion pipeline end to end with Kedro's SequentialRunner on small raw files."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from kedro.runner import SequentialRunner
from tests.ingest.kedro_helpers import build_catalog
from tests.ingest.rawfiles import bars_csv

from statarb.ingest import IngestionError
from statarb.pipelines.ingestion import create_pipeline
from statarb.pipelines.preprocessing import create_pipeline as create_preprocessing_pipeline
from statarb.storage.database import dispose_engines

SYMBOLS = b"""ticker,name,asset_class,exchange,currency,sector
aaa,Alpha,equity,XNAS,USD,Tech
BBB,Beta,equity,XNYS,USD,Energy
"""
ACTIONS = b"""ticker,action,ex_date,ratio,cash_amount,note
AAA,split,2026-03-09,2.0,,2-for-1
ZZZ,dividend,2026-03-09,,0.1,unknown symbol
"""
OK = (10.0, 11.0, 9.0, 10.5, 100)


def _day(date: str, bad: bool = False) -> bytes:
    rows = [
        ("aaa", date, "09:30:00", *OK),
        ("AAA", date, "09:31:00", *OK),
        ("BBB", date, "09:30:00", *OK),
    ]
    if bad:
        rows += [
            ("AAA", date, "09:31:00", *OK),  # duplicate
            ("AAA", date, "09:32:00", 10.0, 11.0, 9.0, -10.5, 100),  # negative_price
            ("QQQQ", date, "09:32:00", *OK),  # unknown_symbol
        ]
    return bars_csv(rows)


def _ticks(path: Path, date: str) -> None:
    pl.DataFrame(
        {
            "sym": ["aaa", "AAA", "BBB"],
            "ts": [f"{date} 09:30:00.000001", f"{date} 09:30:30.500000", f"{date} 09:31:00.000000"],
            "px": [10.0, 10.2, 20.0],
            "qty": [5.0, 7.0, 1.0],
            "side": ["B", "S", "B"],
            "venue": ["XNAS", "XNAS", "XNYS"],
        }
    ).write_parquet(path)


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    (raw / "bars").mkdir(parents=True)
    (raw / "ticks").mkdir()
    (raw / "symbols.csv").write_bytes(SYMBOLS)
    (raw / "corporate_actions.csv").write_bytes(ACTIONS)
    (raw / "bars" / "SYNTH_bars_20260306.csv").write_bytes(_day("2026-03-06", bad=True))
    (raw / "bars" / "SYNTH_bars_20260309.csv").write_bytes(_day("2026-03-09"))
    _ticks(raw / "ticks" / "SYNTH_ticks_20260309.parquet", "2026-03-09")
    return raw


def _store_snapshot(root: Path) -> dict[str, pl.DataFrame]:
    return {
        str(p.relative_to(root.parent)): pl.read_parquet(p) for p in sorted(root.rglob("*.parquet"))
    }


def _run(tmp_path: Path, raw: Path, db_url: str):
    catalog = build_catalog(tmp_path, raw, db_url)
    SequentialRunner().run(create_pipeline(), catalog)
    return catalog


def test_ingestion_run_quarantine_report_idempotent_incremental(tmp_path, raw, db_url):
    try:
        catalog = _run(tmp_path, raw, db_url)
        # quarantine names file, row and rule; nothing invalid reached the store
        q = pl.read_parquet(tmp_path / "data/02_intermediate/quarantine/bars.parquet")
        assert q.select("rule", "source_file", "source_row").rows() == [
            ("duplicate", "SYNTH_bars_20260306.csv", 4),
            ("negative_price", "SYNTH_bars_20260306.csv", 5),
            ("unknown_symbol", "SYNTH_bars_20260306.csv", 6),
        ]
        report = json.loads((tmp_path / "data/08_reporting/ingestion_report.json").read_text())
        assert report["bars"]["rows_read"] == 9 and report["bars"]["rows_valid"] == 6
        assert report["quarantined_by_rule"] == {
            "duplicate": 1,
            "negative_price": 1,
            "unknown_symbol": 2,
        }
        assert report["bars"]["quarantined_by_file"] == {
            "SYNTH_bars_20260306.csv": {"duplicate": 1, "negative_price": 1, "unknown_symbol": 1}
        }
        bars = catalog.load("bars").collect().sort("symbol", "datetime")
        assert bars.height == 6
        assert (bars["adj_factor"] == 1.0).all() and (bars["source"] == "synthetic").all()
        assert set(bars["symbol"]) == {"AAA", "BBB"}
        ticks = catalog.load("ticks").collect()
        assert ticks.height == 3 and sorted(ticks["side"].to_list()) == ["buy", "buy", "sell"]
        symbols = catalog.load("symbols")
        assert sorted(symbols["symbol_id"].to_list()) == ["AAA", "BBB"]
        ca = catalog.load("corporate_actions")
        assert ca.select("symbol_id", "action_type", "ratio").rows() == [("AAA", "split", 2.0)]

        # idempotent: re-running on the same raw files leaves the store content identical
        store = tmp_path / "data"
        before = _store_snapshot(store / "bars") | _store_snapshot(store / "ticks")
        _run(tmp_path, raw, db_url)
        after = _store_snapshot(store / "bars") | _store_snapshot(store / "ticks")
        assert before.keys() == after.keys()
        for k in before:
            assert before[k].equals(after[k]), k
        assert catalog.load("corporate_actions").height == 1
        assert catalog.load("symbols").height == 2

        # incremental: a new day's file adds only its partition, old partitions unchanged
        (raw / "bars" / "SYNTH_bars_20260310.csv").write_bytes(_day("2026-03-10"))
        _run(tmp_path, raw, db_url)
        grown = _store_snapshot(store / "bars")
        assert set(grown) - set(before) == {"bars/source=synthetic/date=2026-03-10/data.parquet"}
        for k in grown.keys() & before.keys():
            assert grown[k].equals(before[k]), k
    finally:
        dispose_engines()


def test_unparseable_file_fails_run_with_file_name(tmp_path, raw):
    (raw / "bars" / "SYNTH_bars_20260311.csv").write_bytes(b"Ticker,Date\nAAA,2026-03-11\n")
    db = f"sqlite:///{tmp_path / 'x.db'}"
    try:
        with pytest.raises(IngestionError, match=r"SYNTH_bars_20260311\.csv: missing column"):
            _run(tmp_path, raw, db)
        assert not (tmp_path / "data/bars").exists() or not list(
            (tmp_path / "data/bars").rglob("*.parquet")
        )
    finally:
        dispose_engines()


@pytest.mark.parametrize("layout", ["empty_folder", "no_folder"])
def test_bars_only_vendor_without_tick_files(tmp_path, raw, layout):
    """No raw tick files is a valid delivery: bars are ingested, ticks are empty and reported."""
    for f in (raw / "ticks").iterdir():
        f.unlink()
    if layout == "no_folder":
        (raw / "ticks").rmdir()
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    try:
        _run(tmp_path, raw, url)
        report = json.loads((tmp_path / "data/08_reporting/ingestion_report.json").read_text())
        assert report["ticks"]["files"] == 0 and report["ticks"]["rows_valid"] == 0
        assert report["bars"]["rows_valid"] == 6
        assert not list((tmp_path / "data" / "ticks").rglob("*.parquet"))
        bars = pl.read_parquet(tmp_path / "data" / "bars" / "**" / "*.parquet")
        assert bars.height == 6
        # preprocessing downstream: adjusted bars as usual, tick bars empty
        catalog = build_catalog(tmp_path, raw, url)
        SequentialRunner().run(create_preprocessing_pipeline(), catalog)
        adjusted = catalog.load("bars_adjusted").collect()
        assert adjusted.height == 6
        assert not list((tmp_path / "data").glob("tick_bars/**/*.parquet"))
    finally:
        dispose_engines()
