"""The alpha pipeline run by Kedro over the real columnar datasets and the shipped config files."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from test_alpha_pipeline import SYMS, make_bars
from tests.config_helpers import base_params, conf_file, with_overrides

from statarb.pipelines.alpha import create_pipeline
from statarb.storage import parquet_schemas as ps
from statarb.storage.parquet_dataset import PartitionedParquetDataset
from statarb.storage.run_scope import unscoped


class KeptMemoryDataset(MemoryDataset):
    """Stands in for a SQL table: keeps its data after the run (the runner releases memory)."""

    def _release(self) -> None:
        pass

    def save(self, data) -> None:  # a table's dataset takes the run's scoped first block
        super().save(unscoped(data))


CONF = Path(__file__).resolve().parents[3] / "conf" / "base"


@pytest.mark.parametrize("max_shared", [None, 0.5])
def test_kedro_run_with_shipped_parameters(tmp_path: Path, max_shared: float | None) -> None:
    shipped = base_params("alpha")
    # three sessions of data: one-session windows, and no persistence memory; with the
    # confirmation stage the window of the session before shares no bar with today's
    params = with_overrides(
        shipped,
        {"screening.window_bars": 390, "screening.min_obs": 390,
         "selection.persistence.enter_after": 1,
         "selection.confirmation.max_shared": max_shared},
    )  # fmt: skip
    catalog_cfg = conf_file("catalog_alpha.yml")
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
    catalog["params:compute"] = MemoryDataset(base_params("compute"))
    catalog["bars_adjusted"] = bars
    catalog["spread_series"] = spreads
    catalog["ou_output"] = ou_out
    for name in ("pair_universe", "cointegration_results", "selection_log", "kalman_params",
                 "ou_params"):  # fmt: skip
        catalog[name] = KeptMemoryDataset(copy_mode="assign")

    SequentialRunner().run(create_pipeline(), catalog)

    pu = catalog.load("pair_universe")
    assert pu["pair_id"].to_list() == ["AAA_BBB", "CCC_DDD"]
    cr = catalog.load("cointegration_results")
    log = catalog.load("selection_log")
    assert cr.height == log.height == 2 * 3  # two pairs, three session closes
    ab = log.filter(pl.col("pair_id") == "AAA_BBB").sort("test_ts")
    if max_shared is not None:  # confirmed by the session before, whose raw p is 0.028 then 0.15
        assert ab["confirm_pvalue"].to_list()[1:] == ab["pvalue"].to_list()[:2]
        assert ab["pass_confirmation"].to_list() == [False, True, False]
        assert not cr["is_cointegrated"].any()
        assert ab["reason"][2].startswith("confirmation: p=0.1497")
        return
    assert ab["pass_confirmation"].null_count() == 3  # stage off
    assert set(cr.filter(pl.col("is_cointegrated"))["pair_id"]) == {"AAA_BBB"}
    sp = spreads.load().collect()
    assert set(sp["pair_id"]) == {"AAA_BBB"}  # only the selected pair gets a spread series
    assert sp.select(ps.SPREAD_SERIES.names()).schema == ps.SPREAD_SERIES
    ou = ou_out.load().collect()
    assert ou.select(ps.OU_OUTPUT.names()).schema == ps.OU_OUTPUT
    oup = catalog.load("ou_params")
    # one OU row per session close once min_obs (390) transitions are known
    assert oup.height == ou.height == 2
    kp = catalog.load("kalman_params")
    assert kp.height == 3 and kp["window_end"].n_unique() == 3
