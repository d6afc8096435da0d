"""Versioned reprocessing: data_batches and bar_partition_index.batch_id (spec §9.3; version 4).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

``data_batches`` has one row per batch of re-ingested or re-processed columnar data (the Parquet /
HDF5 rows of a batch carry its ``batch_id``, columnar schema version 2). ``bar_partition_index``
gains ``batch_id`` (FK, null = unversioned) and its unique key includes it. Existing rows keep
their values (``batch_id`` null). SQLite alters the table in batch mode (copy and rename).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KEY = "uq_bar_partition_index_store_source_symbol_id_date"
NEW_KEY = "uq_bar_partition_index_store_source_symbol_id_date_batch_id"
KEY_COLUMNS = ["store", "source", "symbol_id", "date"]


def upgrade() -> None:
    """Create ``data_batches``; add ``bar_partition_index.batch_id`` and widen its key; record v4."""
    pg = op.get_bind().dialect.name == "postgresql"
    utc_now = "timezone('utc', now())" if pg else "(strftime('%Y-%m-%d %H:%M:%f', 'now'))"
    op.create_table(
        "data_batches",
        sa.Column("batch_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("pipelines", sa.Text(), nullable=True),
        sa.Column("datasets", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_data_batches")),
    )
    with op.batch_alter_table("bar_partition_index") as batch:
        batch.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch.drop_constraint(OLD_KEY, type_="unique")
        batch.create_unique_constraint(NEW_KEY, [*KEY_COLUMNS, "batch_id"])
        batch.create_foreign_key(
            "fk_bar_partition_index_batch_id_data_batches",
            "data_batches",
            ["batch_id"],
            ["batch_id"],
        )
    op.execute(
        sa.text(
            "INSERT INTO schema_version (version, applied_at, description) "
            f"VALUES (4, {utc_now}, :d)"
        ).bindparams(d="data_batches + bar_partition_index.batch_id: versioned reprocessing (0004)")
    )


def downgrade() -> None:
    """Remove ``batch_id`` and ``data_batches`` (rows of other batches than null are dropped)."""
    op.execute(sa.text("DELETE FROM bar_partition_index WHERE batch_id IS NOT NULL"))
    with op.batch_alter_table("bar_partition_index") as batch:
        batch.drop_constraint("fk_bar_partition_index_batch_id_data_batches", type_="foreignkey")
        batch.drop_constraint(NEW_KEY, type_="unique")
        batch.create_unique_constraint(OLD_KEY, KEY_COLUMNS)
        batch.drop_column("batch_id")
    op.drop_table("data_batches")
    op.execute(sa.text("DELETE FROM schema_version WHERE version = 4"))
