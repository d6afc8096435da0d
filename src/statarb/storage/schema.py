"""SQLAlchemy Core schema of the relational tier: every table of storage spec §4 plus ``schema_version``.

Column names, NOT NULL, primary and foreign keys follow ``shared/spec/storage-architecture.md`` §4
exactly; indexes follow §7.2 and the identifier rules of §9.1 / §8 are CHECK constraints, each
stated once in :mod:`statarb.storage.checks` (SQL, message and Polars twin together).

Type mapping (spec -> SQLAlchemy -> SQLite / PostgreSQL):

* TEXT -> ``Text``; INTEGER -> ``Integer`` (AUTO = autoincrementing primary key: SQLite rowid
  alias, PostgreSQL ``SERIAL``); DATE -> ``Date``; BOOLEAN -> ``Boolean``.
* TIMESTAMP -> ``DateTime(timezone=False)``: naive UTC. ``sql_io`` converts from/to
  ``pl.Datetime("us", "UTC")``.
* REAL -> :data:`Real`: ``REAL`` on SQLite (an 8-byte IEEE double there) and ``DOUBLE PRECISION``
  on PostgreSQL, whose own ``REAL`` is a 4-byte float (~7 significant digits) that would truncate
  p-values, prices and equity. Both back-ends therefore round-trip Python floats exactly.

Constraint names come from :data:`NAMING_CONVENTION` so that error messages and migrations can refer
to them. ``pair_universe``'s ``symbol_a < symbol_b`` compares by code point on both back-ends
(PostgreSQL: ``COLLATE "C"``), which is the order Python's ``str`` comparison uses.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from statarb.storage.checks import (  # noqa: F401  (CHECK_RULES, PY_CHECKS: re-exported)
    CHECK_RULES,
    PY_CHECKS,
    CodepointLess,
    table_checks,
)

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

#: Spec REAL: 8-byte float on both back-ends (see module docstring).
Real = sa.Double().with_variant(sa.REAL(), "sqlite")


class utcnow(FunctionElement):  # noqa: N801 - reads like the SQL function it renders
    """Current UTC time as a naive TIMESTAMP (spec ``DEFAULT now()``, stored in UTC per §9.2)."""

    type = sa.DateTime()
    inherit_cache = True


@compiles(utcnow)
def _utcnow_default(element: Any, compiler: Any, **kw: Any) -> str:
    # SQLite: UTC with millisecond resolution (CURRENT_TIMESTAMP would only give whole seconds)
    return "(strftime('%Y-%m-%d %H:%M:%f', 'now'))"


@compiles(utcnow, "postgresql")
def _utcnow_pg(element: Any, compiler: Any, **kw: Any) -> str:
    return "timezone('utc', now())"  # independent of the session's TimeZone setting


def _ts(name: str, nullable: bool = True, **kw: Any) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=False), nullable=nullable, **kw)


def _real(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, Real, nullable=nullable)


def _text(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True)


# ---- spec §4.1 reference tables ----------------------------------------------------------------
symbols = sa.Table(
    "symbols",
    metadata,
    sa.Column("symbol_id", sa.Text(), primary_key=True, nullable=False),
    _text("display_name"),
    _text("asset_class"),
    _text("exchange"),
    _text("currency"),
    _ts("created_at", server_default=utcnow()),
    _ts("updated_at", server_default=utcnow()),
    *table_checks("symbols"),
)

corporate_actions = sa.Table(
    "corporate_actions",
    metadata,
    _id(),
    sa.Column("symbol_id", sa.Text(), sa.ForeignKey("symbols.symbol_id"), nullable=False),
    _text("action_type", nullable=False),
    sa.Column("ex_date", sa.Date(), nullable=False),
    _ts("recorded_at"),
    _real("ratio"),
    _real("cash_amount"),
    _text("metadata_json"),
    *table_checks("corporate_actions"),
    sa.Index(None, "symbol_id", "ex_date"),
)

pair_universe = sa.Table(
    "pair_universe",
    metadata,
    sa.Column("pair_id", sa.Text(), primary_key=True, nullable=False),
    sa.Column("symbol_a", sa.Text(), sa.ForeignKey("symbols.symbol_id"), nullable=False),
    sa.Column("symbol_b", sa.Text(), sa.ForeignKey("symbols.symbol_id"), nullable=False),
    _ts("created_at"),
    _text("notes"),
    *table_checks("pair_universe"),
    sa.Index(None, "symbol_a", "symbol_b"),
)

# ---- spec §4.2 alpha research outputs ------------------------------------------------------------

cointegration_results = sa.Table(
    "cointegration_results",
    metadata,
    _id(),
    sa.Column("pair_id", sa.Text(), sa.ForeignKey("pair_universe.pair_id"), nullable=False),
    _ts("test_ts", nullable=False),
    _real("adf_statistic"),
    _real("adf_pvalue"),
    _real("johansen_trace"),
    _real("johansen_pvalue"),
    _text("cointegrating_vector"),
    sa.Column("is_cointegrated", sa.Boolean(), nullable=True),
    _ts("created_at"),
    # also serves as the §7.2 index on (pair_id, test_ts)
    sa.UniqueConstraint("pair_id", "test_ts"),
)

kalman_params = sa.Table(
    "kalman_params",
    metadata,
    _id(),
    sa.Column("pair_id", sa.Text(), sa.ForeignKey("pair_universe.pair_id"), nullable=False),
    _ts("window_start"),
    _ts("window_end"),
    _text("initial_state"),
    _real("process_noise"),
    _real("measurement_noise"),
    _ts("created_at"),
)

ou_params = sa.Table(
    "ou_params",
    metadata,
    _id(),
    sa.Column("pair_id", sa.Text(), sa.ForeignKey("pair_universe.pair_id"), nullable=False),
    _ts("window_start"),
    _ts("window_end"),
    _real("theta"),
    _real("mu"),
    _real("sigma"),
    _real("entry_upper"),
    _real("entry_lower"),
    _real("exit_threshold"),
    _ts("created_at"),
)

# ---- spec §4.3 backtest runs and events ------------------------------------------------------------
backtest_runs = sa.Table(
    "backtest_runs",
    metadata,
    sa.Column("run_id", sa.Text(), primary_key=True, nullable=False),
    _text("strategy_name"),
    sa.Column("pair_id", sa.Text(), sa.ForeignKey("pair_universe.pair_id"), nullable=True),
    _ts("start_ts", nullable=False),
    _ts("end_ts", nullable=False),
    _text("config_json"),
    _ts("created_at"),
    sa.Index(None, "start_ts", "end_ts"),
    sa.Index(None, "created_at"),
)

backtest_signals = sa.Table(
    "backtest_signals",
    metadata,
    _id(),
    sa.Column("run_id", sa.Text(), sa.ForeignKey("backtest_runs.run_id"), nullable=False),
    _ts("signal_ts", nullable=False),
    _text("direction", nullable=False),
    _text("symbol_a"),
    _text("symbol_b"),
    _real("hedge_ratio"),
    _real("size"),
    _text("metadata_json"),
    *table_checks("backtest_signals"),
    sa.Index(None, "run_id", "signal_ts"),
)

backtest_fills = sa.Table(
    "backtest_fills",
    metadata,
    _id(),
    sa.Column("run_id", sa.Text(), sa.ForeignKey("backtest_runs.run_id"), nullable=False),
    sa.Column("signal_id", sa.Integer(), sa.ForeignKey("backtest_signals.id"), nullable=True),
    _ts("fill_ts", nullable=False),
    _text("symbol", nullable=False),
    _text("side", nullable=False),
    _real("quantity", nullable=False),
    _real("price", nullable=False),
    _real("commission"),
    _real("slippage_bps"),
    *table_checks("backtest_fills"),
    sa.Index(None, "run_id", "fill_ts"),
)

backtest_equity = sa.Table(
    "backtest_equity",
    metadata,
    sa.Column("run_id", sa.Text(), sa.ForeignKey("backtest_runs.run_id"), nullable=False),
    _ts("ts", nullable=False),
    _real("equity", nullable=False),
    _real("cash"),
    _real("positions_value"),
    # also serves as the §7.2 index on (run_id, ts); the spec gives this table no primary key
    sa.UniqueConstraint("run_id", "ts"),
)

backtest_metrics = sa.Table(
    "backtest_metrics",
    metadata,
    sa.Column(
        "run_id",
        sa.Text(),
        sa.ForeignKey("backtest_runs.run_id"),
        primary_key=True,
        nullable=False,
    ),
    _real("sharpe_annual"),
    _real("sortino_annual"),
    _real("calmar"),
    _real("max_drawdown"),
    _real("total_return"),
    sa.Column("num_trades", sa.Integer(), nullable=True),
    _real("win_rate"),
    _real("alpha"),
    _real("beta"),
    _text("metrics_json"),
    _ts("computed_at"),
)

# ---- research extension (not in spec §4; docs/architecture.md) ----------------------------------
#: The pair-selection funnel's log: one row per (pair, test time) with every stage's statistic and
#: pass/fail; ``tradable`` is the final decision copied to ``cointegration_results.is_cointegrated``.
selection_log = sa.Table(
    "selection_log",
    metadata,
    _id(),
    sa.Column("pair_id", sa.Text(), sa.ForeignKey("pair_universe.pair_id"), nullable=False),
    _ts("test_ts", nullable=False),
    _text("method", nullable=False),
    sa.Column("n_obs", sa.Integer(), nullable=True),
    _real("statistic"),
    _real("pvalue"),
    _real("qvalue"),
    _real("half_life"),
    _real("hurst"),
    sa.Column("crossings", sa.Integer(), nullable=True),
    sa.Column("pass_test", sa.Boolean(), nullable=True),
    sa.Column("pass_half_life", sa.Boolean(), nullable=True),
    sa.Column("pass_hurst", sa.Boolean(), nullable=True),
    sa.Column("pass_crossings", sa.Boolean(), nullable=True),
    sa.Column("pass_matching", sa.Boolean(), nullable=True),
    sa.Column("streak", sa.Integer(), nullable=True),
    sa.Column("tradable", sa.Boolean(), nullable=False),
    _text("reason"),
    _ts("created_at"),
    _real("confirm_pvalue"),  # alembic 0006 (appended, like ALTER TABLE ADD COLUMN)
    sa.Column("pass_confirmation", sa.Boolean(), nullable=True),
    sa.UniqueConstraint("pair_id", "test_ts"),
    sa.Index(None, "test_ts"),
)

# ---- spec §9.3 schema version ------------------------------------------------------------------
schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
    _ts("applied_at"),
    _text("description"),
)

#: Columns each table is upserted on by :func:`statarb.storage.sql_io.write_frame`.
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "symbols": ("symbol_id",),
    "corporate_actions": ("symbol_id", "action_type", "ex_date"),
    "pair_universe": ("pair_id",),
    "cointegration_results": ("pair_id", "test_ts"),
    "kalman_params": ("pair_id", "window_start", "window_end"),
    "ou_params": ("pair_id", "window_start", "window_end"),
    "backtest_runs": ("run_id",),
    "backtest_signals": ("id",),
    "backtest_fills": ("id",),
    "backtest_equity": ("run_id", "ts"),
    "backtest_metrics": ("run_id",),
    "selection_log": ("pair_id", "test_ts"),
    "data_batches": ("batch_id",),
    "bar_partition_index": ("id",),
    "sweeps": ("sweep_id",),
    "sweep_results": ("id",),
    "schema_version": ("version",),
}

#: Tables beyond spec §4 that the project adds (documented in docs/architecture.md).
EXTENSION_TABLES: tuple[str, ...] = (
    "selection_log",
    "data_batches",
    "bar_partition_index",
    "sweeps",
    "sweep_results",
)

#: Tables of spec §4 (the ones the Kedro dataset may load and save, with EXTENSION_TABLES).
SPEC_TABLES: tuple[str, ...] = (
    "symbols",
    "corporate_actions",
    "pair_universe",
    "cointegration_results",
    "kalman_params",
    "ou_params",
    "backtest_runs",
    "backtest_signals",
    "backtest_fills",
    "backtest_equity",
    "backtest_metrics",
)


def get_table(name: str) -> sa.Table:
    """Return the :class:`sqlalchemy.Table` called ``name`` or raise naming the known tables."""
    try:
        return metadata.tables[name]
    except KeyError:
        known = ", ".join(sorted(metadata.tables))
        raise KeyError(f"unknown table {name!r}; known tables: {known}") from None


# Tables of sweeps, of versioned reprocessing and the HDF5 index live in their own modules (same
# metadata).
from statarb.storage import schema_sweep as _schema_sweep  # noqa: E402,F401
from statarb.storage import schema_versioning as _schema_versioning  # noqa: E402,F401
