"""Fixtures: the shipped ingestion configuration (conf/base, as `kedro run` loads it) and its parts."""

from __future__ import annotations

import pytest

from statarb.ingest import BarFileSpec, IngestionConfig, RowChecks, TickFileSpec
from tests.ingest.kedro_helpers import load_params


@pytest.fixture(scope="session")
def ingestion_cfg() -> IngestionConfig:
    """``ingestion`` of conf/base, validated (what ``kedro run`` uses)."""
    return IngestionConfig.from_params(load_params()["ingestion"], "ingestion")


@pytest.fixture(scope="session")
def bar_spec(ingestion_cfg: IngestionConfig) -> BarFileSpec:
    return ingestion_cfg.active.bars


@pytest.fixture(scope="session")
def tick_spec(ingestion_cfg: IngestionConfig) -> TickFileSpec:
    return ingestion_cfg.active.ticks


@pytest.fixture(scope="session")
def bar_checks(ingestion_cfg: IngestionConfig, bar_spec: BarFileSpec) -> RowChecks:
    return RowChecks.for_source(ingestion_cfg, bar_spec)


@pytest.fixture(scope="session")
def tick_checks(ingestion_cfg: IngestionConfig, tick_spec: TickFileSpec) -> RowChecks:
    return RowChecks.for_source(ingestion_cfg, tick_spec)
