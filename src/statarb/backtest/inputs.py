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

UTC_US = pl.Datetime("us", "UTC")


class BacktestInputError(ValueError):
    """Input frames are missing columns or pairs; the message names the frame and the rule."""


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


def _legs(pair_ids: list[str]) -> list[tuple[str, str]]:
    legs = []
    for pid in pair_ids:
        parts = pid.split("_")
        if len(parts) != 2 or not parts[0] < parts[1]:
            raise BacktestInputError(f"pair_id {pid!r} is not 'A_B' with A < B")
        legs.append((parts[0], parts[1]))
    return legs


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
    """Build :class:`BacktestInputs` for ``pair_ids`` (``A_B``) over ``[start, end]`` (bar times)."""
    if not pair_ids:
        raise BacktestInputError("no pairs to backtest")
    legs = _legs(pair_ids)
    syms = sorted({s for ab in legs for s in ab})
    if isinstance(bars, pl.LazyFrame):  # prune before materialising (partitioned store)
        bars = bars.filter(pl.col("symbol").is_in(syms)).collect()
    if isinstance(spreads, pl.LazyFrame):
        spreads = spreads.filter(pl.col("pair_id").is_in(list(pair_ids))).collect()
    coint = coint.collect() if isinstance(coint, pl.LazyFrame) else coint
    if isinstance(ou_params, pl.LazyFrame):
        ou_params = ou_params.collect()
    _require(bars, ["symbol", "datetime", "open", "close", "volume"], "bars_adjusted")
    _require(spreads, ["pair_id", "datetime", "spread", "beta", "z_score"], "spread_series")
    _require(coint, ["pair_id", "test_ts", "is_cointegrated"], "cointegration_results")
    interval = timedelta(minutes=cfg.bar_interval_minutes)

    bars = _utc(bars, "datetime").filter(pl.col("symbol").is_in(syms))
    if "outlier_flag" in bars.columns:
        bars = bars.filter(pl.col("outlier_flag").fill_null(0) != 1)
    if start is not None:
        bars = bars.filter(pl.col("datetime") >= start)
    if end is not None:
        bars = bars.filter(pl.col("datetime") <= end)
    have = set(bars["symbol"].unique().to_list())
    absent = [s for s in syms if s not in have]
    if absent:
        raise BacktestInputError(f"bars_adjusted: no bars for legs {absent} in the window")
    grid = bars.select(pl.col("datetime").unique().sort())
    T, P = grid.height, len(pair_ids)

    sp = _utc(spreads, "datetime").filter(pl.col("pair_id").is_in(pair_ids))
    sp = sp.select("pair_id", "datetime", "spread", "beta", "z_score")
    if cfg.signal_source == "ou_bands":
        if ou_params is None:
            raise BacktestInputError("signal_source 'ou_bands' needs ou_params")
        sp = _ou_scores(sp, ou_params, cfg, interval)
    sp = gate_asof(sp, coint, interval)

    arr = {k: np.full((T, P), np.nan) for k in ("oa", "ca", "va", "ob", "cb", "vb", "be", "z", "s")}
    trad = np.zeros((T, P), dtype=np.bool_)
    for j, (pid, (a, b)) in enumerate(zip(pair_ids, legs, strict=True)):
        for sym, keys in ((a, ("oa", "ca", "va")), (b, ("ob", "cb", "vb"))):
            leg = grid.join(
                bars.filter(pl.col("symbol") == sym).select("datetime", "open", "close", "volume"),
                on="datetime",
                how="left",
            ).sort("datetime")
            for key, col in zip(keys, ("open", "close", "volume"), strict=True):
                arr[key][:, j] = leg[col].cast(pl.Float64).fill_null(np.nan).to_numpy()
        s = grid.join(
            sp.filter(pl.col("pair_id") == pid).unique("datetime", keep="last"),
            on="datetime",
            how="left",
        ).sort("datetime")
        arr["be"][:, j] = s["beta"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        arr["z"][:, j] = s["z_score"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        arr["s"][:, j] = s["spread"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        trad[:, j] = s["tradable"].fill_null(False).to_numpy()
    ts = grid["datetime"].dt.epoch("us").to_numpy().astype(np.int64)
    return BacktestInputs(
        ts=ts,
        pair_ids=list(pair_ids),
        symbols_a=[a for a, _ in legs],
        symbols_b=[b for _, b in legs],
        open_a=np.ascontiguousarray(arr["oa"]),
        close_a=np.ascontiguousarray(arr["ca"]),
        vol_a=np.ascontiguousarray(arr["va"]),
        open_b=np.ascontiguousarray(arr["ob"]),
        close_b=np.ascontiguousarray(arr["cb"]),
        vol_b=np.ascontiguousarray(arr["vb"]),
        beta=np.ascontiguousarray(arr["be"]),
        z=np.ascontiguousarray(arr["z"]),
        spread=np.ascontiguousarray(arr["s"]),
        tradable=np.ascontiguousarray(trad),
    )
