"""Reruns are byte- and row-identical: ingestion -> preprocessing -> alpha twice on the same raw
files leaves every file under data/ and every table row (timestamps included) as the first run
left them."""

from __future__ import annotations

import copy
import time
from pathlib import Path

import pytest
from kedro.runner import SequentialRunner
from tests.ingest.kedro_helpers import CATALOG_FILES, build_catalog, load_params
from tests.pipelines.ingestion.snapshots import file_bytes, table_rows

from statarb.pipelines.alpha import create_pipeline as alpha
from statarb.pipelines.ingestion import create_pipeline as ingestion
from statarb.pipelines.preprocessing import create_pipeline as preprocessing
from statarb.storage.database import dispose_engines
from statarb.synthetic.config import load_config
from statarb.synthetic.generator import generate

STAMPED = {  # table -> its writer-stamped timestamp column(s)
    "symbols": ("created_at", "updated_at"),
    "corporate_actions": ("recorded_at",),
    "pair_universe": ("created_at",),
    "cointegration_results": ("created_at",),
    "kalman_params": ("created_at",),
    "ou_params": ("created_at",),
    "selection_log": ("created_at",),
}

SYNTH_PARAMS = Path(__file__).resolve().parents[3] / "conf/base/parameters_synthetic.yml"


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("raw")
    cfg = load_config(SYNTH_PARAMS).with_overrides(
        n_symbols=6, n_days=3, tick_days=1, tick_symbols=2, n_missing=10
    )
    generate(out, cfg, force=True)
    return out


def _params() -> dict:
    """Shipped parameters; the alpha funnel opened up so that three sessions select pairs and
    every alpha table gets rows (this test is about persistence, not about selection)."""
    params = load_params(("ingestion", "preprocessing", "alpha", "compute"))
    alpha = params["alpha"]
    alpha["screening"].update(window_bars=780, min_obs=390)
    alpha["selection"]["multiple_testing"]["method"] = "none"
    alpha["selection"]["persistence"].update(enter_after=1, exit_after=1)
    alpha["selection"]["confirmation"]["max_shared"] = None
    alpha["selection"]["hurst"]["max"] = None
    alpha["selection"]["crossings"]["min"] = 0
    return params


def _run(tmp_path: Path, raw: Path, url: str, params: dict) -> None:
    catalog = build_catalog(
        tmp_path, raw, url, copy.deepcopy(params), (*CATALOG_FILES, "catalog_alpha.yml")
    )
    SequentialRunner().run(ingestion() + preprocessing() + alpha(), catalog)


def test_second_identical_run_changes_no_byte_and_no_row(tmp_path, raw, db_url):
    params = _params()
    try:
        _run(tmp_path, raw, db_url, params)
        files, rows = file_bytes(tmp_path / "data"), table_rows(db_url)
        for table in STAMPED:  # every stamped table is filled: the comparison means something
            assert rows[table], f"{table} is empty after the first run"
        assert any(f.startswith("alpha/spreads/") for f in files)
        time.sleep(1.1)  # stamps have one-second resolution: a rewritten one would differ
        _run(tmp_path, raw, db_url, params)
        again_files, again_rows = file_bytes(tmp_path / "data"), table_rows(db_url)
        assert again_files.keys() == files.keys()
        changed = sorted(k for k in files if files[k] != again_files[k])
        assert not changed, f"files rewritten with other bytes: {changed}"
        for table, stamped in rows.items():
            assert again_rows[table] == stamped, f"{table} rows differ after the rerun"
    finally:
        dispose_engines()
