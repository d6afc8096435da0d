"""Assemble the ``backtest_metrics`` row (spec §4.3) of one run from its tables."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from statarb.conventions import UTC_US
from statarb.reporting import attribution, metrics, trades, trial_stats
from statarb.reporting.trial_stats_params import TrialStatsParams
from statarb.storage.schema import get_table

# exactly the spec §4.3 columns, in table order
METRICS_COLUMNS = tuple(c.name for c in get_table("backtest_metrics").columns)


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN/inf -> None (strict JSON), numpy scalars -> Python."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _finite_or_none(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def compute_run_metrics(
    run_id: str,
    equity: pl.DataFrame,
    fills: pl.DataFrame,
    signals: pl.DataFrame | None = None,
    bars_adjusted: pl.DataFrame | pl.LazyFrame | None = None,
    run_pair_id: str | None = None,
    params: dict[str, Any] | None = None,
    accruals: pl.DataFrame | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every metric of one run; returns the full metric dict (``row`` holds the table row).
    ``extra``: more top-level blocks of ``metrics_json`` (e.g. a sweep's ``walk_forward``).

    ``equity``/``fills``/``signals`` are the run's rows of ``backtest_equity``/``_fills``/
    ``_signals``. ``params`` keys: ``risk_free`` (per bar, 0), ``session_minutes`` (390),
    ``trading_days`` (252), ``pca_components`` (1), ``equity_ts_is_bar_open`` (True),
    ``trial_stats`` (:class:`TrialStatsParams`; absent: not computed). ``accruals``: the run's
    per-bar ``borrow_cost`` / ``financing_cost`` (``accruals.parquet`` of the run), summed into
    ``costs``; ``None`` leaves them unknown.
    """
    p = params or {}
    if equity.height < 2:
        raise ValueError(f"run {run_id}: backtest_equity has {equity.height} row(s); need >= 2")
    equity = equity.sort("ts")
    rm = metrics.return_metrics(
        equity,
        risk_free=float(p.get("risk_free", 0.0)),
        session_minutes=float(p.get("session_minutes", metrics.SESSION_MINUTES)),
        trading_days=int(p.get("trading_days", metrics.TRADING_DAYS_PER_YEAR)),
    )
    trips = trades.round_trips(fills, signals, run_pair_id) if fills.height else None
    if trips is not None:
        tstats = trades.trade_stats(trips)
        per_pair = trades.per_book_pnl(trips)
        costs = trades.cost_breakdown(fills, signals, run_pair_id)
    else:
        tstats = {"num_trades": 0, "open_trades": 0, "win_rate": math.nan}
        per_pair, costs = (
            {},
            {
                "commissions": 0.0,
                "slippage": 0.0,
                "total_costs": 0.0,
                "traded_notional": 0.0,
                "num_fills": 0,
            },
        )
    expo = trades.exposure_stats(equity, costs["traded_notional"], rm.periods_per_year)
    costs = {**costs, **_carry(accruals)}
    eq_np = equity["equity"].to_numpy()
    known = [costs[k] for k in ("commissions", "slippage", "borrow", "financing")]
    pnl = {
        "net_pnl": float(eq_np[-1] - eq_np[0]),
        "trading_pnl": float(eq_np[-1] - eq_np[0] + sum(known))
        if all(v is not None for v in known)
        else None,
    }
    rf = float(p.get("risk_free", 0.0))
    tstats_trials = None
    if p.get("trial_stats") is not None:
        tp = TrialStatsParams.from_params(p["trial_stats"], "reporting.trial_stats")
        r = metrics.equity_returns(equity)["ret"].to_numpy() - rf
        tstats_trials = trial_stats.run_trial_stats(
            r,
            rm.periods_per_year,
            n_trials=tp.n_trials,
            sharpe_variance=tp.sharpe_variance,
            psr_benchmark=tp.psr_benchmark,
            min_trl_confidence=tp.min_trl_confidence,
            bootstrap=tp.bootstrap.model_dump(),
        )

    attr: dict[str, Any] = {"alpha": math.nan, "beta": math.nan}
    if bars_adjusted is not None:
        rets = metrics.equity_returns(equity)
        closes = attribution.universe_closes_on_grid(
            bars_adjusted,
            equity["ts"],
            bar_interval=timedelta(seconds=rm.bar_interval_seconds),
            grid_is_bar_open=bool(p.get("equity_ts_is_bar_open", True)),
            symbols=p.get("attribution_symbols"),
        )
        attr = attribution.attribute(
            rets, closes, rm.periods_per_year, int(p.get("pca_components", 1))
        )

    full = {
        **rm.__dict__,
        **tstats,
        "costs": costs,
        "pnl": pnl,
        "trial_stats": tstats_trials,
        "per_pair": per_pair,
        "exposure": expo,
        "attribution": {k: v for k, v in attr.items() if k not in ("alpha", "beta")},
        "conventions": {
            "max_drawdown": "negative decimal",
            "returns": "simple bar returns of equity",
            "risk_free_per_bar": float(p.get("risk_free", 0.0)),
        },
        **(extra or {}),
    }
    row = {
        "run_id": run_id,
        "sharpe_annual": _finite_or_none(rm.sharpe_annual),
        "sortino_annual": _finite_or_none(rm.sortino_annual),
        "calmar": _finite_or_none(rm.calmar),
        "max_drawdown": _finite_or_none(rm.max_drawdown),
        "total_return": _finite_or_none(rm.total_return),
        "num_trades": int(tstats["num_trades"]),
        "win_rate": _finite_or_none(tstats["win_rate"]),
        "alpha": _finite_or_none(attr["alpha"]),
        "beta": _finite_or_none(attr["beta"]),
        "metrics_json": json.dumps(_clean(full), sort_keys=True, allow_nan=False),
        "computed_at": datetime.now(UTC).replace(tzinfo=None, microsecond=0),
    }
    return {"row": row, "full": _clean(full), "trips": trips}


def _carry(accruals: pl.DataFrame | None) -> dict[str, Any]:
    """``borrow`` and ``financing`` totals of the run (``None`` when not recorded)."""
    if accruals is None or accruals.height == 0:
        return {"borrow": None, "financing": None, "carry_recorded": False}
    return {
        "borrow": float(accruals["borrow_cost"].sum()),
        "financing": float(accruals["financing_cost"].sum()),
        "carry_recorded": True,
    }


def metrics_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows -> Polars frame with the exact ``backtest_metrics`` columns and types."""
    schema = {
        "run_id": pl.String,
        "sharpe_annual": pl.Float64,
        "sortino_annual": pl.Float64,
        "calmar": pl.Float64,
        "max_drawdown": pl.Float64,
        "total_return": pl.Float64,
        "num_trades": pl.Int64,
        "win_rate": pl.Float64,
        "alpha": pl.Float64,
        "beta": pl.Float64,
        "metrics_json": pl.String,
        "computed_at": UTC_US,
    }
    fixed = [
        {**r, "computed_at": r["computed_at"].replace(tzinfo=UTC)}
        if r["computed_at"].tzinfo is None
        else r
        for r in rows
    ]
    return pl.DataFrame(fixed, schema=schema, orient="row").select(METRICS_COLUMNS)
