"""The sweep pipeline run by Kedro with the shipped catalog/parameters: one row and one run_id per
configuration, top-k runs in full, metrics equal to a ``backtest`` pipeline run of the same config,
trial statistics and the cost-sensitivity report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from kedro.io import DataCatalog, DatasetError, MemoryDataset
from kedro.runner import SequentialRunner
from tests.config_helpers import base_params

from statarb.backtest.persistence import RUN_ID_RE, load_run
from statarb.backtest.synth import inputs_to_frames, synthetic_inputs
from statarb.pipelines.backtest import create_pipeline as backtest_pipeline
from statarb.pipelines.sweep import create_pipeline as sweep_pipeline
from statarb.reporting.metrics import return_metrics
from statarb.storage.database import get_engine, upgrade
from statarb.storage.sql_io import read_table, write_frame

ROOT = Path(__file__).resolve().parents[3]
CONF = ROOT / "conf" / "base"
GRID = {
    "entry_z": [1.5, 2.0],
    "exit_z": [0.0, 0.5],
    "stop_z": [4.0],
    "max_holding_bars": [0, 120],
    "kalman_delta": [None],
    "ou_window_bars": [None],
    "cost_scale": [0.0, 1.0, 2.0, 4.0],
}


@pytest.fixture
def setup(db_url: str, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(ROOT)  # costs_path in the shipped parameters is project-relative
    upgrade(db_url)
    inp = synthetic_inputs(4000, 2, seed=8, ou_phi=0.97, volume_mean=5_000)
    bars, spreads = inputs_to_frames(inp)
    universe = pl.DataFrame(
        {"pair_id": inp.pair_ids, "symbol_a": inp.symbols_a, "symbol_b": inp.symbols_b}
    )
    with get_engine(db_url).begin() as conn:
        write_frame(
            conn, "symbols", pl.DataFrame({"symbol_id": sorted(inp.symbols_a + inp.symbols_b)})
        )
        write_frame(conn, "pair_universe", universe)
    coint = pl.DataFrame(
        {"pair_id": inp.pair_ids, "test_ts": [inp.timestamps()[0]] * 2, "is_cointegrated": True}
    )
    cat_cfg = {
        **yaml.safe_load((CONF / "catalog_backtest.yml").read_text()),
        **yaml.safe_load((CONF / "catalog_sweep.yml").read_text()),
    }
    for key in ("backtest_run", "sweep_run"):
        cat_cfg[key]["equity_path"] = str(tmp_path / "equity")
    cat_cfg["sweep_run"]["path"] = str(tmp_path / "sweep")
    cat_cfg["backtest_run_id"]["filepath"] = str(tmp_path / "latest_run_id.json")
    cat_cfg["sweep_id"]["filepath"] = str(tmp_path / "latest_sweep_id.json")
    cat_cfg["backtest_equity"] = yaml.safe_load((CONF / "catalog.yml").read_text())[
        "backtest_equity"
    ]
    research = yaml.safe_load((CONF / "catalog_reporting.yml").read_text())
    for name in ("sweep_grid", "walk_forward", "cost_sensitivity", "trial_stats"):
        cat_cfg[f"report_{name}"] = research[f"report_{name}"] | {
            "filepath": str(tmp_path / "research" / f"{name}.parquet")
        }
    bt = base_params("backtest") | {"max_gross_leverage": 0.0}
    sweep = base_params("sweep")
    sweep["grid"] = GRID
    sweep["top_k"] = 2
    sweep["walk_forward"] |= {"formation_sessions": 1, "trading_sessions": 1}

    def make_catalog(backtest_overrides: dict | None = None) -> DataCatalog:
        catalog = DataCatalog.from_config(cat_cfg, credentials={"db": {"con": db_url}})
        catalog["bars_adjusted"] = MemoryDataset(bars.lazy(), copy_mode="assign")
        catalog["spread_series"] = MemoryDataset(spreads.lazy(), copy_mode="assign")
        catalog["cointegration_results"] = MemoryDataset(coint)
        catalog["ou_params"] = MemoryDataset(pl.DataFrame(schema={"pair_id": pl.String}))
        catalog["pair_universe"] = MemoryDataset(universe)
        catalog["params:backtest"] = MemoryDataset(bt | (backtest_overrides or {}))
        catalog["params:sweep"] = MemoryDataset(sweep)
        catalog["params:alpha"] = MemoryDataset(base_params("alpha"))
        catalog["params:compute"] = MemoryDataset(base_params("compute"))
        return catalog

    return make_catalog, tmp_path


def test_sweep_rows_runs_and_equality_with_backtest_pipeline(setup, db_url: str) -> None:
    make_catalog, tmp_path = setup
    SequentialRunner().run(backtest_pipeline(), make_catalog())  # a run before the sweep
    before = json.loads((tmp_path / "latest_run_id.json").read_text())
    SequentialRunner().run(sweep_pipeline(), make_catalog())
    sweep_id = json.loads((tmp_path / "latest_sweep_id.json").read_text())
    eng = get_engine(db_url)
    head = read_table(eng, "sweeps").row(0, named=True)
    res = read_table(eng, "sweep_results").sort("id")
    n = 2 * 2 * 1 * 2 * 4
    assert head["sweep_id"] == sweep_id and head["n_configs"] == n == res.height
    # every configuration is a run: distinct ids of the backtest rule, after the earlier run
    ids = res["run_id"].to_list()
    assert len(set(ids)) == n and all(RUN_ID_RE.match(r) for r in ids)
    nums = sorted(int(RUN_ID_RE.match(r).group(2)) for r in ids)
    assert nums == list(range(int(RUN_ID_RE.match(before).group(2)) + 1, nums[0] + n))
    # the top-k are stored in full under their run_id, with the same metrics as their row
    top = res.filter(pl.col("has_events")).sort("rank")
    assert top["rank"].to_list() == [1, 2]
    for row in top.iter_rows(named=True):
        stored = load_run(db_url, row["run_id"])
        m = return_metrics(stored["equity"])
        assert m.sharpe_annual == row["sharpe_annual"]
        assert stored["fills"].height == row["num_fills"]
        assert json.loads(stored["runs"]["config_json"][0])["sweep_id"] == sweep_id
    # a later backtest run gets an id after all the sweep's ids
    SequentialRunner().run(backtest_pipeline(), make_catalog())
    after = json.loads((tmp_path / "latest_run_id.json").read_text())
    assert int(RUN_ID_RE.match(after).group(2)) == nums[-1] + 1
    # a configuration's row == the backtest pipeline run with that configuration (exactly)
    pick = res.filter(pl.col("rank") == 3).row(0, named=True)
    over = {k: pick[k] for k in ("entry_z", "exit_z", "stop_z", "max_holding_bars")}
    SequentialRunner().run(backtest_pipeline(), make_catalog(over))
    rid = json.loads((tmp_path / "latest_run_id.json").read_text())
    run = load_run(db_url, rid)
    m = return_metrics(run["equity"])
    for name in ("sharpe_annual", "sortino_annual", "max_drawdown", "total_return"):
        assert getattr(m, name) == pick[name], name
    assert run["fills"].height == pick["num_fills"]
    # trial statistics for the deflated Sharpe: N and the variance of the trials' Sharpe
    at_rank = res.filter(pl.col("cost_scale") == 1.0)["sharpe_annual"].drop_nulls().to_numpy()
    assert head["n_trials"] == res.filter(pl.col("cost_scale") == 1.0).height == 8
    assert head["sharpe_variance"] == pytest.approx(np.var(at_rank, ddof=1), rel=1e-12)
    # cost sensitivity: the same trades, costs x scale (fees here are per share, so linear)
    cs = json.loads(head["cost_sensitivity_json"])
    assert cs["scales"] == [0.0, 1.0, 2.0, 4.0]
    pnl = cs["best"]["pnl"]
    assert pnl[0] > pnl[1] > pnl[2] > pnl[3]
    best = {k: cs["best"]["config"][k] for k in ("entry_z", "exit_z", "max_holding_bars")}
    same = res.filter(
        (pl.col("entry_z") == best["entry_z"])
        & (pl.col("exit_z") == best["exit_z"])
        & (pl.col("max_holding_bars") == best["max_holding_bars"])
    ).sort("cost_scale")
    assert same["num_fills"].n_unique() == 1  # sizing does not depend on costs without a cap
    c = same["commission"].to_numpy()
    assert c[0] == 0.0 and c[2] == pytest.approx(2 * c[1], rel=1e-9)
    assert c[3] == pytest.approx(4 * c[1], rel=1e-9)
    # walk-forward report and the stitched out-of-sample curve
    wf = json.loads(head["walk_forward_json"])
    assert wf["report"]["n_windows"] == len(wf["windows"]) >= 2
    assert "out_of_sample" in wf["report"] and "in_sample_best" in wf["report"]
    curve = pl.read_parquet(
        tmp_path / "sweep" / f"sweep_id={sweep_id}" / "walk_forward_equity.parquet"
    )
    assert curve.height > 0 and curve["equity"][0] == pytest.approx(1_000_000.0)


def test_sweep_writes_the_tearsheet_frames_of_its_best_run(setup, db_url: str) -> None:
    """The research frames carry the rank-1 run's id, which becomes ``backtest_run_id``; the
    in-sample curve is that run's stored equity, the out-of-sample one the stitched curve, the
    grid is the ranking cost scale's, and N / V are the sweep's (for the deflated Sharpe)."""
    make_catalog, tmp_path = setup
    SequentialRunner().run(sweep_pipeline(), make_catalog())
    eng = get_engine(db_url)
    head = read_table(eng, "sweeps").row(0, named=True)
    res = read_table(eng, "sweep_results")
    best = res.filter(pl.col("rank") == 1).row(0, named=True)
    assert json.loads((tmp_path / "latest_run_id.json").read_text()) == best["run_id"]
    frames = {
        n: pl.read_parquet(tmp_path / "research" / f"{n}.parquet")
        for n in ("sweep_grid", "walk_forward", "cost_sensitivity", "trial_stats")
    }
    for f in frames.values():
        assert f["run_id"].unique().to_list() == [best["run_id"]]
    grid = frames["sweep_grid"]
    assert grid.height == res.filter(pl.col("cost_scale") == head["rank_cost_scale"]).height == 8
    assert grid["sharpe_annual"].max() == pytest.approx(best["sharpe_annual"])
    wf = frames["walk_forward"]
    ins = wf.filter(pl.col("sample") == "in_sample").sort("ts")
    stored = load_run(db_url, best["run_id"])["equity"].sort("ts")
    assert ins["equity"].to_list() == stored["equity"].to_list()
    oos = wf.filter(pl.col("sample") == "out_of_sample")
    curve = pl.read_parquet(
        tmp_path / "sweep" / f"sweep_id={head['sweep_id']}" / "walk_forward_equity.parquet"
    )
    assert oos["equity"].to_list() == curve.sort("ts")["equity"].to_list() and oos.height > 0
    cs = frames["cost_sensitivity"].sort("cost_scale")
    assert cs["cost_scale"].to_list() == [0.0, 1.0, 2.0, 4.0]
    assert cs["net_pnl"].to_list() == json.loads(head["cost_sensitivity_json"])["best"]["pnl"]
    ts = frames["trial_stats"].row(0, named=True)
    assert ts["n_trials"] == head["n_trials"] == 8
    assert ts["sharpe_variance"] == head["sharpe_variance"]


def test_a_sweep_run_id_cannot_be_reused(setup, db_url: str) -> None:
    from statarb.backtest.persistence import RunExistsError

    make_catalog, tmp_path = setup
    SequentialRunner().run(sweep_pipeline(), make_catalog())
    res = read_table(get_engine(db_url), "sweep_results")
    taken = res.filter(~pl.col("has_events"))["run_id"][0]
    with pytest.raises(DatasetError) as err:  # Kedro wraps the dataset's error
        SequentialRunner().run(backtest_pipeline(), make_catalog({"run_id": taken}))
    cause = err.value
    while cause.__cause__ is not None:  # Kedro wraps twice
        cause = cause.__cause__
    assert isinstance(cause, RunExistsError)
    assert f"run_id {taken!r} is a configuration of sweep" in str(cause)
