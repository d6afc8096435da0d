"""Execute ``notebooks/pairs_walkthrough.ipynb`` with nbclient (slow).

``test_walkthrough_on_default_store`` runs it in the repository against the populated default
store (skipped with the reason when ``make run`` has not been run); ``..._on_synthetic_project``
runs it in a throw-away copy of the project whose store holds a small synthetic run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "pairs_walkthrough.ipynb"


def _store_populated() -> str | None:
    """Why the default store cannot feed the notebook, or ``None`` when it can."""
    spreads = list((REPO / "data" / "alpha" / "spreads").glob("pair_id=*/data.parquet"))
    if not spreads:
        return "no spread_series under data/alpha/spreads (run `make run` first)"
    try:
        from statarb.storage.database import get_engine, resolve_db_url
        from statarb.storage.sql_io import read_table

        url = resolve_db_url()
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            url = "sqlite:///" + str(REPO / url[len("sqlite:///") :])
        if read_table(get_engine(url), "backtest_runs").height == 0:
            return "backtest_runs is empty (run the backtest pipeline first)"
    except Exception as exc:  # no database yet / not migrated
        return f"relational store not readable: {exc.__class__.__name__}: {exc}"
    return None


def _execute(notebook: Path) -> list[dict]:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(notebook.parent)}},
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    frames = [str(o.get("data", {})) for o in outputs]
    assert any("stage" in f and "len" in f for f in frames), "expected the funnel's stage table"
    figs = [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figs) >= 2, "expected the spread and the equity figures"
    return figs


@pytest.mark.slow
def test_walkthrough_on_default_store():
    reason = _store_populated()
    if reason is not None:
        pytest.skip(reason)
    _execute(NOTEBOOK)


@pytest.mark.slow
def test_walkthrough_on_synthetic_project(tmp_path, monkeypatch):
    from statarb.storage.database import dispose_engines, ensure_schema, get_engine
    from statarb.storage.parquet_store import write_partitions
    from statarb.storage.sql_io import write_frame
    from tests.reporting.synthetic import make_synthetic_run

    proj = tmp_path / "proj"
    shutil.copytree(REPO / "conf", proj / "conf", ignore=shutil.ignore_patterns("local"))
    (proj / "conf" / "local").mkdir()
    shutil.copytree(REPO / "src", proj / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", proj)
    shutil.copy(NOTEBOOK, (proj / "notebooks").mkdir() or proj / "notebooks")
    run = make_synthetic_run()
    write_partitions(run["bars_adjusted"], proj / "data/bars_adjusted", "bars", source="SYNTH")
    for pair in ("AAA_BBB", "CCC_DDD"):
        sp = pl.DataFrame(
            {"pair_id": pair, "datetime": run["equity"]["ts"], "spread": 0.1, "beta": 1.0}
        )
        write_partitions(sp, proj / "data/alpha/spreads", "spread_series")
    url = f"sqlite:///{proj / 'data' / 'statarb.db'}"
    ensure_schema(url)
    with get_engine(url).begin() as conn:
        for key, table in (
            ("runs", "backtest_runs"),
            ("signals", "backtest_signals"),
            ("fills", "backtest_fills"),
            ("equity", "backtest_equity"),
        ):
            write_frame(conn, table, run[key], mode="insert")
    dispose_engines()
    # the kernel (cwd notebooks/) must find the default, *relative* sqlite:///data/statarb.db
    monkeypatch.delenv("STATARB_DB_URL", raising=False)
    figs = _execute(proj / "notebooks" / NOTEBOOK.name)
    spread_fig = figs[0]["data"]["application/vnd.plotly.v1+json"]
    assert any(t.get("name") == "long spread" for t in spread_fig["data"])  # trade markers


def test_notebook_is_well_formed():
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    src = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "%load_ext kedro.ipython" in src and 'catalog.load("spread_series")' in src
