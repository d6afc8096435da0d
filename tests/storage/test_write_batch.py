"""Write batches: staged saves of several datasets published together, or not at all."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from statarb.storage import partition_writer, write_batch
from statarb.storage.errors import IntegrityViolation
from statarb.storage.parquet_dataset import PartitionedParquetDataset
from statarb.storage.sql_dataset import SQLTableDataset
from statarb.storage.sql_io import read_table
from tests.storage.sql_fixtures import engine_fixture, symbols_frame  # noqa: F401

UTC = dt.UTC


def _bars(day: int, close: float) -> pl.DataFrame:
    ts = [dt.datetime(2026, 3, day, 14, 30 + i, tzinfo=UTC) for i in range(3)]
    return pl.DataFrame(
        {
            "symbol": ["AAA"] * 3,
            "datetime": ts,
            "open": [10.0] * 3,
            "high": [11.0] * 3,
            "low": [9.0] * 3,
            "close": [close] * 3,
            "volume": [100.0] * 3,
            "adj_factor": [1.0] * 3,
        }
    )


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _tables(engine: sa.Engine) -> dict[str, list[tuple]]:
    return {t: read_table(engine, t).rows() for t in ("symbols", "corporate_actions")}


@pytest.fixture(autouse=True)
def _no_open_batch():
    """Batches are process-wide: none may leak from one test into the next."""
    yield
    write_batch.abort()


@pytest.fixture
def parts(tmp_path: Path, engine: sa.Engine):
    """Datasets joining batch ``b``, and a first state published without a batch."""
    url = engine.url.render_as_string(hide_password=False)
    bars = PartitionedParquetDataset(
        str(tmp_path / "store"), "bars", source="s", save_args={"write_batch": "b"}
    )
    symbols = SQLTableDataset("symbols", {"con": url}, save_args={"write_batch": "b"})
    actions = SQLTableDataset("corporate_actions", {"con": url}, save_args={"write_batch": "b"})
    symbols.save(symbols_frame("AAA"))  # no batch open: written at once
    bars.save(_bars(2, 10.0))
    return bars, symbols, actions


def _action(symbol: str) -> pl.DataFrame:
    split = {"action_type": ["split"], "ex_date": [dt.date(2026, 3, 4)], "ratio": [2.0]}
    return pl.DataFrame({"symbol_id": [symbol], **split})


def test_staged_saves_are_invisible_until_confirm(tmp_path, engine, parts):
    bars, symbols, actions = parts
    before, rows = _snapshot(tmp_path / "store"), _tables(engine)
    handle = write_batch.WriteBatchDataset("b")
    assert handle.load() == "b"
    symbols.save(symbols_frame("AAA", "BBB"))
    actions.save(_action("BBB"))  # FK on a symbol staged in the same batch
    bars.save(_bars(2, 10.5))  # replaces a partition
    bars.save(_bars(3, 11.0))  # and adds one
    assert {k: v for k, v in _snapshot(tmp_path / "store").items() if ".tmp-" not in k} == before
    assert _tables(engine) == rows
    handle.confirm()
    assert write_batch.current("b") is None
    after = _snapshot(tmp_path / "store")
    assert sorted(after) == [
        "source=s/date=2026-03-02/data.parquet",
        "source=s/date=2026-03-03/data.parquet",
    ]
    assert set(bars.load().collect()["close"]) == {10.5, 11.0}
    assert read_table(engine, "symbols")["symbol_id"].to_list() == ["AAA", "BBB"]
    assert read_table(engine, "corporate_actions")["symbol_id"].to_list() == ["BBB"]


def _stage_all(parts) -> None:
    bars, symbols, actions = parts
    write_batch.begin("b")
    symbols.save(symbols_frame("AAA", "CCC"))
    bars.save(_bars(2, 12.0))
    bars.save(_bars(4, 12.0))
    return actions


def test_database_refusal_at_commit_changes_nothing(tmp_path, engine, parts):
    before, rows = _snapshot(tmp_path / "store"), _tables(engine)
    actions = _stage_all(parts)
    actions.save(_action("ZZZ"))  # unknown symbol: refused inside the batch's transaction
    with pytest.raises(IntegrityViolation, match="corporate_actions"):
        write_batch.current("b").commit()
    assert _snapshot(tmp_path / "store") == before  # no partition, tmp or backup file left
    assert _tables(engine) == rows
    assert write_batch.current("b") is None


def test_failed_database_commit_puts_the_old_files_back(tmp_path, engine, parts, monkeypatch):
    before, rows = _snapshot(tmp_path / "store"), _tables(engine)
    _stage_all(parts)

    def boom(self):
        raise sa.exc.OperationalError("COMMIT", {}, Exception("connection lost"))

    monkeypatch.setattr(sa.engine.RootTransaction, "commit", boom)
    with pytest.raises(sa.exc.OperationalError):
        write_batch.current("b").commit()
    monkeypatch.undo()
    assert _snapshot(tmp_path / "store") == before
    assert _tables(engine) == rows


def test_failure_while_moving_files_puts_the_old_files_back(tmp_path, engine, parts, monkeypatch):
    before, rows = _snapshot(tmp_path / "store"), _tables(engine)
    _stage_all(parts)
    real, calls = os.replace, []

    def second_fails(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(partition_writer.os, "replace", second_fails)
    with pytest.raises(OSError, match="No space left"):
        write_batch.current("b").commit()
    monkeypatch.undo()
    assert _snapshot(tmp_path / "store") == before
    assert _tables(engine) == rows


def test_reopening_aborts_a_stale_batch_and_hook_aborts_on_error(tmp_path, engine, parts):
    before = _snapshot(tmp_path / "store")
    _stage_all(parts)
    assert any(".tmp-" in k for k in _snapshot(tmp_path / "store"))
    write_batch.begin("b")  # a previous run died after staging: its files are removed
    assert _snapshot(tmp_path / "store") == before
    _stage_all(parts)
    write_batch.AbortWriteBatchesHook().on_pipeline_error(RuntimeError(), {}, None, None)
    assert write_batch.current("b") is None and _snapshot(tmp_path / "store") == before


def test_handle_cannot_be_saved_or_confirmed_when_closed():
    from kedro.io import DatasetError

    handle = write_batch.WriteBatchDataset("nope")
    with pytest.raises(DatasetError, match="cannot be saved"):
        handle.save("anything")
    with pytest.raises(DatasetError, match="not open"):
        handle.confirm()
