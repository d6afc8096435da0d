"""Kedro dataset over the runs' per-bar carry costs (``<path>/run_id=<id>/accruals.parquet``).

:func:`statarb.backtest.persistence.save_run` writes the file next to the run's Parquet equity copy
(spec §4.3 ``backtest_equity`` has no column for the borrow fee and the financing, which are
already inside ``cash``). ``load`` gives one LazyFrame ``run_id, ts, borrow_cost, financing_cost``
over every run (``run_id`` from the folder name, so a ``run_id`` filter reads one file); with no
file yet it is empty, with those columns. Read-only: runs are written by ``BacktestRunDataset``.

Catalog entry (``conf/base/catalog_backtest.yml``)::

    backtest_accruals:
      type: statarb.backtest.accruals_dataset.RunAccrualsDataset
      path: data/backtest/equity        # the equity_path of backtest_run
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from kedro.io import AbstractDataset, DatasetError

from statarb.backtest.persistence import ACCRUAL_COLUMNS, ACCRUALS_FILE

SCHEMA = {
    "run_id": pl.String,
    "ts": pl.Datetime("us", "UTC"),
    **{c: pl.Float64 for c in ACCRUAL_COLUMNS},
}


class RunAccrualsDataset(AbstractDataset[None, pl.LazyFrame]):
    """Per-bar borrow and financing costs of every stored run (read-only)."""

    def __init__(self, path: str, metadata: dict[str, Any] | None = None) -> None:
        self._path = Path(path)
        self.metadata = metadata

    def load(self) -> pl.LazyFrame:
        if not any(self._path.glob(f"run_id=*/{ACCRUALS_FILE}")):
            return pl.DataFrame(schema=SCHEMA).lazy()
        lf = pl.scan_parquet(
            str(self._path / "run_id=*" / ACCRUALS_FILE),
            hive_partitioning=True,
            hive_schema={"run_id": pl.String},
        )
        return lf.select(*SCHEMA).cast(SCHEMA)  # type: ignore[arg-type]

    def save(self, data: None) -> None:
        raise DatasetError(
            "RunAccrualsDataset is read-only: the backtest_run dataset writes accruals.parquet"
        )

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}
