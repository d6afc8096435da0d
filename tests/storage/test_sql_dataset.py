"""SQLTableDataset through a Kedro DataCatalog, URL resolution and the ``statarb db`` CLI."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from kedro.io import DataCatalog, DatasetError
from polars.testing import assert_frame_equal

from statarb.cli import main as statarb_cli
from statarb.storage import database
from statarb.storage.sql_dataset import SQLTableDataset
from tests.config_helpers import conf_file
from tests.storage.sql_fixtures import pair_frame, symbols_frame, utc

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_url(db_url: str):
    """A database that was never migrated: the dataset must bring it to head by itself."""
    yield db_url
    database.dispose_engines()


def _catalog(url: str) -> DataCatalog:
    """Catalog built from the project's own conf/base/catalog.yml SQL entries + a credentials dict."""
    conf = conf_file("catalog.yml")
    entries = {
        name: {k: v for k, v in cfg.items()}
        for name, cfg in conf.items()
        if not name.startswith("_") and cfg.get("type", "").endswith("SQLTableDataset")
    }
    entries["aapl_pairs"] = {
        "type": "statarb.storage.sql_dataset.SQLTableDataset",
        "table": "pair_universe",
        "credentials": "db",
        "load_args": {"where": "symbol_a = :s", "params": {"s": "AAPL"}},
    }
    entries["runs_insert_only"] = {
        "type": "statarb.storage.sql_dataset.SQLTableDataset",
        "table": "backtest_runs",
        "credentials": "db",
        "save_args": {"mode": "insert"},
    }
    return DataCatalog.from_config(entries, credentials={"db": {"con": url}})


def test_catalog_round_trip_on_fresh_database(fresh_url: str) -> None:
    catalog = _catalog(fresh_url)
    catalog.save("symbols", symbols_frame("AAPL", "MSFT", "SPY"))
    pairs = pair_frame(("AAPL", "MSFT"), ("AAPL", "SPY"), ("MSFT", "SPY"))
    catalog.save("pair_universe", pairs)
    catalog.save("pair_universe", pairs)  # upsert: still three rows
    loaded = catalog.load("pair_universe")
    assert isinstance(loaded, pl.DataFrame)
    assert_frame_equal(loaded.select(pairs.columns), pairs)
    assert catalog.load("aapl_pairs")["pair_id"].to_list() == ["AAPL_MSFT", "AAPL_SPY"]
    assert database.current_revision(fresh_url) == database.head_revision()
    eq = pl.DataFrame({"run_id": ["r1"], "ts": [utc(2024, 1, 2)], "equity": [1.0]})
    run = pl.DataFrame(
        {"run_id": ["r1"], "start_ts": [utc(2024, 1, 2)], "end_ts": [utc(2024, 1, 3)]}
    )
    catalog.save("runs_insert_only", run)
    catalog.save("backtest_equity", eq)
    with pytest.raises(DatasetError, match="unique"):
        catalog.save("runs_insert_only", run)  # insert mode: second copy is refused
    assert catalog.load("backtest_runs").height == 1
    assert catalog.exists("backtest_equity") and not catalog.exists("ou_params")


def test_save_error_names_table_and_rule(fresh_url: str) -> None:
    ds = SQLTableDataset(table="pair_universe", credentials={"con": fresh_url})
    with pytest.raises(
        DatasetError, match=r"pair_universe: row 0 .*symbol_a must exist in symbols.symbol_id"
    ):
        ds.save(pair_frame(("AAPL", "MSFT")))


def test_unknown_table_and_bad_args_are_refused() -> None:
    with pytest.raises(DatasetError, match=r"unknown table 'bars'; known tables: symbols, "):
        SQLTableDataset(table="bars")
    with pytest.raises(DatasetError, match=r"unsupported load_args \['limit'\]"):
        SQLTableDataset(table="symbols", load_args={"limit": 3})
    with pytest.raises(DatasetError, match=r"save_args.mode must be 'upsert' or 'insert'"):
        SQLTableDataset(table="symbols", save_args={"mode": "replace"})


def test_describe_hides_password() -> None:
    ds = SQLTableDataset(
        table="symbols", credentials={"con": "postgresql+psycopg://u:hunter2@db:5432/x"}
    )
    assert "hunter2" not in repr(ds)
    assert ds._describe()["url"] == "postgresql+psycopg://u:***@db:5432/x"


def test_resolve_db_url_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATARB_DB_URL", raising=False)
    assert database.resolve_db_url() == "sqlite:///data/statarb.db"
    assert database.resolve_db_url({"con": None}) == "sqlite:///data/statarb.db"
    monkeypatch.setenv("STATARB_DB_URL", "postgresql+psycopg://h/env")
    assert database.resolve_db_url() == "postgresql+psycopg://h/env"
    assert database.resolve_db_url({"con": "sqlite:///x.db"}) == "sqlite:///x.db"


