"""Relational tables of versioned reprocessing and of the HDF5 tier's index (Alembic 0003/0004).

Defined on :data:`statarb.storage.schema.metadata` (imported by it), beyond spec §4 tables and
documented in ``docs/storage-relational.md``:

* ``data_batches`` (spec §9.3 "append with version or batch_id"): one row per batch of
  re-ingested or re-processed columnar data; the rows of a batch carry its ``batch_id``
  (:mod:`statarb.storage.store_batches`).
* ``bar_partition_index`` (spec §3 "symbols ─< bar_partition_index", §7.3 "symbol -> HDF5 path +
  row ranges"): one row per (store, source, symbol, UTC day, batch) slice of an HDF5 bar file.
"""

from __future__ import annotations

import sqlalchemy as sa

from statarb.storage.checks import table_checks
from statarb.storage.schema import _id, _text, _ts, metadata

#: Versioned reprocessing (spec §9.3): one row per batch of re-ingested / re-processed data. The
#: columnar rows of a batch carry its ``batch_id`` (``statarb.storage.store_batches``).
data_batches = sa.Table(
    "data_batches",
    metadata,
    sa.Column("batch_id", sa.Integer(), primary_key=True, autoincrement=True),
    _ts("created_at", nullable=False),
    _text("note"),
    _text("pipelines"),
    _text("datasets"),
)

#: HDF5 tier index (spec §3 "symbols ─< bar_partition_index", §7.3 "symbol -> HDF5 path + row
#: ranges"): one row per (store, source, symbol, UTC day, batch) slice of an HDF5 bar file.
bar_partition_index = sa.Table(
    "bar_partition_index",
    metadata,
    _id(),
    sa.Column("symbol_id", sa.Text(), sa.ForeignKey("symbols.symbol_id"), nullable=False),
    _text("store", nullable=False),
    _text("source", nullable=False),
    _text("path", nullable=False),
    _text("h5_group", nullable=False),
    sa.Column("date", sa.Date(), nullable=False),
    sa.Column("row_start", sa.Integer(), nullable=False),
    sa.Column("row_stop", sa.Integer(), nullable=False),
    _ts("start_ts", nullable=False),
    _ts("end_ts", nullable=False),
    sa.Column("batch_id", sa.Integer(), sa.ForeignKey("data_batches.batch_id"), nullable=True),
    *table_checks("bar_partition_index"),
    sa.UniqueConstraint("store", "source", "symbol_id", "date", "batch_id"),
    sa.Index(None, "symbol_id", "date"),
)
