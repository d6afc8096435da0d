"""``statarb backup`` / ``statarb restore`` (spec §9.4) on both back-ends.

The round trip restores into an empty project (its own folder and an empty database configured
only in its ``conf/local/credentials.yml``): the store files, every table and a rerun of the
reporting pipeline (a real ``KedroSession``) are identical to the original project's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from click.testing import CliRunner

from statarb.cli import main
from statarb.storage import database
from statarb.storage.backup import project_files
from statarb.storage.parquet_store import write_partitions
from statarb.storage.resolver import load_project
from statarb.storage.sql_io import read_table, write_frame
from tests.conftest import throwaway_pg_database
from tests.project_fixtures import make_project
from tests.reporting.synthetic import make_synthetic_run
from tests.storage.sql_fixtures import symbols_frame

TABLES = ("symbols", "corporate_actions", "backtest_runs", "backtest_fills", "backtest_equity",
          "backtest_metrics")  # fmt: skip


@contextlib.contextmanager
def _second_db(db_url: str, tmp_path: Path):
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
    else:
        with throwaway_pg_database() as url:
            yield url


def _fill(root: Path, url: str) -> None:
    run = make_synthetic_run()
    write_partitions(run["bars_adjusted"], root / "data/bars_adjusted", "bars", source="SYNTH",
                     fsync=False)  # fmt: skip
    write_partitions(run["bars_adjusted"].drop("outlier_flag"), root / "data/bars", "bars",
                     source="SYNTH", fsync=False)  # fmt: skip
    sp = pl.DataFrame({"pair_id": "AAA_BBB", "datetime": run["equity"]["ts"], "spread": 0.1,
                       "beta": 1.0, "z_score": 0.0})  # fmt: skip
    write_partitions(sp, root / "data/alpha/spreads", "spread_series", fsync=False)
    (root / "data/backtest").mkdir(parents=True)
    (root / "data/backtest/latest_run_id.json").write_text(json.dumps("bt_test_001"))
    database.upgrade(url)
    with database.get_engine(url).begin() as conn:
        write_frame(conn, "symbols", symbols_frame("AAA", "BBB", "CCC", "DDD"))
        actions = pl.DataFrame({"symbol_id": ["AAA", "BBB"], "action_type": ["split", "dividend"],
                                "ex_date": [dt.date(2024, 1, 3), dt.date(2024, 1, 4)],
                                "ratio": [2.0, None], "cash_amount": [None, 0.5]})  # fmt: skip
        write_frame(conn, "corporate_actions", actions)
        for key, table in (("runs", "backtest_runs"), ("signals", "backtest_signals"),
                           ("fills", "backtest_fills"), ("equity", "backtest_equity")):  # fmt: skip
            write_frame(conn, table, run[key], mode="insert")


def _tables(url: str) -> dict[str, str]:
    eng = database.get_engine(url)
    out = {}
    for t in TABLES:
        df = read_table(eng, t)
        if t == "backtest_metrics":
            df = df.drop("computed_at")
        out[t] = hashlib.sha256(df.sort(df.columns).write_csv().encode()).hexdigest()
    return out


def _reporting(root: Path, monkeypatch) -> str:
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    monkeypatch.chdir(root)  # reporting.output_dir is relative to the run's folder
    bootstrap_project(root)
    with KedroSession.create(project_path=root) as session:
        session.run(pipeline_names=["reporting"])
    database.dispose_engines()
    page = (root / "data/08_reporting/bt_test_001/tearsheet.html").read_text()
    return re.sub(r"computed [0-9: +-]+ ·", "computed <t> ·", page)  # the run's computed_at


def _project(root: Path, url: str) -> Path:
    make_project(root, url)
    (root / "src").mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.kedro]\npackage_name = "statarb"\nproject_name = "statarb"\n'
        'kedro_init_version = "1.7.0"\nsource_dir = "src"\n'
    )
    return root


def test_round_trip_into_an_empty_project(db_url, tmp_path, monkeypatch):
    a = _project(tmp_path / "a", db_url)
    _fill(a, db_url)
    page_a = _reporting(a, monkeypatch)
    dest = tmp_path / "backups"
    res = CliRunner().invoke(main, ["backup", str(dest), "--project", str(a)])
    assert res.exit_code == 0, res.output
    with _second_db(db_url, tmp_path) as url_b:
        b = _project(tmp_path / "b", url_b)
        res = CliRunner().invoke(main, ["restore", str(dest), "--project", str(b)])
        assert res.exit_code == 0, res.output
        files_a = {k: p.read_bytes() for k, p in project_files(load_project(a)).items()}
        files_b = {k: p.read_bytes() for k, p in project_files(load_project(b)).items()}
        assert files_a == files_b and any(k.startswith("data/bars_adjusted/") for k in files_a)
        assert _tables(url_b) == _tables(db_url)
        page_b = _reporting(b, monkeypatch)  # a rerun of reporting on the restored project
        assert page_b == page_a
        assert _tables(url_b) == _tables(db_url)  # same metrics row
        database.dispose_engines()


def test_second_backup_copies_only_changed_partitions_and_retention(db_url, tmp_path):
    root = make_project(tmp_path / "p", db_url)
    _fill(root, db_url)
    dest = tmp_path / "b"
    proj = load_project(root)
    from statarb.storage.backup import backup

    first = backup(proj, dest, keep_last=2)
    n = len(first["files"])
    assert first["copied"] == n > 5 and first["reused"] == 0
    second = backup(proj, dest, keep_last=2)
    assert second["copied"] == 0 and second["reused"] == n
    part = sorted((root / "data/bars_adjusted").rglob("data.parquet"))[0]
    bars = pl.read_parquet(part).with_columns(pl.col("volume") + 1.0)
    write_partitions(bars, root / "data/bars_adjusted", "bars", source="SYNTH", fsync=False)
    third = backup(proj, dest, keep_last=2)
    assert third["copied"] == 1 and third["reused"] == n - 1
    assert third["pruned"] == [first["created_at"]]
    assert len(list((dest / "sets").iterdir())) == 2
    objects = {p.name for p in (dest / "objects").rglob("*") if p.is_file()}
    assert objects == {f["sha256"] for s in (second, third) for f in s["files"].values()}
    # corporate actions: full history survives retention, even of rows deleted since
    with database.get_engine(db_url).begin() as conn:
        conn.execute(sa.text("DELETE FROM corporate_actions WHERE symbol_id = 'AAA'"))
    for _ in range(3):
        backup(proj, dest, keep_last=1)
    history = pl.read_parquet(dest / "corporate_actions.parquet")
    assert sorted(history["symbol_id"].to_list()) == ["AAA", "BBB"]
    database.dispose_engines()


def test_restore_refuses_a_non_empty_target(db_url, tmp_path):
    root = make_project(tmp_path / "p", db_url)
    _fill(root, db_url)
    dest = tmp_path / "b"
    assert CliRunner().invoke(main, ["backup", str(dest), "--project", str(root)]).exit_code == 0
    res = CliRunner().invoke(main, ["restore", str(dest), "--project", str(root)])
    assert res.exit_code != 0 and "already holds" in res.output
    database.dispose_engines()
