"""Nodes of the ``sweep`` pipeline: build the signal stacks once per lookback, evaluate the grid
in one pass, walk forward, and hand the sweep (and its top-k runs) to ``SweepDataset``."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import polars as pl

from statarb.alpha.config import AlphaConfig
from statarb.backtest.config import BacktestConfig
from statarb.backtest.engine import run_backtest
from statarb.backtest.persistence import git_commit
from statarb.pipelines.alpha.nodes import build_alpha_schedule, build_price_panel
from statarb.pipelines.backtest.nodes import _ts, select_pairs
from statarb.storage.store_batches import batch_read
from statarb.sweep.evaluate import evaluate
from statarb.sweep.grid import config_for, expand
from statarb.sweep.lookbacks import build_stacks
from statarb.sweep.params import SweepParams
from statarb.sweep.report_frames import best_run_id, report_frames
from statarb.sweep.runs import config_json, cost_sensitivity, rank, trial_stats
from statarb.sweep.walk_forward import inputs_of

log = logging.getLogger(__name__)


def _frame(x: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    return x.collect() if isinstance(x, pl.LazyFrame) else x


def run_sweep_node(
    bars_adjusted: pl.LazyFrame | pl.DataFrame,
    spread_series: pl.LazyFrame | pl.DataFrame,
    cointegration_results: pl.DataFrame,
    ou_params: pl.DataFrame,
    pair_universe: pl.DataFrame,
    backtest: dict[str, Any],
    sweep: dict[str, Any],
    alpha: dict[str, Any],
) -> dict[str, Any]:
    """The sweep payload for ``sweep_run`` (see :class:`statarb.sweep.dataset.SweepDataset`)."""
    t_start = time.perf_counter()
    sp = SweepParams.from_params(sweep, "sweep")
    acfg = AlphaConfig.from_params(alpha, "alpha")
    base = BacktestConfig.from_params(backtest)
    points = expand(sp.grid)
    pair_ids = select_pairs(
        backtest.get("pairs", "all"), pair_universe, cointegration_results, spread_series
    )
    pu = _frame(pair_universe).filter(pl.col("pair_id").is_in(pair_ids)).sort("pair_id")
    pairs = list(pu.select("pair_id", "symbol_a", "symbol_b").iter_rows())

    def panel_fn():
        panel = build_price_panel(bars_adjusted, pair_universe)
        return panel, build_alpha_schedule(panel, alpha)["test_ts"]

    # only the traded pairs' test rows (a lazy SQL scan filters batch by batch, never all rows)
    traded_coint = cointegration_results.lazy().filter(pl.col("pair_id").is_in(pair_ids)).collect()
    stacks = build_stacks(
        points, base, acfg, bars_adjusted, spread_series, ou_params, traded_coint,
        pairs, panel_fn, _ts(backtest.get("start")), _ts(backtest.get("end")),
    )  # fmt: skip
    t_stacks = time.perf_counter()
    out, wf = evaluate(points, base, stacks, sp.walk_forward, sp.rank_cost_scale,
                       sp.max_buffer_bytes)  # fmt: skip
    t_eval = time.perf_counter()
    metrics = rank(out.metrics, sp.rank_cost_scale)
    stats = trial_stats(metrics, sp.rank_cost_scale, out.periods_per_year)
    commit = git_commit()
    batches = {"bars_adjusted": batch_read(bars_adjusted)}
    costs_path = str(Path(backtest["costs_path"])) if backtest.get("costs_path") else None
    common = {"engine": "numba", "costs_path": costs_path, "data_batches": batches,
              "pair_ids": pair_ids, "git_commit": commit}  # fmt: skip
    configs = [
        config_json(config_for(base, p).to_dict(), {**common, "sweep_point": p.to_dict()})
        for p in points
    ]
    top = []
    for row in metrics.filter(pl.col("rank") <= sp.top_k).sort("rank").iter_rows(named=True):
        i = metrics["rank"].to_list().index(row["rank"])
        p = points[i]
        bi, zi = stacks.layers(p, base.signal_source)
        result = run_backtest(inputs_of(stacks, bi, zi), config_for(base, p), engine="numba")
        extra = {**common, "sweep_point": p.to_dict(), "sweep_rank": row["rank"],
                 "window": {"start": str(result.start_ts), "end": str(result.end_ts)}}  # fmt: skip
        top.append({"index": i, "result": result, "config": config_for(base, p), "extra": extra})
    ts = stacks.grid.timestamps()
    header = {
        "strategy_name": base.strategy_name,
        "start_ts": ts[0],
        "end_ts": ts[-1],
        "n_configs": len(points),
        "n_trials": stats["n_trials"],
        "sharpe_variance": stats["sharpe_variance"],
        "periods_per_year": stats["periods_per_year"],
        "rank_cost_scale": sp.rank_cost_scale,
        "config_json": config_json(
            {
                "grid": sp.grid.model_dump(),
                "sweep": sp.model_dump(exclude={"grid"}),
                "base": base.to_dict(),
                "trial_stats": stats,
            },
            common,
        ),  # fmt: skip
        "cost_sensitivity_json": _dumps(cost_sensitivity(metrics, sp.rank_cost_scale)),
        "walk_forward_json": None
        if wf is None
        else _dumps({"windows": wf.windows, "report": wf.report}),  # fmt: skip
    }
    log.info(
        "sweep: %d configurations x %d pairs x %d bars; stacks %.2f s, one pass + walk-forward "
        "%.2f s, top-%d runs %.2f s", len(points), len(pair_ids), ts.len(), t_stacks - t_start,
        t_eval - t_stacks, len(top), time.perf_counter() - t_eval,
    )  # fmt: skip
    return {
        "metrics": metrics,
        "configs_json": configs,
        "header": header,
        "top": top,
        "walk_forward_equity": None if wf is None else wf.equity,
        "trial_stats": stats,
    }


def _dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


def sweep_id_of(sweep_run: dict[str, Any]) -> str:
    """The stored ``sweep_id`` (small output for reporting)."""
    return str(sweep_run["sweep_id"])


def sweep_report_frames(
    sweep_run: dict[str, Any], backtest_equity: pl.DataFrame | pl.LazyFrame
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame, str]:
    """The stored sweep's research frames for the tearsheet (:mod:`statarb.sweep.report_frames`)
    and its best run's id as the run the reporting pipeline reports next."""
    rid = best_run_id(sweep_run["results"])
    eq = backtest_equity.lazy().filter(pl.col("run_id") == rid).select("ts", "equity").collect()
    f = report_frames(sweep_run, eq)
    return f["sweep_grid"], f["walk_forward"], f["cost_sensitivity"], f["trial_stats"], rid
