"""The ``data_batches`` log: one batch id per run that reprocesses with history (spec §9.3).

:class:`RunBatches` is created for a ``kedro run`` in ``storage.batches.mode: append``; the first
versioned dataset the run saves allocates the batch (a ``data_batches`` row), every later one
reuses it and is added to the row's ``datasets`` list, so one run = one ``batch_id``.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import sqlalchemy as sa

from statarb.storage.database import ensure_schema, get_engine
from statarb.storage.schema_versioning import data_batches


class RunBatches:
    """Lazily allocated batch of one run (thread-safe: Kedro may save from threads)."""

    def __init__(self, url: str, note: str = "", pipelines: str = "") -> None:
        self.url = url
        self.note = note
        self.pipelines = pipelines
        self._batch: int | None = None
        self._datasets: list[str] = []
        self._lock = threading.Lock()

    def batch_id(self, dataset: str) -> int:
        """The run's batch id (allocated on first use); records ``dataset`` as written in it."""
        with self._lock:
            ensure_schema(self.url)
            with get_engine(self.url).begin() as conn:
                if self._batch is None:
                    row = conn.execute(
                        sa.insert(data_batches)
                        .values(
                            created_at=datetime.now(UTC).replace(tzinfo=None),
                            note=self.note or None,
                            pipelines=self.pipelines or None,
                            datasets="[]",
                        )
                        .returning(data_batches.c.batch_id)
                    ).scalar_one()
                    self._batch = int(row)
                if dataset not in self._datasets:
                    self._datasets.append(dataset)
                    conn.execute(
                        sa.update(data_batches)
                        .where(data_batches.c.batch_id == self._batch)
                        .values(datasets=json.dumps(self._datasets))
                    )
            return self._batch
