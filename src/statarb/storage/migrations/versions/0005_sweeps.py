"""Parameter sweeps: sweeps and sweep_results (research extension; schema version 5).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

``sweeps`` has one row per sweep, ``sweep_results`` one row per configuration with its own
``run_id`` (spec §9.3: a new config is a new run) and its metrics (docs/research.md). Spec tables
are not changed. Frozen snapshot like the earlier revisions.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REAL = sa.Double().with_variant(sa.REAL(), "sqlite")
RESULT_REALS = (
    "sharpe_annual", "sortino_annual", "max_drawdown", "total_return", "annual_return",
    "annual_volatility", "pnl", "final_equity",
)  # fmt: skip


def upgrade() -> None:
    """Create ``sweeps`` and ``sweep_results`` with their keys and indexes; record version 5."""
    pg = op.get_bind().dialect.name == "postgresql"
    utc_now = "timezone('utc', now())" if pg else "(strftime('%Y-%m-%d %H:%M:%f', 'now'))"
    op.create_table(
        "sweeps",
        sa.Column("sweep_id", sa.Text(), nullable=False),
        sa.Column("strategy_name", sa.Text(), nullable=False),
        sa.Column("start_ts", sa.DateTime(), nullable=True),
        sa.Column("end_ts", sa.DateTime(), nullable=True),
        sa.Column("n_configs", sa.Integer(), nullable=False),
        sa.Column("n_trials", sa.Integer(), nullable=False),
        sa.Column("sharpe_variance", REAL, nullable=True),
        sa.Column("periods_per_year", REAL, nullable=True),
        sa.Column("rank_cost_scale", REAL, nullable=True),
        sa.Column("config_json", sa.Text(), nullable=True),
        sa.Column("cost_sensitivity_json", sa.Text(), nullable=True),
        sa.Column("walk_forward_json", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sweep_id", name=op.f("pk_sweeps")),
    )
    op.create_index(op.f("ix_sweeps_created_at"), "sweeps", ["created_at"])
    op.create_table(
        "sweep_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sweep_id", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("entry_z", REAL, nullable=False),
        sa.Column("exit_z", REAL, nullable=False),
        sa.Column("stop_z", REAL, nullable=False),
        sa.Column("max_holding_bars", sa.Integer(), nullable=False),
        sa.Column("kalman_delta", REAL, nullable=True),
        sa.Column("ou_window_bars", sa.Integer(), nullable=True),
        sa.Column("cost_scale", REAL, nullable=False),
        *[sa.Column(name, REAL, nullable=True) for name in RESULT_REALS],
        sa.Column("num_signals", sa.Integer(), nullable=True),
        sa.Column("num_fills", sa.Integer(), nullable=True),
        sa.Column("num_trades", sa.Integer(), nullable=True),
        sa.Column("commission", REAL, nullable=True),
        sa.Column("slippage_cost", REAL, nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("has_events", sa.Boolean(), nullable=False),
        sa.Column("config_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sweep_id"], ["sweeps.sweep_id"], name=op.f("fk_sweep_results_sweep_id_sweeps")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sweep_results")),
        sa.UniqueConstraint("run_id", name=op.f("uq_sweep_results_run_id")),
    )
    op.create_index(op.f("ix_sweep_results_sweep_id_rank"), "sweep_results", ["sweep_id", "rank"])
    op.execute(
        sa.text(
            "INSERT INTO schema_version (version, applied_at, description) "
            f"VALUES (5, {utc_now}, :d)"
        ).bindparams(d="sweeps + sweep_results: parameter sweeps (0005)")
    )


def downgrade() -> None:
    """Drop ``sweep_results`` and ``sweeps`` and the version-5 row."""
    op.drop_index(op.f("ix_sweep_results_sweep_id_rank"), table_name="sweep_results")
    op.drop_table("sweep_results")
    op.drop_index(op.f("ix_sweeps_created_at"), table_name="sweeps")
    op.drop_table("sweeps")
    op.execute(sa.text("DELETE FROM schema_version WHERE version = 5"))
