"""Confirmation stage of the selection funnel: two selection_log columns (schema version 6).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

``confirm_pvalue`` (the pair's raw p-value at its latest earlier test whose window shares at most
``alpha.selection.confirmation.max_shared`` of the bars) and ``pass_confirmation`` (docs/cointegration.md, "Selection funnel"), both nullable:
rows written before this revision keep null there. Spec tables are not changed. Frozen snapshot
like the earlier revisions.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REAL = sa.Double().with_variant(sa.REAL(), "sqlite")


def upgrade() -> None:
    """Add the two nullable columns to ``selection_log``; record version 6."""
    pg = op.get_bind().dialect.name == "postgresql"
    utc_now = "timezone('utc', now())" if pg else "(strftime('%Y-%m-%d %H:%M:%f', 'now'))"
    op.add_column("selection_log", sa.Column("confirm_pvalue", REAL, nullable=True))
    op.add_column("selection_log", sa.Column("pass_confirmation", sa.Boolean(), nullable=True))
    op.execute(
        sa.text(
            "INSERT INTO schema_version (version, applied_at, description) "
            f"VALUES (6, {utc_now}, :d)"
        ).bindparams(d="selection_log: confirmation stage columns (alembic 0006)")
    )


def downgrade() -> None:
    """Drop the two columns and the version-6 row."""
    with op.batch_alter_table("selection_log") as batch:
        batch.drop_column("pass_confirmation")
        batch.drop_column("confirm_pvalue")
    op.execute(sa.text("DELETE FROM schema_version WHERE version = 6"))
