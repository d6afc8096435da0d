"""Self-contained HTML tearsheets (plotly.js inlined, no network) and the run comparison page.

Layout: ``<root>/<run_id>/tearsheet.html`` per run and ``<root>/index.html`` across runs
(``root`` = ``data/08_reporting`` in the pipeline).
"""

from __future__ import annotations

import math
import os
import tempfile
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import plotly.graph_objects as go
import plotly.offline
import polars as pl

from statarb.reporting import figures

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("statarb.reporting", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )


@cache
def _plotlyjs() -> str:
    return plotly.offline.get_plotlyjs()


def _div(fig: go.Figure) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False, config={"responsive": True})


def _atomic_write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)  # mkstemp creates 0600; reports are meant to be shared
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return path


def _none_if_nan(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v


def render_tearsheet(
    out_root: str | Path,
    run: dict[str, Any],
    row: dict[str, Any],
    full: dict[str, Any],
    equity: pl.DataFrame,
    signals: pl.DataFrame | None = None,
    trips: pl.DataFrame | None = None,
    spreads: dict[str, pl.DataFrame] | None = None,
    ou: dict[str, pl.DataFrame] | None = None,
    thresholds_in: str = "spread",
) -> Path:
    """Write ``<out_root>/<run_id>/tearsheet.html`` and return its path.

    ``run`` is the ``backtest_runs`` row, ``row``/``full`` the ``backtest_metrics`` row and full
    metric dict of :func:`statarb.reporting.run_metrics.compute_run_metrics`; ``spreads``/``ou`` map
    pair_id to that pair's ``spread_series`` rows (run window) and OU parameters.
    """
    run_id = str(run["run_id"])
    spread_figs = []
    for pair_id, sp in sorted((spreads or {}).items()):
        if sp.height == 0:
            continue
        sig = None
        if signals is not None and signals.height:
            sig = signals.filter((pl.col("symbol_a") + "_" + pl.col("symbol_b")) == pair_id)
        fig = figures.spread_figure(pair_id, sp, (ou or {}).get(pair_id), sig, thresholds_in)
        spread_figs.append((pair_id, _div(fig)))
    per_pair = {k: v.get("pnl") for k, v in (full.get("per_pair") or {}).items()}
    costs = full.get("costs") or {}
    cost_vals = {"commissions": costs.get("commissions"), "slippage": costs.get("slippage")}
    trip_rows = (
        []
        if trips is None
        else [{k: _none_if_nan(v) for k, v in r.items()} for r in trips.iter_rows(named=True)]
    )
    html = (
        _env()
        .get_template("tearsheet.html.j2")
        .render(
            title=f"Tearsheet {run_id}",
            plotlyjs=_plotlyjs(),
            run_id=run_id,
            run=run,
            row=row,
            full=full,
            months=MONTHS,
            monthly=figures.monthly_table(equity),
            fig_equity=_div(figures.equity_figure(equity, f"Equity {run_id}")),
            spread_figs=spread_figs,
            fig_pairs=_div(figures.bar_figure(per_pair, "Realised PnL per pair (net of costs)")),
            fig_costs=_div(figures.bar_figure(cost_vals, "Costs", color="#d62728")),
            trips=trip_rows,
        )
    )
    return _atomic_write(Path(out_root) / run_id / "tearsheet.html", html)


def render_index(
    out_root: str | Path,
    runs: pl.DataFrame,
    metrics: pl.DataFrame,
    equity: dict[str, pl.DataFrame],
) -> Path:
    """Write ``<out_root>/index.html``: metrics table of every run (links to tearsheets that exist)
    and the runs' equity curves overlaid (rebased to 1.0)."""
    root = Path(out_root)
    joined = runs.select(
        "run_id", *(c for c in ("strategy_name", "pair_id", "created_at") if c in runs.columns)
    ).join(metrics.drop("metrics_json", strict=False), on="run_id", how="left")
    if "created_at" in joined.columns:
        joined = joined.sort("created_at", "run_id", nulls_last=True)
    rows = []
    for r in joined.iter_rows(named=True):
        r = {k: _none_if_nan(v) for k, v in r.items()}
        r["has_tearsheet"] = (root / str(r["run_id"]) / "tearsheet.html").exists()
        rows.append(r)
    html = (
        _env()
        .get_template("index.html.j2")
        .render(
            title="Backtest runs",
            plotlyjs=_plotlyjs(),
            runs=rows,
            generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            fig_overlay=_div(figures.overlay_figure(equity)),
        )
    )
    return _atomic_write(root / "index.html", html)
