"""Align bars, alpha signals and gating into the ``(T, P)`` arrays both event loops consume.

Sources (all Polars): ``bars_adjusted`` (spec §5.1; ``outlier_flag = 1`` bars are treated as
missing: no fill and no mark on them), ``spread_series`` (§5.3: ``beta``, ``z_score``,
``spread``), ``cointegration_results`` (§4.2) and, for ``signal_source = "ou_bands"``, ``ou_params``
(§4.2). The time grid is the sorted union of the legs' bar open times. Gating and OU bands are
joined as-of under the information-time rule of ``docs/dev-contract.md``: a decision on bar ``t``
may use outputs stamped ``<= t + bar_interval``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from statarb.backtest.config import BacktestConfig
from statarb.backtest.errors import BacktestInputError
from statarb.conventions import UTC_US

__all__ = ["BacktestInputError", "BacktestInputs", "gate_asof", "ou_band_score", "prepare_inputs"]


@dataclass
class BacktestInputs:
    """Arrays of shape ``(T, P)`` (bar, pair); NaN marks a missing bar or signal."""

    ts: np.ndarray  # int64 microseconds since epoch (UTC), bar open time, strictly increasing
    pair_ids: list[str]
    symbols_a: list[str]
    symbols_b: list[str]
    open_a: np.ndarray
    close_a: np.ndarray
    vol_a: np.ndarray
    open_b: np.ndarray
    close_b: np.ndarray
    vol_b: np.ndarray
    beta: np.ndarray
    z: np.ndarray
    spread: np.ndarray
    tradable: np.ndarray  # bool

    @property
    def shape(self) -> tuple[int, int]:
        return self.open_a.shape

    def timestamps(self) -> pl.Series:
        return pl.Series("ts", self.ts).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def _require(df: pl.DataFrame, cols: list[str], name: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise BacktestInputError(f"{name}: missing columns {missing} (have {df.columns})")


def _utc(df: pl.DataFrame, col: str) -> pl.DataFrame:
    dt = df.schema[col]
    if isinstance(dt, pl.Datetime) and dt.time_zone is None:
        return df.with_columns(pl.col(col).dt.replace_time_zone("UTC").cast(UTC_US))
    return df.with_columns(pl.col(col).cast(UTC_US))


def gate_asof(frame: pl.DataFrame, coint: pl.DataFrame, bar_interval: timedelta) -> pl.DataFrame:
    """Add Boolean ``tradable``: latest ``is_cointegrated`` with ``test_ts <= datetime + interval``.

    Delegates to :func:`statarb.alpha.gating.gate` (single source of the rule); rows before the
    first test of their pair are not tradable.
    """
    from statarb.alpha.gating import gate

    return gate(frame, coint, bar_interval)


def ou_band_score(
    spread: pl.Expr,
    upper: pl.Expr,
    lower: pl.Expr,
    exit_level: pl.Expr,
    entry_z: float,
    exit_z: float,
) -> pl.Expr:
    """Map the spread onto the strategy's z scale through the OU bands of ``ou_params``.

    Bands as written by ``statarb.alpha.bands``: ``entry_upper = mu + k_entry * sigma_eq``,
    ``entry_lower = mu - k_entry * sigma_eq``, ``exit_threshold = mu + k_exit * sigma_eq`` (exit
    band ``[2 mu - exit_threshold, exit_threshold]``). With ``m = (upper + lower) / 2``,
    ``h = upper - m``, ``e = exit_threshold - m`` and ``d = |s - m|`` the score is piecewise linear
    in ``d``: ``exit_z * d / e`` for ``d <= e``, ``exit_z + (entry_z - exit_z) (d - e) / (h - e)``
    beyond, signed like ``s - m``. Hence ``|score| > entry_z`` iff the spread is outside the entry
    band, ``|score| <= exit_z`` iff it is inside the exit band, and the stop ``|score| > stop_z``
    lies the same proportion beyond the entry band.
    """
    m = (upper + lower) / 2.0
    h = upper - m
    e = (exit_level - m).clip(lower_bound=0.0)
    d = (spread - m).abs()
    inner = pl.when(e > 0).then(exit_z * d / e).otherwise(0.0)
    outer = exit_z + (entry_z - exit_z) * (d - e) / (h - e)
    u = pl.when(d <= e).then(inner).otherwise(outer)
    return pl.when(spread >= m).then(u).otherwise(-u)


def _ou_scores(
    spreads: pl.DataFrame, ou: pl.DataFrame, cfg: BacktestConfig, interval: timedelta
) -> pl.DataFrame:
    _require(ou, ["pair_id", "window_end", "entry_upper", "entry_lower", "exit_threshold"], "ou")
    o = _utc(ou, "window_end").sort("pair_id", "window_end")
    o = o.select("pair_id", "window_end", "entry_upper", "entry_lower", "exit_threshold")
    f = spreads.with_columns((pl.col("datetime") + interval).alias("_known_at")).sort(
        "pair_id", "_known_at"
    )
    j = f.join_asof(
        o, left_on="_known_at", right_on="window_end", by="pair_id", check_sortedness=False
    )
    score = ou_band_score(
        pl.col("spread"),
        pl.col("entry_upper"),
        pl.col("entry_lower"),
        pl.col("exit_threshold"),
        cfg.entry_z,
        cfg.exit_z,
    )
    return j.with_columns(score.alias("z_score")).drop(
        "_known_at", "window_end", "entry_upper", "entry_lower", "exit_threshold"
    )


def prepare_inputs(
    bars: pl.DataFrame | pl.LazyFrame,
    spreads: pl.DataFrame | pl.LazyFrame,
    coint: pl.DataFrame | pl.LazyFrame,
    pair_ids: list[str],
    cfg: BacktestConfig,
    ou_params: pl.DataFrame | pl.LazyFrame | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> BacktestInputs:
    """Build :class:`BacktestInputs` for ``pair_ids`` (``A_B``) over ``[start, end]`` (bar times):
    the whole run as one chunk of :class:`statarb.backtest.stream.InputStream` (for the reference
    loop and tests; the pipeline streams)."""
    from statarb.backtest.stream import InputStream

    stream = InputStream(bars, spreads, coint, pair_ids, cfg, ou_params, start, end)
    g = stream.grid
    n = g.ts.size
    if n == 0:
        raise BacktestInputError("bars_adjusted: no bars of the legs in the window")
    b, spread = stream.chunk(0, n)
    return BacktestInputs(
        ts=g.ts,
        pair_ids=list(g.pair_ids),
        symbols_a=list(g.symbols_a),
        symbols_b=list(g.symbols_b),
        open_a=b.open_a,
        close_a=b.close_a,
        vol_a=b.vol_a,
        open_b=b.open_b,
        close_b=b.close_b,
        vol_b=b.vol_b,
        beta=b.beta,
        z=b.z,
        spread=np.ascontiguousarray(spread),
        tradable=b.tradable,
    )
