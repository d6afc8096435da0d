"""A configuration change between two ``kedro run --pipelines alpha`` leaves nothing of the old
configuration in the store: a narrower universe, another schedule, another OU window, a smaller
selection; going back to the first configuration gives the first run's tables again."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from tests.pipelines.test_dask_end_to_end import SMALL
from tests.pipelines.test_reprocessing_replay import _kedro_run, _latest_run
from tests.project_fixtures import generated_project

from statarb.alpha.gating import ever_cointegrated
from statarb.storage import database
from statarb.storage.parquet_dataset import PartitionedParquetDataset
from statarb.storage.sql_io import read_table


def _state(root: Path, url: str) -> dict[str, pl.DataFrame]:
    with database.get_engine(url).connect() as conn:
        out = {t: read_table(conn, t).drop("created_at")
               for t in ("cointegration_results", "selection_log")}  # fmt: skip
        for t in ("kalman_params", "ou_params"):
            out[t] = read_table(conn, t).drop("id", "created_at").sort(pl.all())
    for name, layout in (("spreads", "spread_series"), ("ou", "ou_output")):
        ds = PartitionedParquetDataset(str(root / f"data/alpha/{name}"), layout)
        out[name] = ds.load().collect().sort("pair_id", pl.nth(1))
    return out


def _pairs(frame: pl.DataFrame) -> set[str]:
    return set(frame["pair_id"].unique().to_list())


def test_a_rerun_with_another_configuration_replaces_the_alpha_outputs(tmp_path, monkeypatch):
    root, url = generated_project(tmp_path / "proj", monkeypatch, n_symbols=12, n_days=24)
    _kedro_run(root, ["ingestion", "preprocessing"], {})
    _kedro_run(root, ["alpha"], {"compute": SMALL})
    first = _state(root, url)
    universe = _pairs(first["cointegration_results"])
    sectors = pl.read_csv(root / "data/01_raw/symbols.csv", infer_schema=False)
    sector = sectors["sector"].value_counts(sort=True)["sector"][0]
    names = set(
        sectors.filter(pl.col("sector") == sector)["ticker"]
        .str.strip_chars()
        .str.to_uppercase()
        .to_list()
    )
    narrow = {p for p in universe if set(p.split("_")) <= names}
    assert 0 < len(narrow) < len(universe)

    _kedro_run(root, ["alpha", "backtest"],
               {"compute": SMALL, "alpha": {"universe": {"sectors": [sector]}}})  # fmt: skip
    second = _state(root, url)
    assert _pairs(second["cointegration_results"]) == narrow
    assert _pairs(second["selection_log"]) == narrow
    chosen = ever_cointegrated(second["cointegration_results"])
    for name in ("spreads", "ou", "kalman_params", "ou_params"):
        assert _pairs(second[name]) <= chosen, name
    signals = _latest_run(url)["signals"]
    traded = set((signals["symbol_a"] + "_" + signals["symbol_b"]).to_list())
    assert traded <= narrow

    _kedro_run(root, ["alpha"],
               {"compute": SMALL, "alpha": {"schedule": {"mode": "every_n_bars", "n": 195}}})  # fmt: skip
    third = _state(root, url)
    times = third["cointegration_results"]["test_ts"].unique()
    assert _pairs(third["cointegration_results"]) == universe
    assert not times.is_in(first["cointegration_results"]["test_ts"].unique().implode()).all()
    assert third["selection_log"]["test_ts"].unique().sort().equals(times.sort())

    _kedro_run(root, ["alpha"], {"compute": SMALL, "alpha": {"ou": {"window_bars": 1950}}})
    fourth = _state(root, url)["ou_params"]  # another OU window: one fit per window end
    assert fourth.select("pair_id", "window_end").is_duplicated().sum() == 0
    assert not fourth["window_start"].is_in(first["ou_params"]["window_start"].implode()).all()

    _kedro_run(root, ["alpha"], {"compute": SMALL})
    back = _state(root, url)
    for name, frame in first.items():
        assert frame.drop("id", strict=False).equals(back[name].drop("id", strict=False)), name
    database.dispose_engines()
