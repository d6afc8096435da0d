"""``statarb db roles`` (spec §9.5): writer, read-only research and reporting roles on PostgreSQL.

Roles are cluster-wide, so each test uses its own prefix and drops its roles afterwards. The
server trusts local connections, so a role name in the URL is enough to act as that role.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import polars as pl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from statarb.cli import main
from statarb.storage import database, roles
from statarb.storage.access import ReadOnlyStoreError
from statarb.storage.sql_dataset import SQLTableDataset
from statarb.storage.sql_io import write_frame
from tests.conftest import throwaway_pg_database
from tests.storage.sql_fixtures import pair_frame, run_frame, symbols_frame


def _as(url: str, role: str) -> str:
    return sa.make_url(url).set(username=role, password=None).render_as_string(hide_password=False)


@pytest.fixture
def pg_roles():
    prefix = f"t{uuid.uuid4().hex[:10]}"
    with throwaway_pg_database() as url:
        database.upgrade(url)
        with database.get_engine(url).begin() as conn:
            write_frame(conn, "symbols", symbols_frame("AAPL", "MSFT"))
            write_frame(conn, "pair_universe", pair_frame(("AAPL", "MSFT")))
            write_frame(conn, "backtest_runs", run_frame())
        res = CliRunner().invoke(main, ["db", "roles", "--db-url", url, "--prefix", prefix])
        assert res.exit_code == 0, res.output
        try:
            yield url, roles.role_names(prefix)
        finally:
            database.dispose_engines()
            roles.drop_roles(url, prefix)


def _refused(save, *args, match: str) -> None:
    """``save(*args)`` fails with a ReadOnlyStoreError (Kedro wraps it in a DatasetError)."""
    with pytest.raises(Exception) as info:
        save(*args)
    chain = [info.value, info.value.__cause__]
    assert any(isinstance(e, ReadOnlyStoreError) for e in chain), chain
    assert re.search(match, str(info.value)), str(info.value)


def _metrics() -> pl.DataFrame:
    return pl.DataFrame({"run_id": ["bt_20240102_001"], "sharpe_annual": [1.2], "num_trades": [3]})


@pytest.mark.postgres
def test_reader_reads_and_every_write_is_refused(pg_roles):
    url, names = pg_roles
    reader = _as(url, names["reader"])
    ds = SQLTableDataset("symbols", credentials={"con": reader})
    assert ds.load()["symbol_id"].to_list() == ["AAPL", "MSFT"]
    _refused(ds.save, symbols_frame("SPY"), match=rf"symbols: write refused for {names['reader']}")
    metrics = SQLTableDataset("backtest_metrics", credentials={"con": reader})
    _refused(metrics.save, _metrics(), match="backtest_metrics: write refused")


@pytest.mark.postgres
def test_reporting_writes_backtest_metrics_and_nothing_else(pg_roles):
    url, names = pg_roles
    rep = _as(url, names["reporting"])
    SQLTableDataset("backtest_metrics", credentials={"con": rep}).save(_metrics())
    SQLTableDataset("backtest_metrics", credentials={"con": rep}).save(
        _metrics().with_columns(pl.lit(2.5).alias("sharpe_annual"))
    )  # upsert: INSERT ... ON CONFLICT DO UPDATE
    got = SQLTableDataset("backtest_metrics", credentials={"con": url}).load()
    assert got["sharpe_annual"].to_list() == [2.5]
    runs = SQLTableDataset("backtest_runs", credentials={"con": rep})
    _refused(runs.save, run_frame("bt_20240103_001"), match="backtest_runs: write refused")


@pytest.mark.postgres
def test_writer_writes_data_but_cannot_change_the_schema(pg_roles):
    url, names = pg_roles
    writer = _as(url, names["writer"])
    eng = database.get_engine(writer)
    with eng.begin() as conn:  # a whole run, events with SERIAL ids included
        write_frame(conn, "backtest_runs", run_frame("bt_20240104_001"))
        write_frame(
            conn,
            "backtest_signals",
            pl.DataFrame(
                {
                    "run_id": ["bt_20240104_001"],
                    "signal_ts": [dt.datetime(2024, 1, 5, 15, tzinfo=dt.UTC)],
                    "direction": ["long_spread"],
                }
            ),
        )
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), eng.begin() as conn:
        conn.execute(sa.text("CREATE TABLE scratch (x int)"))
    with pytest.raises(ReadOnlyStoreError, match="schema_version"), eng.begin() as conn:
        write_frame(conn, "schema_version", pl.DataFrame({"version": [99]}))
    database.ensure_schema(writer)  # at head: the writer checks, never needs to migrate


def test_roles_are_postgresql_only(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    res = CliRunner().invoke(main, ["db", "roles", "--db-url", url])
    assert res.exit_code != 0 and "only on PostgreSQL" in res.output
