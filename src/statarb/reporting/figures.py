"""Plotly figures of a run's tearsheet (pure functions: frames in, ``go.Figure`` out)."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from statarb.reporting.metrics import drawdown_series

_MARKERS = {
    "long_spread": ("triangle-up", "#2ca02c", "long spread"),
    "short_spread": ("triangle-down", "#d62728", "short spread"),
    "flat": ("x", "#444444", "exit (flat)"),
}


MAX_POINTS = 4_000
"""Default bound on the points of one line trace (a plot is ~1 100 px wide: ~4 points a pixel)."""
DATA_HOLE = timedelta(days=4)
"""A gap longer than this (more than a long weekend) is a hole in the data: lines break there."""


def plot_frame(
    df: pl.DataFrame,
    time_col: str,
    max_points: int = MAX_POINTS,
    value_cols: list[str] | None = None,
) -> pl.DataFrame:
    """Rows to draw: all rows when there are at most ``max_points``; otherwise the rows are cut
    into equal buckets and each bucket keeps its first and last row and the rows where each of
    ``value_cols`` (default: every numeric column) is smallest and largest, so a spike survives
    decimation (min/max bucketing, as in M4, Jugel et al. 2014; two same-direction spikes in one
    bucket keep only the larger; metrics always use all rows).
    Then an all-null row is added after every hole in the data (a gap longer than both five typical
    bar intervals and :data:`DATA_HOLE`), so lines break where data is missing. Nights, weekends and
    holidays are bridged: breaking there would draw an intraday series as one short dash per
    session on a calendar axis."""
    d = df.sort(time_col)
    if d.height > max_points > 0:
        d = _minmax_buckets(d, time_col, max_points, value_cols)
    if d.height < 3:
        return d
    gaps = d[time_col].diff()
    typical = gaps.drop_nulls().median()
    if typical is None or typical.total_seconds() <= 0:
        return d
    hole = max(typical * 5, DATA_HOLE)
    after = d.filter(gaps.shift(-1) > hole).select(pl.col(time_col) + typical)
    if after.height == 0:
        return d
    breaks = after.with_columns(
        pl.lit(None, dtype=dt).alias(c) for c, dt in d.schema.items() if c != time_col
    ).select(d.columns)
    return pl.concat([d, breaks]).sort(time_col, maintain_order=True)


def _minmax_buckets(
    d: pl.DataFrame, time_col: str, max_points: int, value_cols: list[str] | None
) -> pl.DataFrame:
    """At most ``max_points`` rows of ``d``: per bucket, first, last, argmin and argmax rows."""
    cols = value_cols or [c for c, t in d.schema.items() if c != time_col and t.is_numeric()]
    per_bucket = 2 + 2 * len(cols)
    n_buckets = max(1, max_points // per_bucket)
    idx = d.with_row_index("__i").with_columns((pl.col("__i") * n_buckets // d.height).alias("__b"))
    picks = [pl.col("__i").first().alias("__first"), pl.col("__i").last().alias("__last")]
    for j, c in enumerate(cols):
        picks.append(pl.col("__i").get(pl.col(c).fill_nan(None).arg_min()).alias(f"__min{j}"))
        picks.append(pl.col("__i").get(pl.col(c).fill_nan(None).arg_max()).alias(f"__max{j}"))
    chosen = idx.group_by("__b").agg(picks).drop("__b")
    keep = pl.concat([chosen[c] for c in chosen.columns]).drop_nulls().unique()
    return idx.filter(pl.col("__i").is_in(keep.implode())).drop("__i", "__b")


def _xs(t: pl.Series) -> np.ndarray:
    """Times as float64 milliseconds since the epoch (UTC): plotly date axes read them, and numpy
    arrays are embedded as compact base64 typed arrays instead of ISO strings."""
    if t.dtype.is_temporal():
        t = t.dt.epoch("ms")
    return t.cast(pl.Float64).fill_null(np.nan).to_numpy()


def _ys(y: pl.Series) -> np.ndarray:
    """Values as float64 with NaN for nulls (NaN breaks a plotted line)."""
    return y.cast(pl.Float64).fill_null(np.nan).to_numpy()


def line_trace(webgl: bool = False, **kw: object) -> go.Scatter | go.Scattergl:
    """A line trace: SVG ``Scatter`` by default, WebGL ``Scattergl`` on request.

    SVG is the default because every ``Scattergl`` figure takes one WebGL context and browsers
    keep only about 16 alive per page (older ones are lost, their plots go blank); with points
    bounded by :func:`plot_frame` SVG also loads faster in (software-rendered) headless Chromium.
    """
    return go.Scattergl(**kw) if webgl else go.Scatter(**kw)


def step_points(t: pl.Series, y: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """The points of a piecewise-constant series where its value changes (plus the last point):
    drawn with ``line.shape = "hv"`` they reproduce the series exactly with far fewer points."""
    d = pl.DataFrame({"t": t, "y": y})
    keep = d.filter(
        pl.col("y").ne_missing(pl.col("y").shift(1)) | (pl.int_range(pl.len()) == pl.len() - 1)
    )
    return _xs(keep["t"]), _ys(keep["y"])


def equity_figure(
    equity: pl.DataFrame,
    title: str = "Equity",
    max_points: int = MAX_POINTS,
    webgl: bool = False,
) -> go.Figure:
    """Equity curve and its drawdown (negative decimal) in two stacked panels (drawdown computed on
    every mark, then both drawn from at most ``max_points`` points, see :func:`plot_frame`)."""
    eq = equity.sort("ts")
    eq = plot_frame(
        eq.with_columns(dd=pl.Series(drawdown_series(eq["equity"].to_numpy()))),
        "ts",
        max_points,
        ["equity", "dd"],
    )
    dd = eq["dd"]
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.7, 0.3],
        vertical_spacing=0.04,
        subplot_titles=(title, "Underwater (drawdown from the running peak)"),
    )
    x = _xs(eq["ts"])
    fig.add_trace(line_trace(webgl, x=x, y=_ys(eq["equity"]), name="equity", mode="lines"), 1, 1)
    fig.add_trace(
        line_trace(
            webgl,
            x=x,
            y=_ys(dd),
            name="drawdown",
            fill="tozeroy",
            mode="lines",
            line={"color": "#d62728"},
        ),
        2,
        1,
    )
    fig.update_yaxes(tickformat=".2%", row=2, col=1)
    fig.update_layout(height=520, margin={"l": 50, "r": 20, "t": 40, "b": 30}, showlegend=False)
    fig.update_xaxes(type="date")
    return fig


def bands_on_grid(spread: pl.DataFrame, ou: pl.DataFrame | None) -> pl.DataFrame:
    """Attach the OU parameters in force at each spread time (latest ``window_end <= datetime``)."""
    s = spread.sort("datetime")
    if ou is None or ou.height == 0:
        return s
    cols = [
        c
        for c in ("mu", "sigma", "theta", "entry_upper", "entry_lower", "exit_threshold")
        if c in ou.columns
    ]
    o = ou.sort("window_end").select(pl.col("window_end").cast(s.schema["datetime"]), *cols)
    return s.join_asof(o, left_on="datetime", right_on="window_end", strategy="backward")


def spread_figure(
    pair_id: str,
    spread: pl.DataFrame,
    ou: pl.DataFrame | None,
    signals: pl.DataFrame | None,
    thresholds_in: str = "spread",
    max_points: int = MAX_POINTS,
    webgl: bool = False,
) -> go.Figure:
    """Spread with entry/exit bands and trade markers (top) and the z-score with its bands (bottom).

    ``thresholds_in="spread"`` (what ``statarb.alpha.bands`` stores): ``entry_upper``,
    ``entry_lower`` and ``exit_threshold`` (plus its mirror ``2 mu - exit_threshold``) are spread
    levels, drawn as given on the spread panel and as OU z-levels ``(level - mu) / sigma_eq`` with
    ``sigma_eq = sigma / sqrt(2 theta)`` on the z panel. ``"z"``: they are z levels, mapped to the
    spread panel as ``mu + level * sigma_eq``. Spread and z are drawn from at most ``max_points``
    points (:func:`plot_frame`); bands are exact step lines; markers sit on the full-resolution
    spread at their ``signal_ts``.
    """
    full = bands_on_grid(spread, ou)
    s = plot_frame(
        full, "datetime", max_points, [c for c in ("spread", "z_score") if c in full.columns]
    )
    x = _xs(s["datetime"])
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.6, 0.4],
        vertical_spacing=0.05,
        subplot_titles=(f"Spread {pair_id}", "z-score"),
    )
    fig.add_trace(
        line_trace(
            webgl,
            x=x,
            y=_ys(s["spread"]),
            name="spread",
            mode="lines",
            line={"color": "#1f77b4"},
        ),
        1,
        1,
    )
    has_z = "z_score" in s.columns and s["z_score"].null_count() < s.height
    if has_z:
        fig.add_trace(
            line_trace(
                webgl,
                x=x,
                y=_ys(s["z_score"]),
                name="z",
                mode="lines",
                line={"color": "#9467bd"},
            ),
            2,
            1,
        )
    band_cols = [c for c in ("entry_upper", "entry_lower", "exit_threshold") if c in full.columns]
    has_ou = {"mu", "sigma", "theta"} <= set(full.columns)
    sd = full["sigma"] / (2 * full["theta"].clip(lower_bound=1e-12)).sqrt() if has_ou else None
    levels = {c: full[c] for c in band_cols}
    if "exit_threshold" in levels and "mu" in full.columns:  # lower edge of the exit band
        levels["exit_lower"] = 2 * full["mu"] - full["exit_threshold"]
    for col, lv in levels.items():
        dash = "dot" if col.startswith("exit") else "dash"
        if thresholds_in == "z":
            z_level, spread_level = lv, (full["mu"] + lv * sd if has_ou else None)
        else:
            z_level, spread_level = ((lv - full["mu"]) / sd if has_ou else None), lv
        for level, row, name, color, legend in (
            (spread_level, 1, col, "#ff7f0e", True),
            (z_level if has_z else None, 2, f"{col} (z)", "#7f7f7f", False),
        ):
            if level is None:
                continue
            bx, by = step_points(full["datetime"], level)
            fig.add_trace(
                line_trace(
                    webgl,
                    x=bx,
                    y=by,
                    name=name,
                    mode="lines",
                    showlegend=legend,
                    line={"dash": dash, "color": color, "shape": "hv"},
                ),
                row,
                1,
            )
    if signals is not None and signals.height:
        sig = _signals_on_spread(signals, full, has_z)
        for direction, (symbol, color, label) in _MARKERS.items():
            d = sig.filter(pl.col("direction") == direction)
            if d.height == 0:
                continue
            marker = {"symbol": symbol, "size": 10, "color": color}
            fig.add_trace(
                go.Scatter(
                    x=_xs(d["signal_ts"]),
                    y=_ys(d["spread"]),
                    mode="markers",
                    name=label,
                    marker=marker,
                ),
                1,
                1,
            )
            if has_z:
                fig.add_trace(
                    go.Scatter(
                        x=_xs(d["signal_ts"]),
                        y=_ys(d["z_score"]),
                        mode="markers",
                        name=label,
                        marker=marker,
                        showlegend=False,
                    ),
                    2,
                    1,
                )
    fig.update_layout(height=560, margin={"l": 50, "r": 20, "t": 40, "b": 30})
    fig.update_xaxes(type="date")
    return fig


def _signals_on_spread(signals: pl.DataFrame, s: pl.DataFrame, has_z: bool) -> pl.DataFrame:
    sig = signals.with_columns(pl.col("signal_ts").cast(s.schema["datetime"])).sort("signal_ts")
    cols = ["datetime", "spread"] + (["z_score"] if has_z else [])
    return sig.join_asof(
        s.select(cols), left_on="signal_ts", right_on="datetime", strategy="backward"
    )


def monthly_returns(equity: pl.DataFrame) -> pl.DataFrame:
    """Calendar-month returns ``year, month, ret`` from month-end equity (first month vs E_0)."""
    eq = equity.sort("ts").select("ts", "equity")
    first = float(eq["equity"][0])
    ends = eq.group_by_dynamic("ts", every="1mo").agg(pl.col("equity").last()).sort("ts")
    prev = ends["equity"].shift(1).fill_null(first)
    return ends.select(
        year=pl.col("ts").dt.year(),
        month=pl.col("ts").dt.month(),
        ret=pl.col("equity") / prev - 1.0,
    )


def monthly_table(equity: pl.DataFrame) -> list[dict[str, object]]:
    """Rows ``{"year", "months": [12 x ret-or-None], "year_ret"}`` for the HTML table."""
    mr = monthly_returns(equity)
    rows = []
    for year in sorted(mr["year"].unique().to_list()):
        y = mr.filter(pl.col("year") == year)
        months: list[float | None] = [None] * 12
        for mth, r in y.select("month", "ret").iter_rows():
            months[mth - 1] = r
        rows.append(
            {
                "year": year,
                "months": months,
                "year_ret": float(np.prod([1 + r for r in y["ret"]]) - 1),
            }
        )
    return rows


def bar_figure(values: dict[str, float], title: str, color: str = "#1f77b4") -> go.Figure:
    """Simple bar chart of a name -> value mapping (NaN shown as 0)."""
    names = list(values)
    ys = [
        0.0 if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in values.values()
    ]
    fig = go.Figure(go.Bar(x=names, y=ys, marker_color=color))
    fig.update_layout(title=title, height=320, margin={"l": 50, "r": 20, "t": 40, "b": 30})
    return fig


def overlay_figure(
    curves: dict[str, pl.DataFrame], max_points: int = 5_000, webgl: bool = False
) -> go.Figure:
    """Equity curves of several runs, each rebased to 1.0 at its first mark (one SVG line per run
    unless ``webgl``; at most ``max_points`` points each)."""
    fig = go.Figure()
    for run_id, eq in curves.items():
        e = eq.sort("ts")
        base = float(e["equity"][0])
        e = plot_frame(e.select("ts", "equity"), "ts", max_points=max_points)
        fig.add_trace(
            line_trace(webgl, x=_xs(e["ts"]), y=_ys(e["equity"] / base), mode="lines", name=run_id)
        )
    fig.update_xaxes(type="date")
    fig.update_layout(
        title="Equity (rebased to 1.0)", height=460, margin={"l": 50, "r": 20, "t": 40, "b": 30}
    )
    return fig
