"""HDF5 tier index: bar_partition_index (spec §3, §7.3; schema version 3).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

One row per (store, source, symbol, UTC day) slice of an HDF5 bar file: the file and group that
hold it and its row range (``docs/storage-columnar.md``, "HDF5 tier"). Frozen snapshot: later
changes go into new revisions (0004 adds ``batch_id``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``bar_partition_index`` with its key, row-range rule and lookup index; record v3."""
    pg = op.get_bind().dialect.name == "postgresql"
    utc_now = "timezone('utc', now())" if pg else "(strftime('%Y-%m-%d %H:%M:%f', 'now'))"
    op.create_table(
        "bar_partition_index",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("symbol_id", sa.Text(), nullable=False),
        sa.Column("store", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("h5_group", sa.Text(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("row_start", sa.Integer(), nullable=False),
        sa.Column("row_stop", sa.Integer(), nullable=False),
        sa.Column("start_ts", sa.DateTime(), nullable=False),
        sa.Column("end_ts", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "row_stop > row_start AND row_start >= 0",
            name=op.f("ck_bar_partition_index_row_range"),
        ),
        sa.ForeignKeyConstraint(
            ["symbol_id"],
            ["symbols.symbol_id"],
            name=op.f("fk_bar_partition_index_symbol_id_symbols"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bar_partition_index")),
        sa.UniqueConstraint(
            "store",
            "source",
            "symbol_id",
            "date",
            name=op.f("uq_bar_partition_index_store_source_symbol_id_date"),
        ),
    )
    op.create_index(
        op.f("ix_bar_partition_index_symbol_id_date"), "bar_partition_index", ["symbol_id", "date"]
    )
    op.execute(
        sa.text(
            "INSERT INTO schema_version (version, applied_at, description) "
            f"VALUES (3, {utc_now}, :d)"
        ).bindparams(
            d="bar_partition_index: HDF5 tier row ranges per symbol and day (alembic 0003)"
        )
    )


def downgrade() -> None:
    """Drop ``bar_partition_index`` and the version-3 row."""
    op.drop_index(op.f("ix_bar_partition_index_symbol_id_date"), table_name="bar_partition_index")
    op.drop_table("bar_partition_index")
    op.execute(sa.text("DELETE FROM schema_version WHERE version = 3"))
