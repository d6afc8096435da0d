"""Nodes of the ``reporting`` pipeline: metrics of the new run, its tearsheet and the run index.

Bounded memory: ``backtest_signals`` / ``_fills`` / ``_equity`` arrive as LazyFrames
(``load_args: {lazy: true}``, :mod:`statarb.storage.sql_scan`) and only the reported run's rows
are read (the ``run_id`` filter runs in SQL); spreads and OU fits are read for the pairs the
tearsheet plots (the top ``tearsheet.max_pair_plots`` by realised PnL), not for every traded
pair; the run index reads one run's equity at a time and keeps at most ``max_points`` points of
each. Eager DataFrames (tests, notebooks) are accepted too."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import polars as pl

from statarb.conventions import pair_id_expr, sort_runs
from statarb.reporting import tearsheet, trades
from statarb.reporting.config import ReportingConfig
from statarb.reporting.run_metrics import compute_run_metrics, metrics_frame
from statarb.sweep.report_frames import sweep_trials, walk_forward_summary

log = logging.getLogger(__name__)


def _one_run(run_id: str, runs: pl.DataFrame) -> dict[str, Any]:
    if run_id in (None, "", "latest"):
        if runs.height == 0:
            raise ValueError("backtest_runs is empty: run the backtest pipeline first")
        return sort_runs(runs).row(-1, named=True)
    sel = runs.filter(pl.col("run_id") == run_id)
    if sel.height == 0:
        raise ValueError(
            f"backtest_runs: no run {run_id!r} (known: {runs['run_id'].to_list()[-5:]})"
        )
    return sel.row(0, named=True)


Frame = pl.DataFrame | pl.LazyFrame


def _lazy(frame: Frame) -> pl.LazyFrame:
    return frame.lazy() if isinstance(frame, pl.DataFrame) else frame


def _of(frame: Frame, run_id: str) -> pl.DataFrame:
    """The rows of ``run_id`` (read from the database only, for a lazy SQL table)."""
    return _lazy(frame).filter(pl.col("run_id") == run_id).collect()


def compute_backtest_metrics(
    backtest_run_id: str,
    backtest_runs: pl.DataFrame,
    backtest_signals: Frame,
    backtest_fills: Frame,
    backtest_equity: Frame,
    bars_adjusted: Frame,
    params: dict[str, Any],
    backtest_accruals: Frame | None = None,
    report_trial_stats: pl.DataFrame | None = None,
    report_walk_forward: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The ``backtest_metrics`` row of ``backtest_run_id`` (``"latest"``: the newest run).

    ``report_trial_stats``: when the run is a sweep's best configuration, the sweep's
    ``n_trials`` and ``sharpe_variance`` (:mod:`statarb.sweep.report_frames`) deflate its Sharpe
    ratio unless ``params["trial_stats"]`` sets them; its ``report_walk_forward`` curves give
    ``metrics_json.walk_forward`` (in-sample best vs stitched out-of-sample).

    ``backtest_accruals``: per-bar borrow/financing of the runs (``RunAccrualsDataset``), summed
    into ``metrics_json.costs``. ``params["trial_stats"]`` adds PSR, MinTRL, the DSR (deflated
    when ``n_trials``/``sharpe_variance`` are given, e.g. by a sweep) and a bootstrap CI of the
    Sharpe ratio as ``metrics_json.trial_stats``."""
    cfg = ReportingConfig.from_params(params, "reporting")
    run = _one_run(backtest_run_id, backtest_runs)
    rid = run["run_id"]
    metric_params = cfg.metric_params()
    trials = sweep_trials(report_trial_stats, rid)
    if trials and metric_params["trial_stats"].get("n_trials") is None:
        metric_params["trial_stats"] = {**metric_params["trial_stats"], **trials}
    equity = _of(backtest_equity, rid)
    bars = _lazy(bars_adjusted).filter(
        pl.col("datetime") >= run["start_ts"], pl.col("datetime") <= run["end_ts"]
    )
    if cfg.attribution_symbols:
        bars = bars.filter(pl.col("symbol").is_in(cfg.attribution_symbols))
    res = compute_run_metrics(
        rid,
        equity,
        _of(backtest_fills, rid),
        _of(backtest_signals, rid),
        bars,
        run_pair_id=run.get("pair_id"),
        params=metric_params,
        accruals=None if backtest_accruals is None else _of(backtest_accruals, rid),
        extra={"walk_forward": wf}
        if (wf := walk_forward_summary(report_walk_forward, rid))
        else None,
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


def _pair_frames(lf: Frame | None, pairs: list[str], time_col: str) -> dict[str, pl.DataFrame]:
    """``{pair_id: rows sorted by time_col}`` for ``pairs``, from one filtered scan."""
    if lf is None or not pairs:
        return {}
    df = _lazy(lf).filter(pl.col("pair_id").is_in(pairs)).sort("pair_id", time_col).collect()
    parts = df.partition_by("pair_id", as_dict=True)
    return {p: parts.get((p,), df.clear()) for p in pairs}


def _curves(runs: pl.DataFrame, equity: Frame, max_points: int) -> dict[str, pl.DataFrame]:
    """Each run's equity curve (``ts, equity``), read one run at a time and cut to at most
    ``max_points`` rows (:func:`statarb.reporting.figures.plot_frame`)."""
    from statarb.reporting.figures import plot_frame

    out = {}
    for rid in runs["run_id"].to_list():
        e = _lazy(equity).filter(pl.col("run_id") == rid).select("ts", "equity").collect()
        out[rid] = plot_frame(e.sort("ts"), "ts", max_points=max_points)
    return out


def build_reports(
    backtest_run_id: str,
    backtest_metrics: pl.DataFrame,
    backtest_runs: pl.DataFrame,
    backtest_signals: Frame,
    backtest_fills: Frame,
    backtest_equity: Frame,
    spread_series: Frame | None,
    ou_params: pl.DataFrame | None,
    selection_log: Frame | None,
    report_sweep_grid: pl.DataFrame | None,
    report_walk_forward: pl.DataFrame | None,
    report_cost_sensitivity: pl.DataFrame | None,
    report_trial_stats: pl.DataFrame | None,
    params: dict[str, Any],
) -> str:
    """Write ``<output_dir>/<run_id>/tearsheet.html`` and ``<output_dir>/index.html``; return the
    tearsheet path (also logged and printed as ``Report: <path>``).

    ``selection_log`` rows are read for the plotted pairs only (funnel diagnostics, one
    ``pair_id`` equality each, which a lazy SQL table runs in the database); the
    ``report_*`` frames (``None`` when their file does not exist) feed the optional research
    sections (:mod:`statarb.reporting.research_frames`)."""
    cfg = ReportingConfig.from_params(params, "reporting")
    sheet = cfg.tearsheet
    out = Path(cfg.output_dir)
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
        set(signals.select(pair_id_expr().alias("pair_id"))["pair_id"].drop_nulls().to_list())
        | ({run["pair_id"]} if run.get("pair_id") else set())
    )
    plotted = tearsheet.rank_pairs(pairs, full.get("per_pair"))
    plotted = plotted if sheet.max_pair_plots < 0 else plotted[: sheet.max_pair_plots]
    window = (pl.col("datetime") >= run["start_ts"]) & (pl.col("datetime") <= run["end_ts"])
    spreads = None if spread_series is None else _lazy(spread_series).filter(window)
    ou = ou_params.filter(pl.col("window_end") <= run["end_ts"]) if ou_params is not None else None
    sel = {}
    if selection_log is not None:  # one pair_id equality per plotted pair: each runs in SQL
        lf = _lazy(selection_log)
        sel = {
            p: lf.filter(pl.col("pair_id") == p, pl.col("test_ts") <= run["end_ts"])
            .sort("test_ts")
            .collect()
            for p in plotted
        }
    page = tearsheet.render_tearsheet(
        out,
        run,
        row,
        full,
        equity,
        signals,
        trips,
        spreads=_pair_frames(spreads, plotted, "datetime"),
        ou=_pair_frames(ou, plotted, "window_end"),
        thresholds_in=cfg.thresholds_in,
        selection=sel,
        research={
            "sweep_grid": report_sweep_grid,
            "walk_forward": report_walk_forward,
            "cost_sensitivity": report_cost_sensitivity,
            "trial_stats": report_trial_stats,
        },
        risk_free=float(cfg.risk_free),
        **sheet.model_dump(),
    )
    curves = _curves(backtest_runs, backtest_equity, cfg.index_max_points)
    index = tearsheet.render_index(out, backtest_runs, backtest_metrics, curves)
    log.info("Run index: %s", index)
    msg = f"Report: {page}"
    log.info(msg)
    print(msg)
    return str(page)