def test_get_engine_is_cached_and_disposable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    try:
        assert database.get_engine(url) is database.get_engine(url)
    finally:
        database.dispose_engines()
    assert database._engines == {}


def test_db_cli_upgrade_current_url(
    fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    res = runner.invoke(statarb_cli, ["db", "upgrade", "--url", fresh_url])
    assert res.exit_code == 0, res.output
    assert f"at revision {database.head_revision()}" in res.output
    res = runner.invoke(statarb_cli, ["db", "current", "--url", fresh_url])
    assert res.exit_code == 0, res.output
    assert f"revision: {database.head_revision()}" in res.output
    assert "schema_version: 6" in res.output
    with database.get_engine(fresh_url).connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM schema_version")).scalar_one() == 6
    # `db url` outside a Kedro project: env var, password hidden
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STATARB_DB_URL", "postgresql+psycopg://me:s3cret@db:5432/prod")
    res = runner.invoke(statarb_cli, ["db", "url"])
    assert res.output.strip() == "postgresql+psycopg://me:***@db:5432/prod"
    # inside a project: conf/local/credentials.yml overrides conf/base
    (tmp_path / "conf/base").mkdir(parents=True)
    (tmp_path / "conf/local").mkdir(parents=True)
    (tmp_path / "conf/base/credentials.yml").write_text(
        "db:\n  con: ${oc.env:STATARB_DB_URL,sqlite:///data/statarb.db}\n"
    )
    res = runner.invoke(statarb_cli, ["db", "url"])
    assert res.output.strip() == "postgresql+psycopg://me:***@db:5432/prod"
    (tmp_path / "conf/local/credentials.yml").write_text("db:\n  con: sqlite:///local.db\n")
    res = runner.invoke(statarb_cli, ["db", "url"])  # relative SQLite: under the project root
    assert res.output.strip() == f"sqlite:///{(tmp_path / 'local.db').as_posix()}"


def test_forked_child_gets_its_own_engine(tmp_path: Path) -> None:
    import os

    url = f"sqlite:///{tmp_path / 'fork.db'}"
    try:
        parent = database.get_engine(url)
        database.upgrade(url)
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: the cache was cleared, a new engine works
            ok = database.get_engine(url) is not parent and database.current_revision(url)
            os.write(write_fd, b"1" if ok else b"0")
            os._exit(0)
        os.waitpid(pid, 0)
        assert os.read(read_fd, 1) == b"1"
        assert database.get_engine(url) is parent
    finally:
        database.dispose_engines()


def test_project_conf_resolves_db_from_env(fresh_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real conf/base catalog + credentials (``${oc.env:STATARB_DB_URL,...}``) reach the DB."""
    import warnings

    from kedro.config import OmegaConfigLoader

    monkeypatch.setenv("STATARB_DB_URL", fresh_url)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        loader = OmegaConfigLoader(
            conf_source=str(REPO / "conf"), base_env="base", default_run_env="local"
        )
        catalog_conf = loader["catalog"]
        creds = loader["credentials"]
    if "db" in creds and creds["db"].get("con") != fresh_url:
        pytest.skip("conf/local/credentials.yml overrides db.con on this machine")
    sql_entries = {
        k: v
        for k, v in catalog_conf.items()
        if isinstance(v, dict) and str(v.get("type", "")).endswith("SQLTableDataset")
    }
    assert set(sql_entries) == {
        "symbols",
        "corporate_actions",
        "pair_universe",
        "cointegration_results",
        "kalman_params",
        "ou_params",
        "backtest_runs",
        "backtest_signals",
        "backtest_fills",
        "backtest_equity",
        "backtest_metrics",
        "selection_log",
    }
    catalog = DataCatalog.from_config(sql_entries, credentials=creds)
    catalog.save("symbols", symbols_frame("AAPL"))
    assert catalog.load("symbols")["symbol_id"].to_list() == ["AAPL"]
    with database.get_engine(fresh_url).connect() as conn:
        assert conn.execute(sa.text("SELECT symbol_id FROM symbols")).scalar_one() == "AAPL"


def test_downgrade_to_base_and_upgrade_again(fresh_url: str) -> None:
    from alembic import command

    database.upgrade(fresh_url)
    with database.get_engine(fresh_url).begin() as conn:
        cfg = database.alembic_config(fresh_url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(sa.inspect(database.get_engine(fresh_url)).get_table_names()) <= {"alembic_version"}
    database.upgrade(fresh_url)
    assert database.current_revision(fresh_url) == database.head_revision()


def test_ensure_schema_refuses_unknown_newer_revision(tmp_path: Path) -> None:
    from statarb.storage.errors import StorageError

    url = f"sqlite:///{tmp_path / 'future.db'}"
    try:
        database.upgrade(url)
        with database.get_engine(url).begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = 'ffff_future'"))
        database.dispose_engines()  # forget that this process saw it at head
        with pytest.raises(StorageError, match=r"revision 'ffff_future', unknown to this version"):
            database.ensure_schema(url)
    finally:
        database.dispose_engines()
