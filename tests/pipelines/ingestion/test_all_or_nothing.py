"""A failed ingestion run changes nothing: store, database and quarantine stay exactly as before.

Each case first ingests a good delivery, then a bigger one (a new symbol, a new day, a new
corporate action) that fails on its *last* input or while publishing; afterwards every file under
``data/`` (store partitions, quarantine files, report) and every table row is compared byte for
byte / value for value with the state before the failed run, and no temporary file is left.
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest
from kedro.io import DatasetError
from kedro.runner import SequentialRunner
from tests.ingest.kedro_helpers import build_catalog, load_params
from tests.ingest.rawfiles import bars_csv
from tests.pipelines.ingestion.snapshots import file_bytes, table_rows

from statarb.ingest import IngestionError
from statarb.ingest.output_datasets import ReportDataset
from statarb.pipelines.ingestion import create_pipeline
from statarb.storage import sql_io, write_batch
from statarb.storage.database import dispose_engines

SYMBOLS = "ticker,name,asset_class,exchange,currency,sector\nAAA,A,equity,XNAS,USD,Tech\n"
ACTIONS = "ticker,action,ex_date,ratio,cash_amount,note\n"
OK = (10.0, 11.0, 9.0, 10.5, 100)
STAGING = "data/02_intermediate/ingestion_staging"


def _day(date: str, symbols: tuple[str, ...]) -> bytes:
    return bars_csv([(s, date, f"09:{30 + m}:00", *OK) for s in symbols for m in range(3)])


def _ticks(date: str, symbols: tuple[str, ...]) -> bytes:
    buf = io.BytesIO()
    pl.DataFrame(
        {
            "sym": list(symbols),
            "ts": [f"{date} 09:30:0{i}.000001" for i in range(len(symbols))],
            "px": [10.0] * len(symbols),
            "qty": [5.0] * len(symbols),
            "side": ["B"] * len(symbols),
            "venue": ["XNAS"] * len(symbols),
        }
    ).write_parquet(buf)
    return buf.getvalue()


def _write_first_delivery(raw: Path) -> None:
    (raw / "bars").mkdir(parents=True)
    (raw / "ticks").mkdir()
    (raw / "symbols.csv").write_text(SYMBOLS)
    (raw / "corporate_actions.csv").write_text(ACTIONS)
    (raw / "bars" / "SYNTH_bars_20260305.csv").write_bytes(_day("2026-03-05", ("AAA",)))
    (raw / "ticks" / "SYNTH_ticks_20260305.parquet").write_bytes(_ticks("2026-03-05", ("AAA",)))


def _write_second_delivery(raw: Path) -> None:
    """A new symbol BBB (symbols, bars, ticks, a split) and a new day, 2026-03-06."""
    (raw / "symbols.csv").write_text(SYMBOLS + "BBB,B,equity,XNYS,USD,Tech\n")
    (raw / "corporate_actions.csv").write_text(ACTIONS + "BBB,split,2026-03-06,2.0,,2:1\n")
    (raw / "bars" / "SYNTH_bars_20260306.csv").write_bytes(_day("2026-03-06", ("AAA", "BBB")))
    (raw / "ticks" / "SYNTH_ticks_20260306.parquet").write_bytes(
        _ticks("2026-03-06", ("AAA", "BBB"))
    )


def _run(tmp_path: Path, raw: Path, db_url: str) -> None:
    """One ingestion run, one raw file per group: the failing last input comes after groups
    whose rows are already staged (docs/ingestion.md, "Streaming")."""
    params = load_params()
    params["ingestion"]["streaming"]["files_per_group"] = 1
    SequentialRunner().run(create_pipeline(), build_catalog(tmp_path, raw, db_url, params))


def _break_last_tick_file(raw: Path, monkeypatch) -> type[BaseException]:
    (raw / "ticks" / "SYNTH_ticks_20260307.parquet").write_bytes(b"PAR1 truncated")
    return IngestionError


def _break_last_bar_header(raw: Path, monkeypatch) -> type[BaseException]:
    (raw / "bars" / "SYNTH_bars_20260309.csv").write_bytes(
        b"Ticker,Date,Time,Open,High,Low,Close,Vol\nBBB,2026-03-09,09:30:00,1,1,1,1,1\n"
    )
    return IngestionError


def _fail_saving_the_report(raw: Path, monkeypatch) -> type[BaseException]:
    def full_disk(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ReportDataset, "_writer", full_disk)  # the last output saved
    return DatasetError  # Kedro wraps errors of a save


def _fail_in_the_database(raw: Path, monkeypatch) -> type[BaseException]:
    real = sql_io.write_frame

    def refuse_actions(conn, table, df, *args, **kwargs):
        if table == "corporate_actions":
            raise sql_io.SchemaMismatch(table, "injected failure at publish time")
        return real(conn, table, df, *args, **kwargs)

    monkeypatch.setattr("statarb.storage.write_batch.write_frame", refuse_actions)
    return sql_io.SchemaMismatch


FAILURES = {
    "broken_last_tick_file": _break_last_tick_file,
    "broken_bar_header_after_new_symbol": _break_last_bar_header,
    "publish_fails_saving_last_output": _fail_saving_the_report,
    "publish_fails_in_database": _fail_in_the_database,
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_failed_run_changes_nothing(tmp_path, db_url, monkeypatch, failure):
    raw = tmp_path / "raw"
    _write_first_delivery(raw)
    try:
        _run(tmp_path, raw, db_url)
        files, rows = file_bytes(tmp_path / "data"), table_rows(db_url)
        assert rows["symbols"] and any("quarantine" in f for f in files)  # a real first state
        assert not (tmp_path / STAGING).exists()  # published: the staged rows are removed
        _write_second_delivery(raw)
        error = FAILURES[failure](raw, monkeypatch)
        with pytest.raises(error):
            _run(tmp_path, raw, db_url)
        monkeypatch.undo()
        assert write_batch.current("ingestion") is None  # aborted, not left open
        assert file_bytes(tmp_path / "data") == files  # nothing new, nothing left behind
        assert not (tmp_path / STAGING).exists()
        assert table_rows(db_url) == rows
        # the same delivery without the failure is then ingested whole
        for f in ("SYNTH_ticks_20260307.parquet", "SYNTH_bars_20260309.csv"):
            for sub in ("ticks", "bars"):
                (raw / sub / f).unlink(missing_ok=True)
        _run(tmp_path, raw, db_url)
        rows = table_rows(db_url)
        assert [r[0] for r in rows["symbols"]] == ["AAA", "BBB"]
        assert len(rows["corporate_actions"]) == 1
        assert "bars/source=synthetic/date=2026-03-06/data.parquet" in file_bytes(tmp_path / "data")
    finally:
        dispose_engines()
