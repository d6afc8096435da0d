"""Kedro dataset storing a sweep (``sweeps`` + ``sweep_results`` + the top-k runs in full).

Catalog entry (``conf/base/catalog_sweep.yml``)::

    sweep_run:
      type: statarb.sweep.dataset.SweepDataset
      credentials: db
      path: data/sweep              # <path>/sweep_id=<id>/walk_forward_equity.parquet

``save`` takes the payload of :func:`statarb.pipelines.sweep.nodes.run_sweep_node` and writes, in
order: the sweep rows in one transaction (:func:`statarb.sweep.runs.save_sweep`), each top-k
run under its reserved ``run_id`` (:func:`statarb.backtest.persistence.save_run`, its own
transaction; ``has_events`` set after the commit) and the walk-forward out-of-sample equity as
Parquet. The payload gains ``sweep_id`` and ``run_ids``. ``load`` returns ``{"sweep_id", "sweep",
"results", "walk_forward_equity"}`` of the sweep saved last, or of the newest stored sweep.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
from kedro.io import AbstractDataset, DatasetError

from statarb.backtest.persistence import save_run
from statarb.storage.access import AccessControlled
from statarb.storage.database import ensure_schema, get_engine, redact_url, resolve_db_url
from statarb.storage.sql_io import read_table
from statarb.sweep.runs import mark_events, save_sweep


class SweepDataset(AccessControlled, AbstractDataset[dict[str, Any], dict[str, Any]]):
    """Save a sweep payload / load the last saved or newest sweep."""

    def __init__(
        self,
        credentials: dict[str, Any] | None = None,
        path: str | None = None,
        equity_path: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._url = resolve_db_url(credentials)
        self._path = path
        self._equity_path = equity_path
        self._last: str | None = None
        self.metadata = metadata

    def save(self, data: dict[str, Any]) -> None:
        self._guard_save()
        missing = {"metrics", "configs_json", "header", "top"} - set(data or {})
        if missing:
            raise DatasetError(f"SweepDataset.save: payload lacks {sorted(missing)}")
        sweep_id, run_ids = save_sweep(
            self._url, data["metrics"], data["configs_json"], data["header"]
        )
        for item in data["top"]:
            rid = run_ids[item["index"]]
            save_run(
                item["result"], item["config"], self._url, run_id=rid,
                extra_config={**item["extra"], "sweep_id": sweep_id},
                equity_root=self._equity_path,
            )  # fmt: skip
            mark_events(self._url, rid)
        wf = data.get("walk_forward_equity")
        if self._path and wf is not None:
            folder = Path(self._path) / f"sweep_id={sweep_id}"
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / ".walk_forward_equity.parquet.tmp"
            wf.write_parquet(tmp)
            tmp.replace(folder / "walk_forward_equity.parquet")
        data["sweep_id"], data["run_ids"] = sweep_id, run_ids
        self._last = sweep_id

    def load(self) -> dict[str, Any]:
        sweep_id = self._last
        ensure_schema(self._url)
        eng = get_engine(self._url)
        if sweep_id is None:
            q = sa.text("SELECT sweep_id FROM sweeps ORDER BY created_at DESC, sweep_id DESC")
            with eng.connect() as conn:
                sweep_id = conn.execute(q).scalar()
            if sweep_id is None:
                raise DatasetError(
                    f"SweepDataset: no sweep stored in {redact_url(self._url)}; run "
                    "`kedro run --pipelines sweep` first"
                )
        where, params = "sweep_id = :s", {"s": sweep_id}
        wf = None
        if self._path:
            f = Path(self._path) / f"sweep_id={sweep_id}" / "walk_forward_equity.parquet"
            wf = pl.read_parquet(f) if f.exists() else None
        return {
            "sweep_id": sweep_id,
            "sweep": read_table(eng, "sweeps", where, params),
            "results": read_table(eng, "sweep_results", where, params),
            "walk_forward_equity": wf,
        }

    def _describe(self) -> dict[str, Any]:
        return {"url": redact_url(self._url), "path": self._path}
