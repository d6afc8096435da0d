"""Research sessions are read-only; a pipeline run writes exactly its outputs (spec §9.5).

A real ``KedroSession`` of a throw-away copy of the project (its ``conf/``, our hooks) is what a
notebook's ``%load_ext kedro.ipython`` or ``kedro ipython`` creates.
"""

from __future__ import annotations

import contextlib

import polars as pl
import pytest
import sqlalchemy as sa

from statarb.storage import database
from statarb.storage.access import ReadOnlyStoreError
from statarb.storage.database import SchemaNotReady
from statarb.storage.sql_io import write_frame
from tests.project_fixtures import make_project
from tests.storage.sql_fixtures import symbols_frame
from tests.storage.test_store_tiers import _intraday


@contextlib.contextmanager
def research_catalog(root):
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    (root / "pyproject.toml").write_text(
        '[tool.kedro]\npackage_name = "statarb"\nproject_name = "statarb"\n'
        'kedro_init_version = "1.7.0"\nsource_dir = "src"\n'
    )
    (root / "src").mkdir(exist_ok=True)  # the package itself is installed (editable)
    bootstrap_project(root)
    with KedroSession.create(project_path=root) as session:
        yield session.load_context().catalog


def _cause(exc: BaseException) -> BaseException:
    while exc.__cause__ is not None and not isinstance(exc, ReadOnlyStoreError | SchemaNotReady):
        exc = exc.__cause__
    return exc


@pytest.fixture
def project(tmp_path, db_url):
    root = make_project(tmp_path / "proj", db_url)
    database.upgrade(db_url)
    with database.get_engine(db_url).begin() as conn:
        write_frame(conn, "symbols", symbols_frame("AAA", "BBB"))
    yield root, db_url
    database.dispose_engines()


def test_research_session_reads_but_cannot_save_spec_entries(project):
    root, url = project
    with research_catalog(root) as catalog:
        assert catalog.load("symbols")["symbol_id"].to_list() == ["AAA", "BBB"]
        for name, data in (
            ("symbols", symbols_frame("CCC")),
            ("backtest_metrics", pl.DataFrame({"run_id": ["x"]})),
            ("bars", _intraday(("AAA",), days=1, per_day=3)),
            ("backtest_run", {"result": None, "config": None}),
        ):
            with pytest.raises(Exception) as info:
                catalog.save(name, data)
            err = _cause(info.value)
            assert isinstance(err, ReadOnlyStoreError), (name, info.value)
            assert f"{name}: save refused: a research session" in str(err)
    with database.get_engine(url).connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM symbols")).scalar_one() == 2
    assert not (root / "data" / "bars").exists()


def test_research_session_never_migrates_an_empty_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    sa.create_engine(url).connect().close()  # an empty file
    root = make_project(tmp_path / "proj", url)
    with research_catalog(root) as catalog, pytest.raises(Exception) as info:
        catalog.load("symbols")
    assert "statarb db upgrade" in str(_cause(info.value))
    assert database.current_revision(url) is None
    database.dispose_engines()


def test_a_pipeline_run_may_write_only_its_outputs(project):
    from statarb.pipelines.reporting.pipeline import create_pipeline
    from statarb.storage.access import StorageAccessHook

    root, _ = project
    with research_catalog(root) as catalog:
        hook = StorageAccessHook()
        hook.after_catalog_created(catalog, {"db": {"con": project[1]}}, {})
        hook.before_pipeline_run({"pipeline_names": ["reporting"]}, create_pipeline(), catalog)
        writable = {
            n for n in list(catalog.keys()) if getattr(catalog.get(n), "read_only", True) is False
        }
        assert writable == {"backtest_metrics"}  # reporting: its metrics row, nothing else
        with pytest.raises(Exception, match="backtest_runs: save refused: it is not an output"):
            catalog.get("backtest_runs").save(pl.DataFrame({"run_id": ["x"]}))
        hook.after_pipeline_run(catalog)
        assert catalog.get("backtest_metrics").read_only
