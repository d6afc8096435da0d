"""``statarb sql`` is read-only (spec §9.5): the store, the database and the file system are safe.

Each statement that reached the store, a system file or the database before the lock-down is run
as a user would and must be refused (or, for ``DELETE``/``DROP``, change only the session's copy).
"""

from __future__ import annotations

import polars as pl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from statarb.cli import main
from statarb.reporting.duckdb_views import open_store
from statarb.storage.database import dispose_engines, ensure_schema, get_engine
from statarb.storage.parquet_store import partition_files, scan_store, write_partitions
from statarb.storage.sql_io import write_frame
from tests.conftest import throwaway_pg_database
from tests.project_fixtures import make_project
from tests.storage.sql_fixtures import symbols_frame
from tests.storage.test_store_tiers import _intraday


@pytest.fixture
def project(tmp_path, db_url):
    root = make_project(tmp_path / "proj", db_url)
    write_partitions(_intraday(("AAA", "BBB"), days=2, per_day=10), root / "data/bars", "bars",
                     source="synthetic", fsync=False)  # fmt: skip
    ensure_schema(db_url)
    with get_engine(db_url).begin() as conn:
        write_frame(conn, "symbols", symbols_frame("AAA", "BBB"))
    yield root
    dispose_engines()


def _run(project, query):
    return CliRunner().invoke(main, ["sql", "--project", str(project), "--format", "csv", query])


def test_copy_into_the_store_is_refused_and_the_partition_is_intact(project):
    (part, *_) = partition_files(project / "data/bars", "bars")
    before = part.read_bytes()
    rel = part.relative_to(project).as_posix()
    for target in (rel, str(part)):
        r = _run(project, f"COPY (SELECT * FROM bars WHERE false) TO '{target}' (FORMAT parquet)")
        assert r.exit_code != 0 and "Permission" in r.output, r.output
    assert part.read_bytes() == before
    assert scan_store(project / "data/bars", "bars").collect().height == 40


def test_copy_outside_the_reports_folder_is_refused_inside_allowed(project, tmp_path):
    outside = tmp_path / "elsewhere.csv"
    r = _run(project, f"COPY (SELECT 1 AS a) TO '{outside}'")
    assert r.exit_code != 0 and not outside.exists()
    reports = project / "data/08_reporting"
    reports.mkdir(parents=True)
    r = _run(
        project,
        f"COPY (SELECT symbol, count(*) AS n FROM bars GROUP BY 1) TO '{reports / 'n.csv'}'",
    )
    assert r.exit_code == 0, r.output
    assert pl.read_csv(reports / "n.csv").sort("symbol")["n"].to_list() == [20, 20]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM read_csv('/etc/hostname')",
        "SELECT count(*) FROM read_parquet('data/bars/**/*.parquet')",
        "ATTACH 'data/statarb.db' AS real_db",
        "SET enable_external_access = true",
        "INSTALL httpfs",
        "LOAD sqlite",
    ],
)
def test_file_functions_attach_and_settings_are_refused(project, query):
    r = _run(project, query)
    assert r.exit_code != 0, r.output


def test_delete_and_drop_never_reach_the_database(project, db_url):
    sess = open_store(project)
    sess.con.execute("DELETE FROM symbols")
    sess.con.execute("DROP TABLE backtest_runs")
    assert sess.con.sql("SELECT count(*) FROM symbols").fetchall()[0][0] == 0
    with get_engine(db_url).connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM symbols")).scalar_one() == 2
        assert "backtest_runs" in sa.inspect(conn).get_table_names()


@pytest.mark.postgres
def test_an_empty_postgres_database_is_never_migrated(tmp_path):
    with throwaway_pg_database() as empty:
        root = make_project(tmp_path / "p", empty)
        r = CliRunner().invoke(main, ["sql", "--project", str(root), "SELECT 1 AS one"])
        assert r.exit_code == 0 and "statarb db upgrade" in r.output, r.output
        eng = sa.create_engine(empty)
        try:
            assert sa.inspect(eng).get_table_names() == []  # no table was created
        finally:
            eng.dispose()
        r = CliRunner().invoke(main, ["runs", "list", "--project", str(root)])
        assert r.exit_code != 0 and "statarb db upgrade" in r.output


def test_an_outdated_database_is_reported_not_upgraded(tmp_path):
    from statarb.storage.database import current_revision, upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0002")
    root = make_project(tmp_path / "p", url)
    r = CliRunner().invoke(main, ["sql", "--project", str(root), "SELECT 1 AS one"])
    assert "revision '0002'" in r.output and "statarb db upgrade" in r.output
    assert current_revision(url) == "0002"
    dispose_engines()
