"""Input frames of the tearsheet's optional research sections (produced by the sweep and the
trial-statistics code, read by the reporting pipeline; docs/reporting.md "Optional sections").

Each frame carries a ``run_id`` column: the run whose tearsheet shows it (for a sweep, the run
written for the chosen configuration). The tearsheet keeps the rows of its own run, so a frame
left over from another sweep never shows on an unrelated run; a section whose frame is absent,
empty or has no row for the run is omitted. Required columns and their types:

* ``sweep_grid`` -- one row per configuration: ``run_id`` str, ``entry_z`` f64, ``exit_z`` f64,
  ``sharpe_annual`` f64 (nullable); any other grid columns (``stop_z``, ...) may follow. The
  heatmap shows, per ``(entry_z, exit_z)`` cell, the best Sharpe over the other dimensions.
* ``walk_forward`` -- equity curves: ``run_id`` str, ``ts`` datetime (UTC), ``sample`` str
  (``"in_sample"`` = the in-sample best configuration over the whole period,
  ``"out_of_sample"`` = the stitched out-of-sample equity), ``equity`` f64 > 0; optional
  ``fold`` int (the out-of-sample window a mark belongs to: boundaries drawn).
* ``cost_sensitivity`` -- ``run_id`` str, ``cost_scale`` f64 (fees and slippage multiplier,
  e.g. 0, 1, 2, 4), ``sharpe_annual`` f64, ``net_pnl`` f64.
* ``trial_stats`` -- a mapping (one row of a frame with ``run_id``, or else the run's
  ``metrics_json.trial_stats`` block, nested as :mod:`statarb.reporting.trial_stats` writes it):
  any of ``psr``, ``psr_benchmark_annual``, ``dsr``, ``benchmark_sharpe``, ``min_trl`` (bars),
  ``sharpe_ci_low``, ``sharpe_ci_high``, ``ci_level``, ``n_trials``, ``sharpe_variance``
  (see :data:`TRIAL_STATS_LABELS` and :func:`flat_trial_stats`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import polars as pl

_NUM = (pl.Float64, pl.Float32, pl.Int64, pl.Int32, pl.Int16, pl.Int8, pl.UInt32, pl.UInt64)

FRAMES: dict[str, dict[str, tuple[type, ...] | str]] = {
    "sweep_grid": {
        "run_id": (pl.String,),
        "entry_z": _NUM,
        "exit_z": _NUM,
        "sharpe_annual": _NUM,
    },
    "walk_forward": {
        "run_id": (pl.String,),
        "ts": "datetime",
        "sample": (pl.String,),
        "equity": _NUM,
    },
    "cost_sensitivity": {
        "run_id": (pl.String,),
        "cost_scale": _NUM,
        "sharpe_annual": _NUM,
        "net_pnl": _NUM,
    },
}
"""Required columns of each frame and the dtypes accepted for them."""

WALK_FORWARD_SAMPLES = ("in_sample", "out_of_sample")

TRIAL_STATS_LABELS: dict[str, str] = {
    "psr": "Probabilistic Sharpe ratio P(SR > benchmark)",
    "psr_benchmark_annual": "PSR benchmark Sharpe (ann.)",
    "dsr": "Deflated Sharpe ratio",
    "benchmark_sharpe": "Benchmark Sharpe (ann.; DSR: expected max of the trials)",
    "min_trl": "Minimum track-record length (bars)",
    "sharpe_ci_low": "Sharpe CI, lower (ann.)",
    "sharpe_ci_high": "Sharpe CI, upper (ann.)",
    "ci_level": "CI level",
    "n_trials": "Trials (N)",
    "sharpe_variance": "Variance of the trials' Sharpe (V)",
}
"""Keys shown in the trial-statistics table (in this order) and their labels."""


def _check(name: str, df: pl.DataFrame) -> None:
    for col, types in FRAMES[name].items():
        if col not in df.columns:
            raise ValueError(f"{name}: missing column {col!r} (required: {sorted(FRAMES[name])})")
        dt = df.schema[col]
        ok = isinstance(dt, pl.Datetime) if types == "datetime" else dt in types
        if not ok:
            raise ValueError(f"{name}.{col}: dtype {dt} not accepted (rule: {types})")


def select_frame(name: str, frame: pl.DataFrame | None, run_id: str) -> pl.DataFrame | None:
    """The rows of ``run_id`` in research frame ``name``, validated; ``None`` when there are none.

    Raises ``ValueError`` naming the frame, column (and row) and the rule broken.
    """
    if frame is None or frame.height == 0:
        return None
    _check(name, frame)
    rows = frame.filter(pl.col("run_id") == run_id)
    if rows.height == 0:
        return None
    if name == "walk_forward":
        bad = rows.with_row_index("row").filter(
            ~pl.col("sample").is_in(WALK_FORWARD_SAMPLES) | ~(pl.col("equity") > 0)
        )
        if bad.height:
            r = bad.row(0, named=True)
            raise ValueError(
                f"walk_forward row {r['row']}: sample must be one of {WALK_FORWARD_SAMPLES} and "
                f"equity > 0, got sample={r['sample']!r} equity={r['equity']}"
            )
    return rows


_NESTED = {  # metrics_json.trial_stats layout of statarb.reporting.trial_stats.run_trial_stats
    "min_trl": ("min_track_record", "bars"),
    "dsr": ("deflated", "dsr"),
    "benchmark_sharpe": ("deflated", "expected_max_sharpe_annual"),
    "n_trials": ("deflated", "n_trials"),
    "sharpe_variance": ("deflated", "sharpe_variance_annual"),
    "sharpe_ci_low": ("bootstrap", "sharpe_low"),
    "sharpe_ci_high": ("bootstrap", "sharpe_high"),
    "ci_level": ("bootstrap", "confidence"),
}


def flat_trial_stats(stats: Mapping[str, Any] | None) -> dict[str, Any]:
    """The flat keys of :data:`TRIAL_STATS_LABELS` from either a flat mapping (a frame row) or
    the nested ``metrics_json.trial_stats`` block (``min_track_record.bars``, ``deflated.dsr``,
    ``bootstrap.sharpe_low`` ...); a flat key wins over its nested twin."""
    if not stats:
        return {}
    flat = {k: stats[k] for k in TRIAL_STATS_LABELS if k in stats}
    for key, (block, field) in _NESTED.items():
        sub = stats.get(block)
        if key not in flat and isinstance(sub, Mapping) and field in sub:
            flat[key] = sub[field]
    return flat


def trial_stats_rows(stats: Mapping[str, Any] | None) -> list[tuple[str, float | None]]:
    """``(label, value)`` rows of the trial-statistics table, in :data:`TRIAL_STATS_LABELS`
    order, for the keys present (:func:`flat_trial_stats`); ``[]`` (section omitted) when none."""
    stats = flat_trial_stats(stats)
    if not stats:
        return []
    out = []
    for key, label in TRIAL_STATS_LABELS.items():
        if key in stats:
            v = stats[key]
            v = None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v
            out.append((label, v))
    return out


def sweep_cells(grid: pl.DataFrame) -> pl.DataFrame:
    """``entry_z, exit_z, sharpe_annual, n_configs`` per heatmap cell: the best (max) Sharpe over
    the grid's other dimensions and the number of configurations in the cell."""
    return (
        grid.group_by("entry_z", "exit_z")
        .agg(
            pl.col("sharpe_annual").cast(pl.Float64).fill_nan(None).max(),
            n_configs=pl.len(),
        )
        .sort("entry_z", "exit_z")
    )
