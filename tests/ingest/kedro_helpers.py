"""Build the project's Kedro catalog from conf/base YAML, with every path moved under tmp_path."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from kedro.io import DataCatalog

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "conf" / "base"
CATALOG_FILES = ("catalog.yml", "catalog_ingestion.yml", "catalog_preprocessing.yml")
PARAM_FILES = ("parameters_ingestion.yml", "parameters_preprocessing.yml")


def load_params() -> dict[str, Any]:
    params: dict[str, Any] = {}
    for f in PARAM_FILES:
        params.update(yaml.safe_load((CONF / f).read_text()))
    return params


def build_catalog(
    tmp_path: Path, raw_dir: Path, db_url: str, params: dict[str, Any] | None = None
) -> DataCatalog:
    """Catalog of conf/base with data/01_raw -> ``raw_dir`` and data/* -> ``tmp_path``/data/*."""
    cfg: dict[str, Any] = {}
    for f in CATALOG_FILES:
        cfg.update(yaml.safe_load((CONF / f).read_text()))
    cfg = {k: copy.deepcopy(v) for k, v in cfg.items() if not k.startswith("_")}
    for entry in cfg.values():
        for key in ("path", "filepath"):
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
