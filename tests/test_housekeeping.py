"""Fault tests of housekeeping: what a killed write leaves is removed by the next write of that
dataset (never a live writer's file), and a second concurrent backtest on SQLite waits for the
write lock instead of failing with ``database is locked``."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from statarb.backtest.engine import run_backtest
from statarb.backtest.persistence import save_run
from statarb.backtest.synth import synthetic_inputs
from statarb.storage import leftovers
from statarb.storage.database import get_engine, upgrade, write_transaction
from statarb.storage.frame_chunks import PartitionChunks
from statarb.storage.parquet_dataset import PartitionedParquetDataset
from statarb.storage.parquet_store import scan_store, write_partitions
from statarb.storage.sql_io import read_table, write_frame
from tests.backtest._util import config, costs
from tests.storage.test_parquet_schemas import make_bars

DAY = 24 * 3600


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def live_pid():
    """A running process standing in for a concurrent writer."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield proc.pid
    proc.kill()
    proc.wait()


def _reference_rows(url: str) -> None:
    upgrade(url)
    pairs = pl.DataFrame({"pair_id": ["A000_B000"], "symbol_a": ["A000"], "symbol_b": ["B000"]})
    with get_engine(url).begin() as conn:
        write_frame(conn, "symbols", pl.DataFrame({"symbol_id": ["A000", "B000"]}))
        write_frame(conn, "pair_universe", pairs)


def _owned(folder: Path, name: str, pid: int) -> Path:
    host = leftovers.owner_tag().rsplit("-", 1)[0]
    return folder / f"{name}.tmp-{host}-{pid}-{uuid.uuid4().hex}"


def test_next_parquet_write_removes_what_a_killed_write_left(tmp_path, live_pid):
    (f,) = write_partitions(make_bars(n=1), tmp_path, "bars", source="SYN", fsync=False)
    part = f.parent
    dead = _owned(part, "data.parquet", _dead_pid())
    old_unowned = part / f"data.parquet.tmp-{uuid.uuid4().hex}"  # an older version's name
    fresh_unowned = part / f"data.parquet.tmp-{uuid.uuid4().hex}"
    live = _owned(part, "data.parquet", live_pid)
    for p in (dead, old_unowned, fresh_unowned, live):
        p.write_bytes(b"half a parquet file")
    os.utime(old_unowned, (time.time() - 2 * DAY,) * 2)
    backup = part / f"data.parquet.bak-{uuid.uuid4().hex}"  # a batch's backup: never swept
    backup.write_bytes(b"old copy")

    write_partitions(make_bars(n=1, base=20.0), tmp_path, "bars", source="SYN", fsync=False)

    assert not dead.exists() and not old_unowned.exists()
    assert live.exists() and fresh_unowned.exists() and backup.exists()
    assert scan_store(tmp_path, "bars").collect()["open"].to_list() == [20.0]


def test_a_chunked_save_scans_its_tree_for_leftovers_once(tmp_path, monkeypatch):
    """Saving chunk by chunk sweeps once per save (it grew with chunks x partitions before), and
    the leftovers a killed write left are still removed by that sweep."""
    days = [
        make_bars(n=1, start=dt.datetime(2026, 3, d, 14, 30, tzinfo=dt.UTC)) for d in range(2, 6)
    ]
    ds = PartitionedParquetDataset(str(tmp_path), "bars", source="SYN")
    ds.save(days[0])
    (part,) = {f.parent for f in tmp_path.rglob("data.parquet")}
    dead = _owned(part, "data.parquet", _dead_pid())
    dead.write_bytes(b"half a parquet file")
    scanned: list[str] = []
    real = leftovers.os.scandir
    monkeypatch.setattr(leftovers.os, "scandir", lambda p: scanned.append(str(p)) or real(p))

    ds.save(PartitionChunks([lambda f=f: f for f in days[1:]]))

    assert scanned.count(str(tmp_path)) == 1
    assert not dead.exists()
    assert scan_store(tmp_path, "bars").collect().height == 4
    ds.save(days[0])  # a later save sweeps again (outside the chunked save's block)
    assert scanned.count(str(tmp_path)) == 2


def test_staging_names_carry_their_owner(tmp_path):
    tmp = leftovers.temp_path(tmp_path / "data.parquet")
    assert tmp.name.startswith(f"data.parquet.tmp-{leftovers.owner_tag()}-")
    assert not leftovers.is_stale(tmp)  # this process is alive
    (tmp_path / "x").mkdir()
    assert leftovers.sweep(tmp_path) == []


def test_next_backtest_removes_a_killed_runs_equity_staging(tmp_path, live_pid):
    url = f"sqlite:///{tmp_path / 'statarb.db'}"
    _reference_rows(url)
    root = tmp_path / "equity"
    root.mkdir()
    host = leftovers.owner_tag().rsplit("-", 1)[0]
    dead = root / f".equity_tmp_{host}-{_dead_pid()}-abc123"
    live = root / f".equity_tmp_{host}-{live_pid}-def456"
    for d in (dead, live):
        d.mkdir()
        (d / "equity.parquet").write_bytes(b"partial")
    cfg = config(costs=costs())
    run_id = save_run(
        run_backtest(synthetic_inputs(200, 1, seed=1), cfg), cfg, url, equity_root=root
    )
    assert not dead.exists() and live.exists()
    assert (root / f"run_id={run_id}" / "equity.parquet").exists()


def test_second_concurrent_backtest_on_sqlite_waits_for_the_lock(tmp_path):
    """Run A holds the write lock for a second; run B, started meanwhile, waits and succeeds."""
    url = f"sqlite:///{tmp_path / 'statarb.db'}"
    _reference_rows(url)
    cfg = config(costs=costs())
    result = run_backtest(synthetic_inputs(200, 1, seed=1), cfg)
    holding, done = threading.Event(), {}

    def first_run() -> None:
        with write_transaction(url) as conn:  # what save_run opens
            conn.execute(sa.text("INSERT INTO symbols (symbol_id) VALUES ('C000')"))
            holding.set()
            time.sleep(1.0)
        done["a"] = time.monotonic()

    t = threading.Thread(target=first_run)
    t.start()
    assert holding.wait(30)
    t0 = time.monotonic()
    run_id = save_run(result, cfg, url)  # would raise "database is locked" without waiting
    waited = time.monotonic() - t0
    t.join()
    assert waited > 0.5 and time.monotonic() >= done["a"]
    runs = read_table(get_engine(url), "backtest_runs")
    assert runs["run_id"].to_list() == [run_id]
    # the same contention without a busy timeout fails at once: what the wait protects against
    path = tmp_path / "statarb.db"
    a, b = sqlite3.connect(path, timeout=30), sqlite3.connect(path, timeout=0)
    try:
        a.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            b.execute("BEGIN IMMEDIATE")
    finally:
        a.rollback()
        a.close()
        b.close()
