"""Kedro dataset that stores one backtest run atomically (``backtest_runs`` + events).

Catalog entry (``conf/base/catalog_backtest.yml``)::

    backtest_run:
      type: statarb.backtest.run_dataset.BacktestRunDataset
      credentials: db
      equity_path: data/backtest/equity     # optional Parquet copy of the equity curve

``save`` takes the payload ``{"result": BacktestResult, "config": BacktestConfig, "run_id":
optional, "extra": optional dict}`` and calls :func:`statarb.backtest.persistence.save_run` (one
transaction; an existing ``run_id`` is refused). ``load`` returns ``{"run_id", "runs", "signals",
"fills", "equity"}`` of the run this dataset saved last, or of the newest stored run.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from kedro.io import AbstractDataset, DatasetError

from statarb.backtest.persistence import load_run, save_run
from statarb.conventions import LATEST_RUN_SQL
from statarb.storage.access import AccessControlled
from statarb.storage.database import ensure_schema, get_engine, redact_url, resolve_db_url


class BacktestRunDataset(AccessControlled, AbstractDataset[dict[str, Any], dict[str, Any]]):
    """Save a backtest run (payload dict) / load the last saved or newest run."""

    def __init__(
        self,
        credentials: dict[str, Any] | None = None,
        equity_path: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._url = resolve_db_url(credentials)
        self._equity_path = equity_path
        self._last_run_id: str | None = None
        self.metadata = metadata

    def save(self, data: dict[str, Any]) -> None:
        self._guard_save()  # spec §9.5: only a backtest run writes runs (storage.access)
        if not isinstance(data, dict) or "result" not in data or "config" not in data:
            raise DatasetError(
                "BacktestRunDataset.save expects {'result': BacktestResult, 'config': "
                f"BacktestConfig, ...}}, got {type(data).__name__}"
            )
        self._last_run_id = save_run(
            data["result"],
            data["config"],
            self._url,
            run_id=data.get("run_id"),
            extra_config=data.get("extra"),
            equity_root=self._equity_path,
        )

    def load(self) -> dict[str, Any]:
        run_id = self._last_run_id
        if run_id is None:
            ensure_schema(self._url)
            q = sa.text(LATEST_RUN_SQL)
            with get_engine(self._url).connect() as conn:
                run_id = conn.execute(q).scalar()
            if run_id is None:
                raise DatasetError(
                    f"BacktestRunDataset: no run stored in {redact_url(self._url)}; "
                    "run the backtest pipeline first"
                )
        return {"run_id": run_id, **load_run(self._url, run_id)}

    def _describe(self) -> dict[str, Any]:
        return {"url": redact_url(self._url), "equity_path": self._equity_path}
