"""Build the project's Kedro catalog from conf/base YAML, with every path moved under tmp_path."""

from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import Any

from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog

from tests.config_helpers import conf_file

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "conf" / "base"
CATALOG_FILES = ("catalog.yml", "catalog_ingestion.yml", "catalog_preprocessing.yml")
SECTIONS = ("ingestion", "preprocessing")


def load_params(sections: tuple[str, ...] = SECTIONS, env: str = "base") -> dict[str, Any]:
    """The parameters of conf/base (or the overlay ``env``) as ``kedro run`` loads them (the
    project's config-loader settings; conf/local is not read)."""
    from statarb.settings import CONFIG_LOADER_ARGS

    args = {**CONFIG_LOADER_ARGS, "default_run_env": "base"}
    with warnings.catch_warnings():  # kedro 1.7 calls a deprecated omegaconf API (upstream)
        warnings.simplefilter("ignore", UserWarning)
        params = OmegaConfigLoader(str(ROOT / "conf"), env=env, **args)["parameters"]
    return {k: copy.deepcopy(params[k]) for k in sections}


def build_catalog(
    tmp_path: Path,
    raw_dir: Path,
    db_url: str,
    params: dict[str, Any] | None = None,
    catalog_files: tuple[str, ...] = CATALOG_FILES,
) -> DataCatalog:
    """Catalog of conf/base with data/01_raw -> ``raw_dir`` and data/* -> ``tmp_path``/data/*."""
    cfg: dict[str, Any] = {}
    for f in catalog_files:
        cfg.update(conf_file(f))
    cfg = {k: copy.deepcopy(v) for k, v in cfg.items() if not k.startswith("_")}
    for entry in cfg.values():
        for key in ("path", "filepath", "equity_path"):
            if key in entry:
                p = entry[key]
                if p.startswith("data/01_raw/"):
                    entry[key] = str(raw_dir / p.removeprefix("data/01_raw/"))
                else:
                    entry[key] = str(tmp_path / p)
    catalog = DataCatalog.from_config(cfg, credentials={"db": {"con": db_url}})
    for name, value in (params or load_params()).items():
        catalog[f"params:{name}"] = value
    return catalog
