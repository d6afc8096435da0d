"""Initial schema: every table of storage spec §4 plus schema_version (row 1).

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Frozen snapshot: later schema changes go into new revisions, never into this file. REAL columns are
8-byte floats on both back-ends (SQLite REAL, PostgreSQL DOUBLE PRECISION); timestamps are naive
UTC; ``symbol_a < symbol_b`` compares by code point (PostgreSQL ``COLLATE "C"``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REAL = sa.Double().with_variant(sa.REAL(), "sqlite")


def upgrade() -> None:
    """Create all tables, constraints and indexes, and record schema version 1."""
    pg = op.get_bind().dialect.name == "postgresql"
    utc_now = sa.text("timezone('utc', now())" if pg else "(strftime('%Y-%m-%d %H:%M:%f', 'now'))")
    symbol_order = 'symbol_a < symbol_b COLLATE "C"' if pg else "symbol_a < symbol_b"

    op.create_table(
        "schema_version",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_schema_version")),
    )
    op.create_table(
        "symbols",
        sa.Column("symbol_id", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("asset_class", sa.Text(), nullable=True),
        sa.Column("exchange", sa.Text(), nullable=True),
        sa.Column("currency", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=utc_now, nullable=True),
        sa.Column("updated_at", sa.DateTime(), server_default=utc_now, nullable=True),
        sa.CheckConstraint(
            "symbol_id = upper(symbol_id) AND symbol_id NOT LIKE '% %' AND symbol_id <> ''",
            name=op.f("ck_symbols_symbol_id_format"),
        ),
        sa.PrimaryKeyConstraint("symbol_id", name=op.f("pk_symbols")),
    )
    op.create_table(
        "corporate_actions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("symbol_id", sa.Text(), nullable=False),
        sa.Column("action_type", sa.Text(), nullable=False),
        sa.Column("ex_date", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=True),
        sa.Column("ratio", REAL, nullable=True),
        sa.Column("cash_amount", REAL, nullable=True),
        sa.Column("metadata_json", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "action_type IN ('split', 'dividend', 'rights')",
            name=op.f("ck_corporate_actions_action_type"),
        ),
        sa.CheckConstraint(
            "cash_amount IS NULL OR cash_amount >= 0",
            name=op.f("ck_corporate_actions_cash_amount_nonnegative"),
        ),
        sa.CheckConstraint(
            "ratio IS NULL OR ratio > 0", name=op.f("ck_corporate_actions_ratio_positive")
        ),
        sa.ForeignKeyConstraint(
            ["symbol_id"],
            ["symbols.symbol_id"],
            name=op.f("fk_corporate_actions_symbol_id_symbols"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corporate_actions")),
    )
    op.create_index(
        op.f("ix_corporate_actions_symbol_id_ex_date"),
        "corporate_actions",
        ["symbol_id", "ex_date"],
    )
    op.create_table(
        "pair_universe",
        sa.Column("pair_id", sa.Text(), nullable=False),
        sa.Column("symbol_a", sa.Text(), nullable=False),
        sa.Column("symbol_b", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "pair_id = symbol_a || '_' || symbol_b", name=op.f("ck_pair_universe_pair_id_format")
        ),
        sa.CheckConstraint(symbol_order, name=op.f("ck_pair_universe_symbol_order")),
        sa.ForeignKeyConstraint(
            ["symbol_a"], ["symbols.symbol_id"], name=op.f("fk_pair_universe_symbol_a_symbols")
        ),
        sa.ForeignKeyConstraint(
            ["symbol_b"], ["symbols.symbol_id"], name=op.f("fk_pair_universe_symbol_b_symbols")
        ),
        sa.PrimaryKeyConstraint("pair_id", name=op.f("pk_pair_universe")),
    )
    op.create_index(
        op.f("ix_pair_universe_symbol_a_symbol_b"), "pair_universe", ["symbol_a", "symbol_b"]
    )
    op.create_table(
        "backtest_runs",
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("strategy_name", sa.Text(), nullable=True),
        sa.Column("pair_id", sa.Text(), nullable=True),
        sa.Column("start_ts", sa.DateTime(), nullable=False),
        sa.Column("end_ts", sa.DateTime(), nullable=False),
        sa.Column("config_json", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pair_id"],
            ["pair_universe.pair_id"],
            name=op.f("fk_backtest_runs_pair_id_pair_universe"),
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_backtest_runs")),
    )
    op.create_index(op.f("ix_backtest_runs_created_at"), "backtest_runs", ["created_at"])
    op.create_index(
        op.f("ix_backtest_runs_start_ts_end_ts"), "backtest_runs", ["start_ts", "end_ts"]
    )
    op.create_table(
        "cointegration_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pair_id", sa.Text(), nullable=False),
        sa.Column("test_ts", sa.DateTime(), nullable=False),
        sa.Column("adf_statistic", REAL, nullable=True),
        sa.Column("adf_pvalue", REAL, nullable=True),
        sa.Column("johansen_trace", REAL, nullable=True),
        sa.Column("johansen_pvalue", REAL, nullable=True),
        sa.Column("cointegrating_vector", sa.Text(), nullable=True),
        sa.Column("is_cointegrated", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pair_id"],
            ["pair_universe.pair_id"],
            name=op.f("fk_cointegration_results_pair_id_pair_universe"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cointegration_results")),
        sa.UniqueConstraint(
            "pair_id", "test_ts", name=op.f("uq_cointegration_results_pair_id_test_ts")
        ),
    )
    op.create_table(
        "kalman_params",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pair_id", sa.Text(), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=True),
        sa.Column("window_end", sa.DateTime(), nullable=True),
        sa.Column("initial_state", sa.Text(), nullable=True),
        sa.Column("process_noise", REAL, nullable=True),
        sa.Column("measurement_noise", REAL, nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pair_id"],
            ["pair_universe.pair_id"],
            name=op.f("fk_kalman_params_pair_id_pair_universe"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kalman_params")),
    )
    op.create_table(
        "ou_params",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pair_id", sa.Text(), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=True),
        sa.Column("window_end", sa.DateTime(), nullable=True),
        sa.Column("theta", REAL, nullable=True),
        sa.Column("mu", REAL, nullable=True),
        sa.Column("sigma", REAL, nullable=True),
        sa.Column("entry_upper", REAL, nullable=True),
        sa.Column("entry_lower", REAL, nullable=True),
        sa.Column("exit_threshold", REAL, nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["pair_universe.pair_id"], name=op.f("fk_ou_params_pair_id_pair_universe")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ou_params")),
    )
    op.create_table(
        "backtest_equity",
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("ts", sa.DateTime(), nullable=False),
        sa.Column("equity", REAL, nullable=False),
        sa.Column("cash", REAL, nullable=True),
        sa.Column("positions_value", REAL, nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["backtest_runs.run_id"],
            name=op.f("fk_backtest_equity_run_id_backtest_runs"),
        ),
        sa.UniqueConstraint("run_id", "ts", name=op.f("uq_backtest_equity_run_id_ts")),
    )
    op.create_table(
        "backtest_metrics",
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("sharpe_annual", REAL, nullable=True),
        sa.Column("sortino_annual", REAL, nullable=True),
        sa.Column("calmar", REAL, nullable=True),
        sa.Column("max_drawdown", REAL, nullable=True),
        sa.Column("total_return", REAL, nullable=True),
        sa.Column("num_trades", sa.Integer(), nullable=True),
        sa.Column("win_rate", REAL, nullable=True),
        sa.Column("alpha", REAL, nullable=True),
        sa.Column("beta", REAL, nullable=True),
        sa.Column("metrics_json", sa.Text(), nullable=True),
        sa.Column("computed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["backtest_runs.run_id"],
            name=op.f("fk_backtest_metrics_run_id_backtest_runs"),
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_backtest_metrics")),
    )
    op.create_table(
        "backtest_signals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("signal_ts", sa.DateTime(), nullable=False),
        sa.Column("direction", sa.Text(), nullable=False),
        sa.Column("symbol_a", sa.Text(), nullable=True),
        sa.Column("symbol_b", sa.Text(), nullable=True),
        sa.Column("hedge_ratio", REAL, nullable=True),
        sa.Column("size", REAL, nullable=True),
        sa.Column("metadata_json", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "direction IN ('long_spread', 'short_spread', 'flat')",
            name=op.f("ck_backtest_signals_direction"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["backtest_runs.run_id"],
            name=op.f("fk_backtest_signals_run_id_backtest_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backtest_signals")),
    )
    op.create_index(
        op.f("ix_backtest_signals_run_id_signal_ts"), "backtest_signals", ["run_id", "signal_ts"]
    )
    op.create_table(
        "backtest_fills",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("signal_id", sa.Integer(), nullable=True),
        sa.Column("fill_ts", sa.DateTime(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("quantity", REAL, nullable=False),
        sa.Column("price", REAL, nullable=False),
        sa.Column("commission", REAL, nullable=True),
        sa.Column("slippage_bps", REAL, nullable=True),
        sa.CheckConstraint("side IN ('buy', 'sell')", name=op.f("ck_backtest_fills_side")),
        sa.CheckConstraint(
            "commission IS NULL OR commission >= 0",
            name=op.f("ck_backtest_fills_commission_nonnegative"),
        ),
        sa.CheckConstraint("price >= 0", name=op.f("ck_backtest_fills_price_nonnegative")),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_backtest_fills_quantity_nonnegative")),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["backtest_runs.run_id"],
            name=op.f("fk_backtest_fills_run_id_backtest_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["signal_id"],
            ["backtest_signals.id"],
            name=op.f("fk_backtest_fills_signal_id_backtest_signals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backtest_fills")),
    )
    op.create_index(
        op.f("ix_backtest_fills_run_id_fill_ts"), "backtest_fills", ["run_id", "fill_ts"]
    )

    op.execute(
        sa.text(
            "INSERT INTO schema_version (version, applied_at, description) "
            f"VALUES (1, {utc_now.text}, :d)"
        ).bindparams(d="initial schema: storage spec §4 tables (alembic 0001)")
    )


def downgrade() -> None:
    """Drop everything this revision created (children before parents)."""
    for table in (
        "backtest_fills",
        "backtest_signals",
        "backtest_metrics",
        "backtest_equity",
        "ou_params",
        "kalman_params",
        "cointegration_results",
        "backtest_runs",
        "pair_universe",
        "corporate_actions",
        "symbols",
        "schema_version",
    ):
        op.drop_table(table)
