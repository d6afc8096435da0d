"""The SQLite bulk path stores exactly what SQLAlchemy's own executemany stores."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from statarb.storage import database, sql_bulk_sqlite
from statarb.storage.sql_io import write_frame
from tests.storage.sql_fixtures import pair_frame, symbols_frame, utc

TABLES = ["symbols", "pair_universe", "corporate_actions", "cointegration_results", "ou_params"]


def _frames() -> dict[str, pl.DataFrame]:
    ts = [utc(2024, 1, 2, 14, 31), dt.datetime(2024, 1, 2, 15, 0, 0, 123456, tzinfo=dt.UTC)]
    return {
        "symbols": symbols_frame("AAPL", "MSFT"),
        "pair_universe": pair_frame(("AAPL", "MSFT")),
        "corporate_actions": pl.DataFrame({
            "symbol_id": ["AAPL", "MSFT"], "action_type": ["split", "dividend"],
            "ex_date": [dt.date(2024, 1, 10), dt.date(2024, 1, 11)],
            "recorded_at": [ts[1], None], "ratio": [4.0, None], "cash_amount": [None, 0.75],
        }),
        "cointegration_results": pl.DataFrame({
            "pair_id": ["AAPL_MSFT"] * 2, "test_ts": ts, "adf_statistic": [-3.5, float("nan")],
            "adf_pvalue": [1.2345678901234567e-5, None], "is_cointegrated": [True, None],
        }),
        "ou_params": pl.DataFrame({
            "pair_id": ["AAPL_MSFT"], "window_start": [ts[0]], "window_end": [ts[1]],
            "theta": [0.01], "mu": [0.0], "sigma": [0.3], "created_at": [ts[1]],
        }),
    }  # fmt: skip


def _stored(path: Path) -> dict[str, list[tuple]]:
    """Every column of every table as (SQLite storage class, value), ids and server stamps
    excepted (they differ by construction)."""
    out = {}
    with sqlite3.connect(path) as con:
        for table in TABLES:
            cols = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
            cols = [c for c in cols if c not in ("id", "created_at", "updated_at")] or cols
            sel = ", ".join(f"typeof({c}), {c}" for c in cols)
            out[table] = con.execute(f"SELECT {sel} FROM {table} ORDER BY 2, 4").fetchall()
    return out


def _write(url: str, upsert_twice: bool) -> None:
    database.upgrade(url)
    eng = database.get_engine(url)
    for _ in range(2 if upsert_twice else 1):
        with eng.begin() as conn:
            for table, frame in _frames().items():
                write_frame(conn, table, frame, mode="upsert")


@pytest.mark.parametrize("upsert_twice", [False, True])
def test_bulk_path_stores_what_sqlalchemy_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, upsert_twice: bool
) -> None:
    calls: list[bool] = []
    real = sql_bulk_sqlite.execute_many

    def spy(*a, **k):
        calls.append(real(*a, **k))
        return calls[-1]

    monkeypatch.setattr(sql_bulk_sqlite, "execute_many", spy)
    _write(f"sqlite:///{tmp_path / 'bulk.db'}", upsert_twice)
    assert calls and all(calls), "every write should have taken the bulk path"
    monkeypatch.setattr(sql_bulk_sqlite, "execute_many", lambda *a, **k: False)
    _write(f"sqlite:///{tmp_path / 'core.db'}", upsert_twice)
    database.dispose_engines()
    bulk, core = _stored(tmp_path / "bulk.db"), _stored(tmp_path / "core.db")
    assert bulk["cointegration_results"][0][:4] == ("text", "AAPL_MSFT", "text",
                                                    "2024-01-02 14:31:00.000000")  # fmt: skip
    assert bulk == core


def test_statement_with_a_bind_outside_the_frame_is_left_to_the_caller(tmp_path: Path) -> None:
    eng = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    t = sa.Table("t", sa.MetaData(), sa.Column("a", sa.Integer), sa.Column("b", sa.Integer))
    t.metadata.create_all(eng)
    with eng.begin() as conn:
        stmt = sa.insert(t)
        assert not sql_bulk_sqlite.execute_many(
            conn, stmt, pl.DataFrame({"a": [1]}).rename({"a": "c"}), 10
        )
        assert sql_bulk_sqlite.execute_many(
            conn, stmt, pl.DataFrame({"a": [1, 2], "b": [3, None]}), 1
        )
        assert conn.execute(sa.text("SELECT a, b FROM t ORDER BY a")).all() == [(1, 3), (2, None)]
