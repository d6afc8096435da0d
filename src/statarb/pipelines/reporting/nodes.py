"""Nodes of the ``reporting`` pipeline: metrics of the new run, its tearsheet and the run index."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import polars as pl

from statarb.reporting import tearsheet, trades
from statarb.reporting.run_metrics import compute_run_metrics, metrics_frame

log = logging.getLogger(__name__)


def _one_run(run_id: str, runs: pl.DataFrame) -> dict[str, Any]:
    if run_id in (None, "", "latest"):
        if runs.height == 0:
            raise ValueError("backtest_runs is empty: run the backtest pipeline first")
        return runs.sort("created_at", "run_id", nulls_last=True).row(-1, named=True)
    sel = runs.filter(pl.col("run_id") == run_id)
    if sel.height == 0:
        raise ValueError(
            f"backtest_runs: no run {run_id!r} (known: {runs['run_id'].to_list()[-5:]})"
        )
    return sel.row(0, named=True)


def _of(frame: pl.DataFrame, run_id: str) -> pl.DataFrame:
    return frame.filter(pl.col("run_id") == run_id)


def _lazy(frame: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    return frame.lazy() if isinstance(frame, pl.DataFrame) else frame


def compute_backtest_metrics(
    backtest_run_id: str,
    backtest_runs: pl.DataFrame,
    backtest_signals: pl.DataFrame,
    backtest_fills: pl.DataFrame,
    backtest_equity: pl.DataFrame,
    bars_adjusted: pl.LazyFrame | pl.DataFrame,
    params: dict[str, Any],
) -> pl.DataFrame:
    """The ``backtest_metrics`` row of ``backtest_run_id`` (``"latest"``: the newest run)."""
    run = _one_run(backtest_run_id, backtest_runs)
    rid = run["run_id"]
    equity = _of(backtest_equity, rid)
    bars = _lazy(bars_adjusted).filter(
        pl.col("datetime") >= run["start_ts"], pl.col("datetime") <= run["end_ts"]
    )
    if params.get("attribution_symbols"):
        bars = bars.filter(pl.col("symbol").is_in(params["attribution_symbols"]))
    res = compute_run_metrics(
        rid,
        equity,
        _of(backtest_fills, rid),
        _of(backtest_signals, rid),
        bars,
        run_pair_id=run.get("pair_id"),
        params=params,
    )
    row = res["row"]
    log.info(
        "backtest_metrics %s: sharpe=%s max_dd=%s trades=%s win_rate=%s",
        rid,
        row["sharpe_annual"],
        row["max_drawdown"],
        row["num_trades"],
        row["win_rate"],
    )
    return metrics_frame([row])


def _pair_frames(
    lf: pl.LazyFrame | pl.DataFrame | None, pairs: list[str], time_col: str, run: dict[str, Any]
) -> dict[str, pl.DataFrame]:
    if lf is None or not pairs:
        return {}
    q = _lazy(lf).filter(pl.col("pair_id").is_in(pairs))
    if time_col == "datetime":
        q = q.filter(pl.col("datetime") >= run["start_ts"], pl.col("datetime") <= run["end_ts"])
    df = q.collect()
    return {p: df.filter(pl.col("pair_id") == p).sort(time_col) for p in pairs}


def build_reports(
    backtest_run_id: str,
    backtest_metrics: pl.DataFrame,
    backtest_runs: pl.DataFrame,
    backtest_signals: pl.DataFrame,
    backtest_fills: pl.DataFrame,
    backtest_equity: pl.DataFrame,
    spread_series: pl.LazyFrame | pl.DataFrame | None,
    ou_params: pl.DataFrame | None,
    params: dict[str, Any],
) -> str:
    """Write ``<output_dir>/<run_id>/tearsheet.html`` and ``<output_dir>/index.html``; return the
    tearsheet path (also logged and printed as ``Report: <path>``)."""
    out = Path(params.get("output_dir", "data/08_reporting"))
    run = _one_run(backtest_run_id, backtest_runs)
    rid = run["run_id"]
    mrow = _of(backtest_metrics, rid)
    if mrow.height == 0:
        raise ValueError(f"backtest_metrics has no row for run {rid!r}")
    row = mrow.row(0, named=True)
    full = json.loads(row["metrics_json"])
    signals, fills, equity = (
        _of(f, rid) for f in (backtest_signals, backtest_fills, backtest_equity)
    )
    trips = trades.round_trips(fills, signals, run.get("pair_id")) if fills.height else None
    pairs = sorted(
        set((signals["symbol_a"] + "_" + signals["symbol_b"]).drop_nulls().to_list())
        | ({run["pair_id"]} if run.get("pair_id") else set())
    )
    ou = ou_params.filter(pl.col("window_end") <= run["end_ts"]) if ou_params is not None else None
    page = tearsheet.render_tearsheet(
        out,
        run,
        row,
        full,
        equity,
        signals,
        trips,
        spreads=_pair_frames(spread_series, pairs, "datetime", run),
        ou=_pair_frames(ou, pairs, "window_end", run),
        thresholds_in=params.get("thresholds_in", "spread"),
        **(params.get("tearsheet") or {}),
    )
    curves = {
        r: g.drop("run_id")
        for (r,), g in backtest_equity.partition_by("run_id", as_dict=True).items()
    }
    index = tearsheet.render_index(out, backtest_runs, backtest_metrics, curves)
    log.info("Run index: %s", index)
    msg = f"Report: {page}"
    log.info(msg)
    print(msg)
    return str(page)
