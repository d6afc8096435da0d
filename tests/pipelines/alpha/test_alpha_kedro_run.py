"""The alpha pipeline run by Kedro over the real columnar datasets and the shipped config files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import polars as pl
import yaml
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from test_alpha_pipeline import SYMS, make_bars

from statarb.pipelines.alpha import create_pipeline
from statarb.storage import parquet_schemas as ps
from statarb.storage.parquet_dataset import PartitionedParquetDataset


class KeptMemoryDataset(MemoryDataset):
    """Stands in for a SQL table: keeps its data after the run (the runner releases memory)."""

    def _release(self) -> None:
        pass


CONF = Path(__file__).resolve().parents[3] / "conf" / "base"


def test_kedro_run_with_shipped_parameters(tmp_path: Path) -> None:
    params = yaml.safe_load((CONF / "parameters_alpha.yml").read_text())["alpha"]
    catalog_cfg = yaml.safe_load((CONF / "catalog_alpha.yml").read_text())
    assert params["universe"]["mode"] == "sector"
    raw = tmp_path / "symbols.csv"
    pl.DataFrame(
        {"ticker": ["aaa", "BBB", "CCC", "DDD"], "name": "x", "asset_class": "equity",
         "exchange": "X", "currency": "USD", "sector": ["Tech", "Tech", "Energy", "Energy"]}
    ).write_csv(raw)  # fmt: skip
    catalog_cfg["alpha_symbols_sectors"]["filepath"] = str(raw)
    bars = PartitionedParquetDataset(str(tmp_path / "bars_adjusted"), "bars", source="SYNTH")
    bars.save(make_bars(n_days=3))
    spreads = PartitionedParquetDataset(str(tmp_path / "spreads"), "spread_series")
    ou_out = PartitionedParquetDataset(str(tmp_path / "ou"), "ou_output")

    catalog = DataCatalog.from_config(catalog_cfg)
    catalog["symbols"] = MemoryDataset(pl.DataFrame({"symbol_id": SYMS}))
    catalog["params:alpha"] = MemoryDataset(params)
    catalog["bars_adjusted"] = bars
    catalog["spread_series"] = spreads
    catalog["ou_output"] = ou_out
    for name in ("pair_universe", "cointegration_results", "kalman_params", "ou_params"):
        catalog[name] = KeptMemoryDataset(copy_mode="assign")

    pipe = create_pipeline()
    if importlib.util.find_spec("statarb.alpha.screening") is None:
        pipe = pipe.filter(node_names=[n.name for n in pipe.nodes if n.name != "alpha_screening"])
    SequentialRunner().run(pipe, catalog)

    pu = catalog.load("pair_universe")
    assert pu["pair_id"].to_list() == ["AAA_BBB", "CCC_DDD"]
    sp = spreads.load().collect()
    assert set(sp["pair_id"]) == {"AAA_BBB", "CCC_DDD"}
    assert sp.select(ps.SPREAD_SERIES.names()).schema == ps.SPREAD_SERIES
    ou = ou_out.load().collect()
    assert ou.select(ps.OU_OUTPUT.names()).schema == ps.OU_OUTPUT
    oup = catalog.load("ou_params")
    # one OU row per pair per session close once min_obs (390) transitions are known
    assert oup.height == ou.height == 2 * 2
    kp = catalog.load("kalman_params")
    if "alpha_screening" in [n.name for n in pipe.nodes]:
        cr = catalog.load("cointegration_results")
        assert set(cr["pair_id"]) <= {"AAA_BBB", "CCC_DDD"}
    assert kp.height == 2 * 3 and kp["window_end"].n_unique() == 3
