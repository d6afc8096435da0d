"""Nodes of the ``alpha`` pipeline: universe -> schedule -> screening, Kalman spreads, OU fits.

Information time everywhere (docs/dev-contract.md): bar ``t`` is known at ``t + bar_interval``;
results stamped ``T`` use only such bars. Parameters: ``conf/base/parameters_alpha.yml`` (key
``alpha``). Outputs follow the storage spec exactly (``spread_series`` §5.3, ``ou_output`` §5.4,
``pair_universe``/``cointegration_results``/``kalman_params``/``ou_params`` §4).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
from tqdm.auto import tqdm

from statarb.alpha.bands import with_bands
from statarb.alpha.ou_fit import fit_ou_at_schedule
from statarb.alpha.spreads import UTC_US, build_schedule, kalman_spreads_for_pair
from statarb.alpha.universe import build_pair_universe
from statarb.preprocess.panel import wide_panel

log = logging.getLogger(__name__)

OU_PARAMS_COLUMNS = (
    "pair_id", "window_start", "window_end", "theta", "mu", "sigma",
    "entry_upper", "entry_lower", "exit_threshold", "created_at",
)  # fmt: skip
OU_OUTPUT_COLUMNS = (
    "pair_id", "window_end", "theta", "mu", "sigma", "entry_upper", "entry_lower", "exit_threshold",
)  # fmt: skip


def _bar_interval(params: dict[str, Any]) -> timedelta:
    return timedelta(minutes=float(params.get("bar_minutes", 1)))


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _collect(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


def build_universe(
    symbols: pl.DataFrame, symbols_raw: pl.DataFrame | None, params: dict[str, Any]
) -> pl.DataFrame:
    """``pair_universe`` rows from ``alpha.universe`` (see :mod:`statarb.alpha.universe`)."""
    uni = params.get("universe", {})
    sectors = symbols_raw if uni.get("mode") == "sector" else None
    df = build_pair_universe(_collect(symbols), uni, sectors=sectors, created_at=_now())
    log.info("alpha: pair universe of %d pairs (mode %s)", df.height, uni.get("mode"))
    return df


def build_price_panel(bars_adjusted: pl.LazyFrame, pair_universe: pl.DataFrame) -> pl.DataFrame:
    """Wide close panel of the universe's symbols: ``datetime`` + one column per symbol.

    Adjusted closes; bars with ``outlier_flag = 1`` are null (excluded), as are missing bars.
    """
    pu = _collect(pair_universe)
    syms = sorted(set(pu["symbol_a"].to_list()) | set(pu["symbol_b"].to_list()))
    panel = wide_panel(bars_adjusted.lazy(), symbols=syms, price="close")
    missing = [s for s in syms if s not in panel.columns]
    if missing:
        raise ValueError(f"alpha: no bars_adjusted rows for universe symbols {missing}")
    return panel.with_columns(pl.col("datetime").cast(UTC_US))


def build_alpha_schedule(panel: pl.DataFrame, params: dict[str, Any]) -> pl.DataFrame:
    """Screening / OU / Kalman-window schedule ``test_ts`` (``alpha.schedule``)."""
    ts = build_schedule(panel["datetime"], params.get("schedule", {}), _bar_interval(params))
    return pl.DataFrame({"test_ts": ts})


def _pair_panel(panel: pl.DataFrame, a: str, b: str) -> pl.DataFrame:
    """Inner join of the two legs on ``datetime`` (rows where either leg is null dropped)."""
    return (
        panel.select("datetime", pl.col(a).alias("price_a"), pl.col(b).alias("price_b"))
        .drop_nulls()
        .filter(pl.col("price_a").is_not_nan() & pl.col("price_b").is_not_nan())
    )


def screen_universe(
    panel: pl.DataFrame, pair_universe: pl.DataFrame, schedule: pl.DataFrame, params: dict[str, Any]
) -> pl.DataFrame:
    """Walk-forward cointegration screening -> ``cointegration_results`` (via
    :func:`statarb.alpha.screening.screen_pairs`)."""
    from statarb.alpha.screening import screen_pairs

    scr = params.get("screening", {})
    pu = _collect(pair_universe)
    pairs = list(pu.select("pair_id", "symbol_a", "symbol_b").iter_rows())
    return screen_pairs(
        panel,
        pairs,
        schedule["test_ts"].to_list(),
        window_bars=int(scr.get("window_bars", 390 * 10)),
        pvalue_threshold=float(scr.get("pvalue_threshold", 0.05)),
        method=scr.get("method", "eg"),
        bar_interval=_bar_interval(params),
        min_obs=int(scr.get("min_obs", 390)),
        created_at=_now(),
    )


def compute_spreads(
    panel: pl.DataFrame, pair_universe: pl.DataFrame, schedule: pl.DataFrame, params: dict[str, Any]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Kalman hedge ratio for every universe pair -> (``spread_series``, ``kalman_params``)."""
    kal = params.get("kalman", {})
    interval = _bar_interval(params)
    sched = schedule["test_ts"]
    pu = _collect(pair_universe)
    spreads, kparams = [], []
    for pair_id, a, b in tqdm(
        list(pu.select("pair_id", "symbol_a", "symbol_b").iter_rows()),
        desc="alpha: Kalman",
        unit="pair",
    ):
        s, k = kalman_spreads_for_pair(
            pair_id,
            _pair_panel(panel, a, b),
            sched,
            kal,
            interval,
            bool(kal.get("emit_state", True)),
        )
        spreads.append(s)
        kparams.append(k)
    created = _now()
    kp = pl.concat(kparams).with_columns(pl.lit(created, dtype=UTC_US).alias("created_at"))
    return pl.concat(spreads), kp


