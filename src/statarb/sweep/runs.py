"""Store a sweep: one ``sweeps`` row, one ``sweep_results`` row (and ``run_id``) per configuration,
full events for the top-k only (docs/research.md).

Ids: ``sweep_id`` = ``sw_YYYYMMDD_NNN`` (next free ``NNN`` of the UTC day); every configuration
gets its own ``run_id`` ``bt_YYYYMMDD_NNN`` under the backtest's rule
(:func:`statarb.backtest.persistence.next_run_ids`, over ``backtest_runs`` and ``sweep_results``),
so a configuration is an immutable run (spec §9.3) whether or not its events are stored. The
``sweeps`` and ``sweep_results`` rows are written in ONE transaction (PostgreSQL: under the run-id
advisory lock). The top-k configurations are then re-run by the backtest engine and stored with
:func:`statarb.backtest.persistence.save_run` under their reserved ``run_id`` (each in its own
transaction); ``has_events`` is set once a run's events are committed.

Trial statistics for the deflated Sharpe ratio (Bailey & López de Prado 2014, eq. 2): ``n_trials``
= number of configurations at the ranking cost scale, ``sharpe_variance`` = sample variance
(ddof 1) of their finite annualised Sharpe ratios; per-period variance =
``sharpe_variance / periods_per_year``.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl
import sqlalchemy as sa

from statarb.backtest.persistence import _lock, git_commit, next_run_ids
from statarb.storage.database import ensure_schema, get_engine
from statarb.storage.secrets import mask
from statarb.storage.sql_io import write_frame

SWEEP_ID_RE = re.compile(r"^sw_(\d{8})_(\d{3,})$")


def next_sweep_id(conn: sa.Connection, day: datetime) -> str:
    """``sw_YYYYMMDD_NNN`` with the next free ``NNN`` of ``day``."""
    prefix = f"sw_{day:%Y%m%d}_"
    rows = conn.execute(
        sa.text("SELECT sweep_id FROM sweeps WHERE sweep_id LIKE :p"), {"p": prefix + "%"}
    ).scalars()
    nums = [int(m.group(2)) for r in rows if (m := SWEEP_ID_RE.match(r))]
    return f"{prefix}{max(nums, default=0) + 1:03d}"


def rank(metrics: pl.DataFrame, rank_cost_scale: float) -> pl.DataFrame:
    """Add ``rank`` (1 = best Sharpe, NaN last, ties in grid order) among the configurations at
    ``rank_cost_scale``; null elsewhere."""
    m = metrics.with_row_index("_i")
    cand = m.filter(pl.col("cost_scale") == rank_cost_scale).with_columns(
        pl.col("sharpe_annual").fill_nan(None).alias("_s")
    )
    order = cand.sort(["_s", "_i"], descending=[True, False], nulls_last=True)
    ranks = order.select("_i").with_columns(pl.int_range(1, order.height + 1).alias("rank"))
    return (
        m.join(ranks, on="_i", how="left")
        .sort("_i")
        .drop("_i")
        .with_columns(pl.col("rank").cast(pl.Int64))
    )


def trial_stats(metrics: pl.DataFrame, rank_cost_scale: float, ppy: float) -> dict[str, Any]:
    """``n_trials`` and ``sharpe_variance`` of the sweep (module docstring)."""
    s = metrics.filter(pl.col("cost_scale") == rank_cost_scale)["sharpe_annual"].to_numpy()
    finite = s[np.isfinite(s)]
    var = float(np.var(finite, ddof=1)) if finite.size >= 2 else math.nan
    return {
        "n_trials": int(s.size),
        "n_finite": int(finite.size),
        "sharpe_variance": var,
        "sharpe_variance_per_period": var / ppy if math.isfinite(var) else math.nan,
        "periods_per_year": float(ppy),
    }


def cost_sensitivity(metrics: pl.DataFrame, rank_cost_scale: float) -> dict[str, Any]:
    """Net Sharpe and PnL per cost scale: of the best configuration (rank 1; its parameters at
    every scale) and the median over all configurations of each scale."""
    scales = sorted(set(metrics["cost_scale"].to_list()))
    keys = ["entry_z", "exit_z", "stop_z", "max_holding_bars", "kalman_delta", "ou_window_bars"]
    best = metrics.filter(pl.col("rank") == 1)
    out: dict[str, Any] = {"scales": scales, "rank_cost_scale": rank_cost_scale}
    if best.height:
        b = best.row(0, named=True)
        same = metrics.filter(
            pl.all_horizontal(
                pl.col(k).eq_missing(pl.lit(b[k], dtype=metrics.schema[k])) for k in keys
            )
        ).sort("cost_scale")
        out["best"] = {
            "config": {k: b[k] for k in keys},
            "sharpe": [_num(v) for v in same["sharpe_annual"]],
            "pnl": [_num(v) for v in same["pnl"]],
        }
    med = (
        metrics.group_by("cost_scale")
        .agg(
            pl.col("sharpe_annual").fill_nan(None).median().alias("s"),
            pl.col("pnl").median().alias("p"),
        )
        .sort("cost_scale")
    )
    out["median_sharpe"] = [_num(v) for v in med["s"]]
    out["median_pnl"] = [_num(v) for v in med["p"]]
    return out


def _num(x: Any) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


def save_sweep(
    url: str,
    metrics: pl.DataFrame,
    configs_json: list[str],
    header: dict[str, Any],
) -> tuple[str, list[str]]:
    """Write ``sweeps`` + ``sweep_results`` in one transaction; return ``(sweep_id, run_ids)``.

    ``metrics``: one row per configuration (grid values, metrics, ``rank``); ``configs_json``:
    each configuration's full backtest config; ``header``: the ``sweeps`` columns other than the
    ids and ``created_at``."""
    ensure_schema(url)
    now = datetime.now(UTC)
    with get_engine(url).begin() as conn:
        _lock(conn)
        sweep_id = next_sweep_id(conn, now)
        run_ids = next_run_ids(conn, now, metrics.height)
        head = {"sweep_id": sweep_id, **header, "created_at": now}
        write_frame(conn, "sweeps", pl.DataFrame([head]).with_columns(
            pl.col("created_at").cast(pl.Datetime("us", "UTC"))), mode="insert")  # fmt: skip
        rows = metrics.with_columns(
            pl.lit(sweep_id).alias("sweep_id"),
            pl.Series("run_id", run_ids),
            pl.lit(False).alias("has_events"),
            pl.Series("config_json", configs_json),
            *[pl.col(c).fill_nan(None) for c in metrics.columns if metrics.schema[c].is_float()],
        )
        write_frame(conn, "sweep_results", rows, mode="insert")
    return sweep_id, run_ids


def mark_events(url: str, run_id: str) -> None:
    """``has_events = true`` for ``run_id`` (its events are committed)."""
    with get_engine(url).begin() as conn:
        conn.execute(
            sa.text("UPDATE sweep_results SET has_events = :t WHERE run_id = :r"),
            {"t": True, "r": run_id},
        )


def config_json(cfg_dict: dict[str, Any], extra: dict[str, Any]) -> str:
    """A configuration's full config (as ``backtest_runs.config_json`` would hold it)."""
    d = {**cfg_dict, **extra, "git_commit": extra.get("git_commit") or git_commit()}
    return mask(json.dumps(d, sort_keys=True, default=str))
