"""Relational tables of parameter sweeps (research extension; Alembic 0005).

Defined on :data:`statarb.storage.schema.metadata` (imported by it), beyond the spec §4 tables,
documented in ``docs/research.md`` and ``docs/architecture.md``; spec tables are untouched:

* ``sweeps``: one row per sweep (``sweep_id`` ``sw_YYYYMMDD_NNN``): the grid and base
  configuration, the number of trials and the variance of their Sharpe ratios (what the deflated
  Sharpe ratio needs, Bailey & López de Prado 2014), the cost-sensitivity and walk-forward
  reports as JSON.
* ``sweep_results``: one row per configuration of a sweep. Every configuration is an immutable
  run (spec §9.3): it gets its own ``run_id`` under the ``bt_YYYYMMDD_NNN`` rule of the backtest
  (ids are allocated over ``backtest_runs`` and this table together, so they never collide). Only
  the configurations asked for (``sweep.top_k``) are also stored as full runs in
  ``backtest_runs`` / ``_signals`` / ``_fills`` / ``_equity`` under the same ``run_id``
  (``has_events``).
"""

from __future__ import annotations

import sqlalchemy as sa

from statarb.storage.schema import _id, _real, _text, _ts, metadata

sweeps = sa.Table(
    "sweeps",
    metadata,
    sa.Column("sweep_id", sa.Text(), primary_key=True),
    _text("strategy_name", nullable=False),
    _ts("start_ts"),
    _ts("end_ts"),
    sa.Column("n_configs", sa.Integer(), nullable=False),
    sa.Column("n_trials", sa.Integer(), nullable=False),
    _real("sharpe_variance"),
    _real("periods_per_year"),
    _real("rank_cost_scale"),
    _text("config_json"),
    _text("cost_sensitivity_json"),
    _text("walk_forward_json"),
    _ts("created_at", nullable=False),
    sa.Index(None, "created_at"),
)

sweep_results = sa.Table(
    "sweep_results",
    metadata,
    _id(),
    sa.Column("sweep_id", sa.Text(), sa.ForeignKey("sweeps.sweep_id"), nullable=False),
    _text("run_id", nullable=False),
    _real("entry_z", nullable=False),
    _real("exit_z", nullable=False),
    _real("stop_z", nullable=False),
    sa.Column("max_holding_bars", sa.Integer(), nullable=False),
    _real("kalman_delta"),
    sa.Column("ou_window_bars", sa.Integer(), nullable=True),
    _real("cost_scale", nullable=False),
    _real("sharpe_annual"),
    _real("sortino_annual"),
    _real("max_drawdown"),
    _real("total_return"),
    _real("annual_return"),
    _real("annual_volatility"),
    _real("pnl"),
    _real("final_equity"),
    sa.Column("num_signals", sa.Integer(), nullable=True),
    sa.Column("num_fills", sa.Integer(), nullable=True),
    sa.Column("num_trades", sa.Integer(), nullable=True),
    _real("commission"),
    _real("slippage_cost"),
    sa.Column("rank", sa.Integer(), nullable=True),
    sa.Column("has_events", sa.Boolean(), nullable=False),
    _text("config_json", nullable=False),
    sa.UniqueConstraint("run_id"),
    sa.Index(None, "sweep_id", "rank"),
)