def fit_ou_params(
    spread_series: pl.DataFrame | pl.LazyFrame,
    pair_universe: pl.DataFrame,
    schedule: pl.DataFrame,
    params: dict[str, Any],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """OU fit of each pair's spread over the trailing ``alpha.ou.window_bars`` bars known at every
    schedule time, with bands -> (``ou_params``, ``ou_output``). Windows with fewer than
    ``min_obs`` transitions are skipped; non mean-reverting windows are kept with NaN parameters
    (so an as-of join never falls back to a stale fit)."""
    ou = params.get("ou", {})
    interval = _bar_interval(params)
    sched = schedule["test_ts"]
    pu = _collect(pair_universe)
    spreads = _collect(spread_series).select("pair_id", "datetime", "spread")
    by_pair = spreads.partition_by("pair_id", as_dict=True, maintain_order=True)
    min_obs = int(ou.get("min_obs", 100))
    rows = []
    for pair_id in tqdm(pu["pair_id"].to_list(), desc="alpha: OU", unit="pair"):
        sp = by_pair.get((pair_id,))
        if sp is None or sp.height == 0:
            continue
        fits = fit_ou_at_schedule(
            sp.sort("datetime"),
            sched,
            window=int(ou.get("window_bars", 390 * 5)),
            bar_interval=interval,
            min_obs=min_obs,
            dt=float(ou.get("dt", 1.0)),
        )
        fits = fits.filter(pl.col("n_obs") >= min_obs).drop("n_obs")
        rows.append(fits.with_columns(pl.lit(pair_id).alias("pair_id")))
    if rows:
        fitted = pl.concat(rows)
    else:
        fitted = pl.DataFrame(
            schema={"window_start": UTC_US, "window_end": UTC_US, "theta": pl.Float64,
                    "mu": pl.Float64, "sigma": pl.Float64, "pair_id": pl.String}
        )  # fmt: skip
    bands = params.get("bands", {})
    fitted = with_bands(fitted, float(bands.get("k_entry", 2.0)), float(bands.get("k_exit", 0.0)))
    fitted = fitted.with_columns(pl.lit(_now(), dtype=UTC_US).alias("created_at"))
    ou_params = fitted.select(OU_PARAMS_COLUMNS).sort("pair_id", "window_end")
    ou_output = fitted.select(OU_OUTPUT_COLUMNS).sort("pair_id", "window_end")
    return ou_params, ou_output
