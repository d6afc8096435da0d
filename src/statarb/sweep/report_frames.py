"""The tearsheet's research frames of a stored sweep (:mod:`statarb.reporting.research_frames`).

A sweep's tearsheet is the one of its best configuration (rank 1, stored in full under its
``run_id``): every frame carries that ``run_id``, so ``kedro run --pipelines reporting`` after
``kedro run --pipelines sweep`` shows the heatmap, the walk-forward curves, the cost sensitivity
and the deflated Sharpe ratio on the best run's page, and never on an unrelated run.

* ``sweep_grid``: every configuration at the ranking cost scale (the other scales are the cost
  sensitivity, not alternatives to choose from);
* ``walk_forward``: ``in_sample`` = the best configuration's equity over the whole period (the run
  stored by the engine), ``out_of_sample`` = the stitched walk-forward equity (``fold`` = window);
* ``cost_sensitivity``: the best configuration's net Sharpe and PnL at every cost scale;
* ``trial_stats``: ``n_trials`` and ``sharpe_variance`` of the sweep (variance of the trials'
  annualised Sharpe), read by the reporting metrics to deflate the run's Sharpe ratio (Bailey &
  López de Prado 2014).
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

FRAME_NAMES = ("sweep_grid", "walk_forward", "cost_sensitivity", "trial_stats")


def best_run_id(results: pl.DataFrame) -> str:
    """``run_id`` of the rank-1 configuration (stored with its events)."""
    best = results.filter(pl.col("rank") == 1)
    if best.height != 1:
        raise ValueError(f"sweep_results: expected one rank-1 configuration, found {best.height}")
    return str(best["run_id"][0])


def report_frames(stored: dict[str, Any], best_equity: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The four frames of the stored sweep ``stored`` (``SweepDataset.load()``) for its best run,
    whose ``backtest_equity`` rows (``ts, equity``) are ``best_equity``."""
    head = stored["sweep"].row(0, named=True)
    res = stored["results"]
    rid = best_run_id(res)
    scale = float(head["rank_cost_scale"])
    grid = res.filter(pl.col("cost_scale") == scale).with_columns(run_id=pl.lit(rid))
    cols = ["run_id", "entry_z", "exit_z", "sharpe_annual"]
    grid = grid.select(cols + [c for c in ("stop_z", "max_holding_bars") if c in grid.columns])
    ins = best_equity.sort("ts").select(
        pl.lit(rid).alias("run_id"), "ts", pl.lit("in_sample").alias("sample"), "equity",
        pl.lit(None, pl.Int64).alias("fold"),
    )  # fmt: skip
    parts = [ins]
    wf = stored.get("walk_forward_equity")
    if wf is not None and wf.height:
        parts.append(
            wf.sort("ts").select(
                pl.lit(rid).alias("run_id"),
                "ts",
                pl.lit("out_of_sample").alias("sample"),
                "equity",
                pl.col("window").cast(pl.Int64).alias("fold"),
            )  # fmt: skip
        )
    cs = json.loads(head["cost_sensitivity_json"] or "{}")
    best = cs.get("best") or {"sharpe": [], "pnl": []}
    cost = pl.DataFrame(
        {
            "run_id": [rid] * len(best["sharpe"]),
            "cost_scale": [float(s) for s in cs.get("scales", [])][: len(best["sharpe"])],
            "sharpe_annual": best["sharpe"],
            "net_pnl": best["pnl"],
        },
        schema={"run_id": pl.String, "cost_scale": pl.Float64, "sharpe_annual": pl.Float64,
                "net_pnl": pl.Float64},
    )  # fmt: skip
    trials = pl.DataFrame(
        {
            "run_id": [rid],
            "n_trials": [int(head["n_trials"])],
            "sharpe_variance": [float(head["sharpe_variance"])],
        }
    )
    return {
        "sweep_grid": grid,
        "walk_forward": pl.concat(parts, how="vertical_relaxed"),
        "cost_sensitivity": cost,
        "trial_stats": trials,
    }


def sweep_trials(frame: pl.DataFrame | None, run_id: str) -> dict[str, Any]:
    """``{n_trials, sharpe_variance}`` of ``run_id`` in a ``trial_stats`` frame (empty if the run
    is not a sweep's best configuration)."""
    if frame is None or "run_id" not in frame.columns:
        return {}
    row = frame.filter(pl.col("run_id") == run_id)
    if row.height == 0 or "n_trials" not in row.columns:
        return {}
    r = row.row(0, named=True)
    return {"n_trials": r["n_trials"], "sharpe_variance": r.get("sharpe_variance")}


def walk_forward_summary(frame: pl.DataFrame | None, run_id: str) -> dict[str, Any] | None:
    """``metrics_json.walk_forward`` of ``run_id``: Sharpe, total return, max drawdown and span of
    the in-sample best curve and of the stitched out-of-sample curve of a ``walk_forward`` frame
    (return metrics of :func:`statarb.reporting.metrics.return_metrics`); ``None`` if the frame
    has no rows of the run."""
    from statarb.reporting.metrics import return_metrics

    if frame is None or "run_id" not in frame.columns:
        return None
    mine = frame.filter(pl.col("run_id") == run_id)
    if mine.height == 0:
        return None
    out: dict[str, Any] = {}
    for sample in ("in_sample", "out_of_sample"):
        part = mine.filter(pl.col("sample") == sample).sort("ts").select("ts", "equity")
        if part.height < 3:
            continue
        m = return_metrics(part)
        out[sample] = {
            "sharpe_annual": m.sharpe_annual,
            "total_return": m.total_return,
            "max_drawdown": m.max_drawdown,
            "start": str(part["ts"][0]),
            "end": str(part["ts"][-1]),
            "bars": part.height,
        }
    return out or None
