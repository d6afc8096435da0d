"""Every ``statarb`` command reaches the database through the project's Kedro configuration.

PostgreSQL is configured *only* in ``conf/local/credentials.yml`` of a throw-away project (no
``STATARB_DB_URL``, no ``--db-url``; the commands run from the project folder), with a password in
the URL that must never be printed or stored. Each command must act on that database; none may
create the SQLite default.
"""

from __future__ import annotations

import json
import uuid

import polars as pl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from statarb.cli import main
from statarb.storage import database, roles
from statarb.storage.sql_io import write_frame
from tests.conftest import throwaway_pg_database
from tests.project_fixtures import make_project
from tests.storage.sql_fixtures import pair_frame, run_frame, symbols_frame

SECRET = "pw-Zq8-not-for-logs"


def _with_password(url: str) -> str:
    return sa.make_url(url).set(password=SECRET).render_as_string(hide_password=False)


@pytest.mark.postgres
def test_every_command_uses_postgres_from_credentials_yml(tmp_path, monkeypatch):
    monkeypatch.delenv("STATARB_DB_URL", raising=False)
    monkeypatch.delenv("KEDRO_ENV", raising=False)
    cli = CliRunner()
    outputs = []

    def run(*args, ok=True):
        res = cli.invoke(main, list(args))
        text = res.output + (f"\n{res.exception}" if res.exception else "")
        outputs.append(text)
        assert (res.exit_code == 0) is ok, text
        return text

    with throwaway_pg_database() as plain, throwaway_pg_database() as plain_b:
        url = _with_password(plain)  # trust auth ignores the password; it must stay hidden
        root = make_project(tmp_path / "proj", url)
        monkeypatch.chdir(root)
        name = sa.make_url(plain).database

        assert name in run("db", "url") and SECRET not in outputs[-1]
        assert "revision: (none" in run("db", "current")
        assert "statarb db upgrade" in run("runs", "list", ok=False)  # read-only: never migrates
        assert "at revision" in run("db", "upgrade")
        assert database.current_revision(plain) == database.head_revision()
        with database.get_engine(plain).begin() as conn:
            write_frame(conn, "symbols", symbols_frame("AAPL", "MSFT"))
            write_frame(conn, "pair_universe", pair_frame(("AAPL", "MSFT")))
            write_frame(conn, "backtest_runs", run_frame("bt_20240102_007"))
        assert f"revision: {database.head_revision()}" in run("db", "current")
        assert "bt_20240102_007" in run("runs", "list")
        assert '"fee_bps": 1' in run("runs", "show", "bt_20240102_007")
        sql = run("sql", "--format", "csv", "SELECT run_id FROM backtest_runs")
        assert sql.splitlines()[-1] == "bt_20240102_007"
        truth = root / "data/01_raw/ground_truth"
        truth.mkdir(parents=True)
        (truth / "pairs.json").write_text("[]")
        pl.DataFrame({"pair_id": ["AAPL_MSFT"], "datetime": [0], "beta": [1.0]}).write_parquet(
            truth / "beta_paths.parquet"
        )
        assert "cointegration_results in postgresql+psycopg://postgres:***@" in run(
            "recovery", ok=False
        )  # it read this database (which holds no alpha outputs)
        prefix = f"t{uuid.uuid4().hex[:10]}"
        try:
            assert f"{prefix}_reader" in run("db", "roles", "--prefix", prefix)
        finally:
            roles.drop_roles(plain, prefix)
        dest = tmp_path / "backups"
        assert "postgresql database" in run("backup", str(dest))
        manifest = next(dest.glob("sets/*/manifest.json")).read_text()
        assert json.loads(manifest)["db"]["url"].startswith("postgresql+psycopg://postgres:***@")

        other = make_project(tmp_path / "restored", _with_password(plain_b))
        monkeypatch.chdir(other)
        assert "restored set" in run("restore", str(dest))
        assert "bt_20240102_007" in run("runs", "list")
        database.dispose_engines()

    for folder in (root, other):
        assert not (folder / "data" / "statarb.db").exists()  # the SQLite default was never used
    for text in [*outputs, manifest]:
        assert SECRET not in text


def test_env_selects_the_environment_credentials(tmp_path, monkeypatch):
    monkeypatch.delenv("STATARB_DB_URL", raising=False)
    monkeypatch.delenv("KEDRO_ENV", raising=False)
    root = make_project(tmp_path / "proj")
    (root / "conf/research").mkdir()
    (root / "conf/research/credentials.yml").write_text("db:\n  con: sqlite:///data/research.db\n")
    url = f"sqlite:///{root / 'data/research.db'}"
    database.upgrade(url)
    with database.get_engine(url).begin() as conn:
        write_frame(conn, "backtest_runs", run_frame("bt_20240102_042", pair_id=None))
    cli = CliRunner()
    res = cli.invoke(main, ["runs", "list", "--project", str(root), "--env", "research"])
    assert res.exit_code == 0 and "bt_20240102_042" in res.output, res.output
    monkeypatch.setenv("KEDRO_ENV", "research")
    res = cli.invoke(main, ["sql", "--project", str(root), "--format", "csv",
                            "SELECT count(*) AS n FROM backtest_runs"])  # fmt: skip
    assert res.exit_code == 0 and res.output.splitlines()[-1] == "1", res.output
    res = cli.invoke(main, ["db", "url", "--project", str(root), "--env", "local"])
    assert res.output.strip().endswith("data/statarb.db")  # base: the SQLite default
    database.dispose_engines()
