"""The backtest pipeline run by Kedro with the shipped catalog/parameters, and ``statarb runs``."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from tests.config_helpers import base_params, conf_file

from statarb.backtest.config import BacktestConfig
from statarb.backtest.engine import run_backtest
from statarb.backtest.inputs import prepare_inputs
from statarb.backtest.persistence import RunExistsError, load_run
from statarb.backtest.runs_cli import runs
from statarb.backtest.synth import inputs_to_frames, synthetic_inputs
from statarb.pipelines.backtest import create_pipeline
from statarb.storage.database import get_engine, upgrade
from statarb.storage.sql_io import write_frame

ROOT = Path(__file__).resolve().parents[3]
CONF = ROOT / "conf" / "base"


@pytest.fixture
def setup(db_url: str, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(ROOT)  # costs_path in the shipped parameters is project-relative
    upgrade(db_url)
    inp = synthetic_inputs(1200, 3, seed=8, ou_phi=0.95, volume_mean=5_000)
    bars, spreads = inputs_to_frames(inp)
    syms = sorted(inp.symbols_a + inp.symbols_b)
    universe = pl.DataFrame(
        {"pair_id": inp.pair_ids, "symbol_a": inp.symbols_a, "symbol_b": inp.symbols_b}
    )
    with get_engine(db_url).begin() as conn:
        write_frame(conn, "symbols", pl.DataFrame({"symbol_id": syms}))
        write_frame(conn, "pair_universe", universe)
    ts = inp.timestamps()
    coint = pl.DataFrame(
        {
            "pair_id": inp.pair_ids,
            "test_ts": [ts[0]] * 3,
            "is_cointegrated": [True, True, False],  # the third pair is never tradable
        }
    )
    catalog_cfg = conf_file("catalog_backtest.yml")
    catalog_cfg["backtest_run"]["equity_path"] = str(tmp_path / "equity")
    catalog_cfg["backtest_run_id"]["filepath"] = str(tmp_path / "latest_run_id.json")
    params = base_params("backtest")

    def make_catalog(overrides: dict | None = None) -> DataCatalog:
        catalog = DataCatalog.from_config(catalog_cfg, credentials={"db": {"con": db_url}})
        catalog["bars_adjusted"] = MemoryDataset(bars.lazy(), copy_mode="assign")
        catalog["spread_series"] = MemoryDataset(spreads.lazy(), copy_mode="assign")
        catalog["cointegration_results"] = MemoryDataset(coint)
        catalog["ou_params"] = MemoryDataset(
            pl.DataFrame({"pair_id": []}, schema={"pair_id": pl.String})
        )
        catalog["pair_universe"] = MemoryDataset(universe)
        catalog["params:backtest"] = MemoryDataset({**params, **(overrides or {})})
        catalog["params:compute"] = MemoryDataset(base_params("compute"))
        return catalog

    return make_catalog, inp, bars, spreads, coint, params, tmp_path


def test_pipeline_stores_one_run_and_publishes_its_id(setup, db_url: str) -> None:
    make_catalog, inp, bars, spreads, coint, params, tmp_path = setup
    catalog = make_catalog()
    SequentialRunner().run(create_pipeline(), catalog)
    run_id = json.loads((tmp_path / "latest_run_id.json").read_text())
    stored = load_run(db_url, run_id)
    run = stored["runs"].row(0, named=True)
    assert run["pair_id"] is None  # two tradable pairs: multi-pair run
    conf = json.loads(run["config_json"])
    assert conf["pair_ids"] == inp.pair_ids[:2]
    assert conf["costs"]["fees"]["per_share"] == 0.005  # from conf/base/costs/default.yml
    # the stored events are exactly what the engine produces on the same inputs
    cfg = BacktestConfig.from_params(params)
    direct = run_backtest(prepare_inputs(bars, spreads, coint, inp.pair_ids[:2], cfg), cfg)
    assert stored["equity"]["equity"].to_list() == direct.equity["equity"].to_list()
    assert stored["fills"]["quantity"].to_list() == direct.fills["quantity"].to_list()
    assert stored["signals"].height == direct.signals.height > 0
    assert (tmp_path / "equity" / f"run_id={run_id}" / "equity.parquet").is_file()

    # a second run (new config) gets a new id; reusing an id is refused
    catalog2 = make_catalog({"entry_z": 1.5})
    SequentialRunner().run(create_pipeline(), catalog2)
    run2 = json.loads((tmp_path / "latest_run_id.json").read_text())
    assert run2 != run_id and run2[:-3] == run_id[:-3]
    with pytest.raises(Exception) as exc:
        SequentialRunner().run(create_pipeline(), make_catalog({"run_id": run_id}))
    chain = [exc.value, exc.value.__cause__, exc.value.__context__]
    assert any(isinstance(e, RunExistsError) for e in chain) or "already exists" in str(exc.value)

    cli = CliRunner()
    out = cli.invoke(runs, ["list", "--limit", "5", "--db-url", db_url])
    assert out.exit_code == 0, out.output
    lines = out.output.strip().splitlines()
    assert lines[0].split()[:3] == ["run_id", "strategy", "pair"]
    assert {lines[1].split()[0], lines[2].split()[0]} == {run_id, run2}
    n_sig, n_fill = stored["signals"].height, stored["fills"].height
    row = next(line for line in lines if line.startswith(run_id)).split()
    assert row[-3:-1] == [str(n_sig), str(n_fill)]
    assert row[-1] == f"{stored['equity']['equity'][-1]:,.2f}"
    shown = cli.invoke(runs, ["show", run_id, "--db-url", db_url])
    assert shown.exit_code == 0 and '"entry_z": 2.0' in shown.output
    missing = cli.invoke(runs, ["show", "bt_19990101_001", "--db-url", db_url])
    assert missing.exit_code != 0 and "no run 'bt_19990101_001'" in missing.output


def test_streamed_run_equals_the_in_memory_run(setup) -> None:
    """The node streams in time chunks of compute.chunk_pair_bars pair-bars: a run in chunks of
    ~50 bars stores exactly the events of the one-pass reference loop on the same inputs."""
    from statarb.pipelines.backtest import nodes

    make_catalog, inp, bars, spreads, coint, params, _ = setup
    universe = pl.DataFrame(
        {"pair_id": inp.pair_ids, "symbol_a": inp.symbols_a, "symbol_b": inp.symbols_b}
    )
    small = {**base_params("compute"), "chunk_pair_bars": 101}  # 101 // 2 pairs = 50 bars
    ou = pl.DataFrame({"pair_id": []}, schema={"pair_id": pl.String})
    streamed = nodes.run_backtest_node(bars.lazy(), spreads.lazy(), coint, ou, universe, params,
                                       small)["result"]  # fmt: skip
    ref = nodes.run_backtest_node(bars.lazy(), spreads.lazy(), coint, ou, universe,
                                  {**params, "engine": "reference"}, small)["result"]  # fmt: skip
    assert streamed.signals.height > 5 and streamed.fills.height > 10
    for name in ("signals", "fills", "equity"):
        assert getattr(streamed, name).equals(getattr(ref, name)), name
