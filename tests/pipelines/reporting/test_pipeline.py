"""The reporting pipeline end to end on both back-ends: stored synthetic run -> metrics + HTML."""

from __future__ import annotations

import json

import empyrical as ep
import polars as pl
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from tests.config_helpers import base_params, with_overrides
from tests.reporting.synthetic import make_synthetic_run

from statarb.pipelines.reporting import create_pipeline
from statarb.reporting.datasets import OptionalParquetDataset
from statarb.reporting.metrics import equity_returns
from statarb.storage.database import ensure_schema, get_engine
from statarb.storage.sql_dataset import SQLTableDataset
from statarb.storage.sql_io import read_table, write_frame


@pytest.fixture
def synthetic_run() -> dict:
    return make_synthetic_run()


def _store_run(url: str, run: dict) -> None:
    ensure_schema(url)
    with get_engine(url).begin() as conn:
        write_frame(conn, "backtest_runs", run["runs"], mode="insert")
        write_frame(conn, "backtest_signals", run["signals"], mode="insert")
        write_frame(conn, "backtest_fills", run["fills"], mode="insert")
        write_frame(conn, "backtest_equity", run["equity"], mode="insert")


def _accruals(run: dict, run_id: str) -> pl.DataFrame:
    """Per-bar carry of the run (1.5 borrow and -0.5 financing per bar) and of another run."""
    ts = run["equity"]["ts"]
    mine = pl.DataFrame({"run_id": "bt_test_001", "ts": ts, "borrow_cost": 1.5,
                         "financing_cost": -0.5})  # fmt: skip
    return pl.concat([mine, mine.with_columns(run_id=pl.lit("bt_other"), borrow_cost=100.0)])


def _catalog(url: str, run: dict, run_id: str) -> DataCatalog:
    sql = {
        t: SQLTableDataset(t, credentials={"con": url})
        for t in (
            "backtest_runs",
            "backtest_signals",
            "backtest_fills",
            "backtest_equity",
            "backtest_metrics",
            "ou_params",
        )
    }
    sql["selection_log"] = SQLTableDataset(
        "selection_log", credentials={"con": url}, load_args={"lazy": True}
    )
    research = {  # optional research frames: files that do not exist load as None
        f"report_{name}": OptionalParquetDataset(
            str(run["out"].parent / "research" / f"{name}.parquet")
        )
        for name in ("sweep_grid", "walk_forward", "cost_sensitivity", "trial_stats")
    }
    spreads = pl.DataFrame(
        {
            "pair_id": "AAA_BBB",
            "datetime": run["equity"]["ts"],
            "spread": 0.0,
            "beta": 1.0,
            "z_score": 0.0,
        }
    )
    return DataCatalog(
        datasets={
            **sql,
            **research,
            "backtest_run_id": MemoryDataset(run_id),
            "bars_adjusted": MemoryDataset(run["bars_adjusted"].lazy(), copy_mode="assign"),
            "spread_series": MemoryDataset(spreads.lazy(), copy_mode="assign"),
            "backtest_accruals": MemoryDataset(_accruals(run, run_id).lazy(), copy_mode="assign"),
            "params:reporting": MemoryDataset(
                with_overrides(base_params("reporting"), {"output_dir": str(run["out"])})
            ),
        }
    )


def test_pipeline_writes_metrics_and_reports(db_url, synthetic_run, tmp_path, capsys):
    run = {**synthetic_run, "out": tmp_path / "08_reporting"}
    _store_run(db_url, run)
    out = SequentialRunner().run(create_pipeline(), _catalog(db_url, run, "bt_test_001"))
    page = tmp_path / "08_reporting" / "bt_test_001" / "tearsheet.html"
    assert page.exists() and (tmp_path / "08_reporting" / "index.html").exists()
    assert f"Report: {page}" in capsys.readouterr().out
    assert out == {} or "reporting_tearsheet_path" in out
    m = read_table(get_engine(db_url), "backtest_metrics")
    assert m.columns == [
        "run_id",
        "sharpe_annual",
        "sortino_annual",
        "calmar",
        "max_drawdown",
        "total_return",
        "num_trades",
        "win_rate",
        "alpha",
        "beta",
        "metrics_json",
        "computed_at",
    ]
    row = m.row(0, named=True)
    r = equity_returns(run["equity"])["ret"].to_numpy()
    assert row["sharpe_annual"] == pytest.approx(ep.sharpe_ratio(r, annualization=98280), rel=1e-9)
    assert row["max_drawdown"] == pytest.approx(ep.max_drawdown(r), rel=1e-9)
    assert row["num_trades"] == 2 and row["win_rate"] == pytest.approx(0.5)
    assert 0.25 < row["beta"] < 0.5
    full = json.loads(row["metrics_json"])
    assert full["costs"]["commissions"] == pytest.approx(8.0)
    n = run["equity"].height  # carry of this run only (filtered on run_id)
    assert full["costs"]["borrow"] == pytest.approx(1.5 * n)
    assert full["costs"]["financing"] == pytest.approx(-0.5 * n)
    ts = full["trial_stats"]  # one run: not deflated, DSR = PSR vs 0
    assert ts["deflated"]["applied"] is False and ts["deflated"]["dsr"] == ts["psr"]
    assert ts["sharpe_annual"] == pytest.approx(row["sharpe_annual"], rel=1e-12)
    assert ts["bootstrap"]["sharpe_low"] < row["sharpe_annual"] < ts["bootstrap"]["sharpe_high"]
    # re-running ("latest" = newest run) upserts the same single row
    SequentialRunner().run(create_pipeline(), _catalog(db_url, run, "latest"))
    assert read_table(get_engine(db_url), "backtest_metrics").height == 1


def test_unknown_run_is_named(db_url, synthetic_run, tmp_path):
    run = {**synthetic_run, "out": tmp_path}
    _store_run(db_url, run)
    with pytest.raises(Exception, match="no run 'bt_nope'"):
        SequentialRunner().run(create_pipeline(), _catalog(db_url, run, "bt_nope"))


def test_research_frames_from_the_catalog_reach_the_tearsheet(db_url, synthetic_run, tmp_path):
    run = {**synthetic_run, "out": tmp_path / "08_reporting"}
    _store_run(db_url, run)
    page = tmp_path / "08_reporting" / "bt_test_001" / "tearsheet.html"
    SequentialRunner().run(create_pipeline(), _catalog(db_url, run, "bt_test_001"))
    assert 'id="cost-sensitivity"' not in page.read_text()  # no file: section omitted
    cost = pl.DataFrame(
        {
            "run_id": "bt_test_001",
            "cost_scale": [0.0, 1.0, 2.0, 4.0],
            "sharpe_annual": [2.0, 1.0, 0.1, -1.5],
            "net_pnl": [300.0, 124.0, -50.0, -400.0],
        }
    )
    OptionalParquetDataset(str(tmp_path / "research" / "cost_sensitivity.parquet")).save(cost)
    SequentialRunner().run(create_pipeline(), _catalog(db_url, run, "bt_test_001"))
    html = page.read_text()
    table = html[html.index('<table id="cost-sensitivity">') :]
    assert table[: table.index("</table>")].count("<tr>") == 5 and "-400.00" in table
