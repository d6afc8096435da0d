"""Selection log of the pair-selection funnel (research extension; schema version 2).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

One row per (pair, test time): each funnel stage's statistic and pass/fail, and the final decision
``tradable`` that the alpha pipeline copies into ``cointegration_results.is_cointegrated``
(docs/cointegration.md, "Selection funnel"). Frozen snapshot like 0001.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REAL = sa.Double().with_variant(sa.REAL(), "sqlite")


def upgrade() -> None:
    """Create ``selection_log`` with its unique key and test-time index; record version 2."""
    pg = op.get_bind().dialect.name == "postgresql"
    utc_now = "timezone('utc', now())" if pg else "(strftime('%Y-%m-%d %H:%M:%f', 'now'))"
    op.create_table(
        "selection_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pair_id", sa.Text(), nullable=False),
        sa.Column("test_ts", sa.DateTime(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("n_obs", sa.Integer(), nullable=True),
        sa.Column("statistic", REAL, nullable=True),
        sa.Column("pvalue", REAL, nullable=True),
        sa.Column("qvalue", REAL, nullable=True),
        sa.Column("half_life", REAL, nullable=True),
        sa.Column("hurst", REAL, nullable=True),
        sa.Column("crossings", sa.Integer(), nullable=True),
        sa.Column("pass_test", sa.Boolean(), nullable=True),
        sa.Column("pass_half_life", sa.Boolean(), nullable=True),
        sa.Column("pass_hurst", sa.Boolean(), nullable=True),
        sa.Column("pass_crossings", sa.Boolean(), nullable=True),
        sa.Column("pass_matching", sa.Boolean(), nullable=True),
        sa.Column("streak", sa.Integer(), nullable=True),
        sa.Column("tradable", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pair_id"],
            ["pair_universe.pair_id"],
            name=op.f("fk_selection_log_pair_id_pair_universe"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selection_log")),
        sa.UniqueConstraint("pair_id", "test_ts", name=op.f("uq_selection_log_pair_id_test_ts")),
    )
    op.create_index(op.f("ix_selection_log_test_ts"), "selection_log", ["test_ts"])
    op.execute(
        sa.text(
            "INSERT INTO schema_version (version, applied_at, description) "
            f"VALUES (2, {utc_now}, :d)"
        ).bindparams(d="selection_log: pair-selection funnel log (alembic 0002)")
    )


def downgrade() -> None:
    """Drop ``selection_log`` and the version-2 row."""
    op.drop_index(op.f("ix_selection_log_test_ts"), table_name="selection_log")
    op.drop_table("selection_log")
    op.execute(sa.text("DELETE FROM schema_version WHERE version = 2"))
