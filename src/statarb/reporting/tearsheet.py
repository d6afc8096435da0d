"""Self-contained HTML tearsheets (plotly.js inlined, no network) and the run comparison page.

Layout: ``<root>/<run_id>/tearsheet.html`` per run and ``<root>/index.html`` across runs
(``root`` = ``data/08_reporting`` in the pipeline).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import plotly.graph_objects as go
import plotly.io as pio
import plotly.offline
import polars as pl

from statarb.conventions import pair_id_expr, sort_runs
from statarb.reporting import figures, figures_pair, sections

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


PLOT_CONFIG = {"responsive": True, "displaylogo": False}

# Draws the page's figures from one <script type="application/json"> block with one shared template
# and config (no per-figure <script>, no per-figure template copy). Figures whose placeholder is in
# the first viewport are drawn while the page loads; the others when they come within 300 px of the
# viewport (IntersectionObserver), or all at once on print / statarbDrawAll() (returns a Promise).
_PLOT_SCRIPT = """(function () {
  var P = JSON.parse(document.getElementById("plot-data").textContent);
  var ids = Object.keys(P.figs), drawn = {};
  function draw(id) {
    if (drawn[id]) return drawn[id];
    var f = P.figs[id];
    f.layout.template = P.template;
    return (drawn[id] = Plotly.newPlot(id, f.data, f.layout, P.config));
  }
  window.statarbDrawAll = function () { return Promise.all(ids.map(draw)); };
  window.addEventListener("beforeprint", window.statarbDrawAll);
  var io = "IntersectionObserver" in window ? new IntersectionObserver(function (es) {
    es.forEach(function (e) { if (e.isIntersecting) { io.unobserve(e.target); draw(e.target.id); } });
  }, {rootMargin: "300px 0px"}) : null;
  var fold = window.innerHeight || document.documentElement.clientHeight || 800;
  ids.forEach(function (id) {
    var el = document.getElementById(id);
    if (!io || el.getBoundingClientRect().top < fold) draw(id); else io.observe(el);
  });
})();"""


def _json_for_script(obj: Any) -> str:
    """JSON safe inside ``<script>``: ``<``, ``>``, ``&`` escaped (they only occur in strings)."""
    text = json.dumps(obj, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class PlotBlock:
    """Collects a page's figures: :meth:`add` returns the placeholder ``<div>``, :meth:`script`
    the single data block + draw script (the plotly template is emitted once, not per figure)."""

    def __init__(self, prefix: str = "fig") -> None:
        self.prefix = prefix
        self.figs: dict[str, dict[str, Any]] = {}
        self.template: dict[str, Any] | None = None

    def add(self, fig: go.Figure, css_class: str = "plot") -> str:
        spec = json.loads(pio.to_json(fig, validate=False))  # numpy arrays -> base64 typed arrays
        template = spec.setdefault("layout", {}).pop("template", None)
        if self.template is None and template is not None:
            self.template = template
        div_id = f"{self.prefix}-{len(self.figs)}"
        self.figs[div_id] = {"data": spec.get("data", []), "layout": spec["layout"]}
        height = spec["layout"].get("height")
        style = f' style="height:{int(height)}px"' if height else ""
        return f'<div id="{div_id}" class="{css_class}"{style}></div>'

    def script(self) -> str:
        payload = {"figs": self.figs, "template": self.template or {}, "config": PLOT_CONFIG}
        return (
            f'<script type="application/json" id="plot-data">{_json_for_script(payload)}</script>\n'
            f"<script>{_PLOT_SCRIPT}</script>"
        )


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


def rank_pairs(pairs: list[str], per_pair: dict[str, dict[str, Any]] | None) -> list[str]:
    """``pairs`` ordered for plotting: largest ``|net realised PnL|`` first (closed round trips,
    ``metrics_json.per_pair[pair].pnl``), ties broken by more round trips, then by ``pair_id``.
    Pairs without closed trips rank last (PnL 0, 0 trips)."""
    per_pair = per_pair or {}

    def key(p: str) -> tuple[float, int, str]:
        rec = per_pair.get(p) or {}
        pnl = rec.get("pnl")
        pnl = 0.0 if pnl is None or not math.isfinite(float(pnl)) else abs(float(pnl))
        return (-pnl, -int(rec.get("trades") or 0), p)

    return sorted(pairs, key=key)


def _pair_rows(
    pairs: list[str], per_pair: dict[str, dict[str, Any]], plotted: set[str]
) -> list[dict[str, Any]]:
    """One table row per pair (traded or with a spread), sorted by net PnL, best first."""
    rows = []
    for p in sorted(set(pairs) | set(per_pair)):
        rec = per_pair.get(p) or {}
        rows.append(
            {
                "pair": p,
                "trades": int(rec.get("trades") or 0),
                "pnl": _none_if_nan(rec.get("pnl")),
                "commission": _none_if_nan(rec.get("commission")),
                "slippage": _none_if_nan(rec.get("slippage_cost")),
                "plotted": p in plotted,
            }
        )
    return sorted(
        rows, key=lambda r: (-(r["pnl"] if r["pnl"] is not None else -math.inf), r["pair"])
    )


def render_tearsheet(out_root: str | Path, run: dict[str, Any], *args: Any, **kwargs: Any) -> Path:
    """Write ``<out_root>/<run_id>/tearsheet.html`` (atomically) and return its path; the other
    arguments are those of :func:`tearsheet_html`."""
    html = tearsheet_html(run, *args, **kwargs)
    return _atomic_write(Path(out_root) / str(run["run_id"]) / "tearsheet.html", html)


def tearsheet_html(
    run: dict[str, Any],
    row: dict[str, Any],
    full: dict[str, Any],
    equity: pl.DataFrame,
    signals: pl.DataFrame | None = None,
    trips: pl.DataFrame | None = None,
    spreads: dict[str, pl.DataFrame] | None = None,
    ou: dict[str, pl.DataFrame] | None = None,
    thresholds_in: str = "spread",
    max_pair_plots: int = 8,
    max_points: int = figures.MAX_POINTS,
    webgl: bool = False,
    rolling_window: int = 1950,
    top_drawdowns: int = 5,
    selection: dict[str, pl.DataFrame] | None = None,
    research: dict[str, pl.DataFrame | None] | None = None,
    risk_free: float = 0.0,
) -> str:
    """The tearsheet page of one run (self-contained HTML).

    ``run`` is the ``backtest_runs`` row, ``row``/``full`` the ``backtest_metrics`` row and full
    metric dict of :func:`statarb.reporting.run_metrics.compute_run_metrics`; ``spreads``/``ou``/
    ``selection`` map pair_id to that pair's ``spread_series`` rows (run window), OU parameters and
    ``selection_log`` rows. Spread/z and diagnostics figures are drawn for the first
    ``max_pair_plots`` pairs of :func:`rank_pairs` (``0`` = none, a negative value = all); the
    per-pair, cost and round-trip tables cover every pair. Lines have at most ``max_points``
    points; ``webgl`` switches line traces to ``Scattergl``. ``rolling_window`` (bars) sets the
    rolling Sharpe/volatility, ``top_drawdowns`` the drawdown episodes marked; ``research`` holds
    the optional frames of :mod:`statarb.reporting.research_frames` (sections omitted without).
    """
    run_id = str(run["run_id"])
    per_pair_full: dict[str, dict[str, Any]] = full.get("per_pair") or {}
    with_spread = [p for p, sp in (spreads or {}).items() if sp.height]
    ranked = rank_pairs(with_spread, per_pair_full)
    chosen = ranked if max_pair_plots < 0 else ranked[:max_pair_plots]
    plots = PlotBlock()
    perf = sections.performance(
        plots.add,
        equity,
        figures.equity_figure(equity, f"Equity {run_id}", max_points=max_points, webgl=webgl),
        float(full.get("periods_per_year") or 1.0),
        rolling_window,
        top_drawdowns,
        risk_free,
        max_points,
        webgl,
    )
    trade_dist = sections.trade_section(plots.add, trips)
    extra = sections.research(plots.add, run_id, research, full, max_points, webgl)
    spread_figs = []
    for pair_id in chosen:
        sig = None
        if signals is not None and signals.height:
            sig = signals.filter(pair_id_expr() == pair_id)
        sp, pou = spreads[pair_id], (ou or {}).get(pair_id)  # type: ignore[index]
        fig = figures.spread_figure(
            pair_id, sp, pou, sig, thresholds_in, max_points=max_points, webgl=webgl
        )
        diag = figures_pair.pair_diagnostics_figure(
            pair_id, sp, pou, (selection or {}).get(pair_id), max_points, webgl
        )
        spread_figs.append(
            (pair_id, plots.add(fig, "plot pair-plot"), plots.add(diag, "plot pair-diag"))
        )
    pair_rows = _pair_rows(with_spread, per_pair_full, set(chosen))
    per_pair = {r["pair"]: r["pnl"] for r in pair_rows if r["trades"]}
    costs = full.get("costs") or {}
    cost_vals = {"commissions": costs.get("commissions"), "slippage": costs.get("slippage")}
    trip_rows = (
        []
        if trips is None
        else [{k: _none_if_nan(v) for k, v in r.items()} for r in trips.iter_rows(named=True)]
    )
    fig_pairs = plots.add(figures.bar_figure(per_pair, "Realised PnL per pair (net of costs)"))
    fig_costs = plots.add(figures.bar_figure(cost_vals, "Costs", color="#d62728"))
    return (
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
            perf=perf,
            trade_dist=trade_dist,
            research=extra,
            spread_figs=spread_figs,
            n_pairs=len(pair_rows),
            n_spread_pairs=len(with_spread),
            max_pair_plots=max_pair_plots,
            pair_rows=pair_rows,
            fig_pairs=fig_pairs,
            fig_costs=fig_costs,
            trips=trip_rows,
            plot_script=plots.script(),
        )
    )


def render_index(
    out_root: str | Path,
    runs: pl.DataFrame,
    metrics: pl.DataFrame,
    equity: dict[str, pl.DataFrame],
    max_points: int = 2_000,
    webgl: bool = False,
) -> Path:
    """Write ``<out_root>/index.html``: metrics table of every run (links to tearsheets that exist)
    and the runs' equity curves overlaid (rebased to 1.0, at most ``max_points`` points each)."""
    root = Path(out_root)
    joined = runs.select(
        "run_id", *(c for c in ("strategy_name", "pair_id", "created_at") if c in runs.columns)
    ).join(metrics.drop("metrics_json", strict=False), on="run_id", how="left")
    if "created_at" in joined.columns:
        joined = sort_runs(joined)
    rows = []
    for r in joined.iter_rows(named=True):
        r = {k: _none_if_nan(v) for k, v in r.items()}
        r["has_tearsheet"] = (root / str(r["run_id"]) / "tearsheet.html").exists()
        rows.append(r)
    plots = PlotBlock()
    fig_overlay = plots.add(figures.overlay_figure(equity, max_points=max_points, webgl=webgl))
    html = (
        _env()
        .get_template("index.html.j2")
        .render(
            title="Backtest runs",
            plotlyjs=_plotlyjs(),
            runs=rows,
            generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            fig_overlay=fig_overlay,
            plot_script=plots.script(),
        )
    )
    return _atomic_write(root / "index.html", html)
