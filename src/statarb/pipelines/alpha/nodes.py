"""Nodes of the ``alpha`` pipeline: universe -> schedule -> screening funnel -> spreads, OU fits.

Information time everywhere (docs/dev-contract.md): bar ``t`` is known at ``t + bar_interval``;
results stamped ``T`` use only such bars. Parameters: ``conf/base/parameters_alpha.yml`` (key
``alpha``), validated by :class:`statarb.alpha.config.AlphaConfig`. Outputs follow the storage
spec exactly (``spread_series`` §5.3, ``ou_output`` §5.4,
``pair_universe``/``cointegration_results``/``kalman_params``/``ou_params`` §4) plus the
``selection_log`` (docs/architecture.md). Only pairs the funnel selects at some test time get
spreads, Kalman and OU fits (spec §6.2).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
from tqdm.auto import tqdm

from statarb.alpha.bands import with_bands
from statarb.alpha.config import AlphaConfig
from statarb.alpha.ou_fit import fit_ou_at_schedule, ou_record
from statarb.alpha.schedule import build_schedule
from statarb.alpha.screening import screen_pairs
from statarb.alpha.selection.formation import formation_times, frozen_spreads
from statarb.alpha.spreads import _empty_kparams, _empty_spreads, kalman_spreads_for_pair
from statarb.alpha.universe import build_pair_universe
from statarb.compute import ComputeConfig, mapper_for
from statarb.conventions import UTC_US
from statarb.preprocess.panel import wide_panel

log = logging.getLogger(__name__)

OU_PARAMS_COLUMNS = (
    "pair_id", "window_start", "window_end", "theta", "mu", "sigma",
    "entry_upper", "entry_lower", "exit_threshold", "created_at",
)  # fmt: skip
OU_OUTPUT_COLUMNS = (
    "pair_id", "window_end", "theta", "mu", "sigma", "entry_upper", "entry_lower", "exit_threshold",
)  # fmt: skip


def _cfg(params: dict[str, Any] | AlphaConfig) -> AlphaConfig:
    return AlphaConfig.from_params(params, "alpha")


def _interval(cfg: AlphaConfig) -> timedelta:
    return timedelta(minutes=cfg.bar_minutes)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _collect(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


def _ou(cfg: AlphaConfig):
    o = cfg.ou
    return ou_record(o.window_bars, o.min_obs, o.dt, o.estimator, o.jackknife_blocks)


def _pairs(pair_universe: pl.DataFrame) -> list[tuple[str, str, str]]:
    return list(_collect(pair_universe).select("pair_id", "symbol_a", "symbol_b").iter_rows())


def build_universe(
    symbols: pl.DataFrame, symbols_raw: pl.DataFrame | None, params: dict[str, Any]
) -> pl.DataFrame:
    """``pair_universe`` rows from ``alpha.universe`` (see :mod:`statarb.alpha.universe`)."""
    uni = _cfg(params).universe
    sectors = symbols_raw if uni.mode == "sector" else None
    df = build_pair_universe(
        _collect(symbols), uni.model_dump(), sectors=sectors, created_at=_now()
    )
    log.info("alpha: pair universe of %d pairs (mode %s)", df.height, uni.mode)
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
    cfg = _cfg(params)
    return pl.DataFrame(
        {"test_ts": build_schedule(panel["datetime"], cfg.schedule, _interval(cfg))}
    )


def _decision_times(cfg: AlphaConfig, schedule: pl.DataFrame) -> list[datetime]:
    times = schedule["test_ts"].to_list()
    if cfg.selection.mode == "formation":
        return formation_times(times, cfg.selection.formation.every)
    return times


def _compute(params: dict[str, Any] | None) -> ComputeConfig | None:
    return None if params is None else ComputeConfig.from_params(params, "compute")


def screen_universe(
    panel: pl.DataFrame,
    pair_universe: pl.DataFrame,
    schedule: pl.DataFrame,
    params: dict[str, Any],
    compute: dict[str, Any] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The selection funnel at every decision time -> (``cointegration_results``,
    ``selection_log``); ``is_cointegrated`` is the funnel's final decision. Pairs are screened in
    chunks of ``compute.chunk_pairs``, here or on a Dask cluster (``compute.engine``)."""
    cfg = _cfg(params)
    comp = _compute(compute)
    with mapper_for(comp) as mapper:
        coint, sel_log = screen_pairs(
            panel, _pairs(pair_universe), _decision_times(cfg, schedule), cfg, _now(),
            progress=True, chunk_pairs=comp.chunk_pairs if comp else 256, mapper=mapper,
        )  # fmt: skip
    log.info(
        "alpha: funnel selected %d of %d pairs at some test time (%d tradable pair-tests of %d)",
        sel_log.filter(pl.col("tradable"))["pair_id"].n_unique(), sel_log["pair_id"].n_unique(),
        int(sel_log["tradable"].sum()), sel_log.height,
    )  # fmt: skip
    return coint, sel_log


def _selected(cointegration_results: pl.DataFrame, pair_universe: pl.DataFrame) -> list:
    ok = set(_collect(cointegration_results).filter(pl.col("is_cointegrated"))["pair_id"].to_list())
    return [p for p in _pairs(pair_universe) if p[0] in ok]


def _pair_panel(panel: pl.DataFrame, a: str, b: str) -> pl.DataFrame:
    """Inner join of the two legs on ``datetime`` (rows where either leg is null dropped)."""
    return (
        panel.select("datetime", pl.col(a).alias("price_a"), pl.col(b).alias("price_b"))
        .drop_nulls()
        .filter(pl.col("price_a").is_not_nan() & pl.col("price_b").is_not_nan())
    )


_WINDOW_FITS = {"pair_id": pl.String, "window_start": UTC_US, "window_end": UTC_US,
                "theta": pl.Float64, "mu": pl.Float64, "sigma": pl.Float64}  # fmt: skip


def compute_spreads(
    panel: pl.DataFrame,
    pair_universe: pl.DataFrame,
    cointegration_results: pl.DataFrame,
    schedule: pl.DataFrame,
    params: dict[str, Any],
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Spreads of the selected pairs -> (``spread_series``, ``kalman_params``, formation OU fits).

    Walk-forward mode: Kalman hedge ratio over the whole history (no formation fits). Formation
    mode: the hedge ratio frozen at each formation time
    (:mod:`statarb.alpha.selection.formation`); no Kalman, so ``kalman_params`` is empty, and the
    OU fits of each formation window are handed to :func:`fit_ou_params`."""
    cfg = _cfg(params)
    pairs = _selected(cointegration_results, pair_universe)
    if cfg.selection.mode == "formation":
        spreads, fits = frozen_spreads(
            panel, _relations(cointegration_results), pairs, cfg.screening.window_bars,
            _ou(cfg), _interval(cfg),
        )  # fmt: skip
        kp = _empty_kparams().with_columns(pl.lit(None, dtype=UTC_US).alias("created_at"))
        return spreads, kp, fits
    sched = schedule["test_ts"]
    spreads, kparams = [_empty_spreads()], [_empty_kparams()]
    for pair_id, a, b in tqdm(pairs, desc="alpha: Kalman", unit="pair"):
        s, k = kalman_spreads_for_pair(
            pair_id, _pair_panel(panel, a, b), sched, cfg.kalman, _interval(cfg),
            cfg.kalman.emit_state,
        )  # fmt: skip
        spreads.append(s)
        kparams.append(k)
    kp = pl.concat(kparams).with_columns(pl.lit(_now(), dtype=UTC_US).alias("created_at"))
    return pl.concat(spreads), kp, pl.DataFrame(schema=_WINDOW_FITS)


def _relations(cointegration_results: pl.DataFrame) -> pl.DataFrame:
    """``pair_id, test_ts, beta`` from the stored ``cointegrating_vector = [1, -beta]``."""
    c = _collect(cointegration_results).filter(pl.col("cointegrating_vector").is_not_null())
    vec = c["cointegrating_vector"].str.json_decode(pl.List(pl.Float64))
    return c.select("pair_id", "test_ts").with_columns(beta=-vec.list.get(1))


def fit_ou_params(
    spread_series: pl.DataFrame | pl.LazyFrame,
    formation_fits: pl.DataFrame,
    pair_universe: pl.DataFrame,
    schedule: pl.DataFrame,
    params: dict[str, Any],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """OU fits with bands -> (``ou_params``, ``ou_output``).

    Walk-forward mode: each pair's spread over the trailing ``alpha.ou.window_bars`` bars known at
    every schedule time. Windows with fewer than ``min_obs`` transitions are skipped; non
    mean-reverting windows are kept with NaN parameters (so an as-of join never falls back to a
    stale fit). Formation mode: the fits of the formation windows (``formation_fits``)."""
    cfg = _cfg(params)
    if cfg.selection.mode == "formation":
        return _ou_outputs([_collect(formation_fits)], cfg)
    ou = cfg.ou
    sched = schedule["test_ts"]
    spreads = _collect(spread_series).select("pair_id", "datetime", "spread")
    by_pair = spreads.partition_by("pair_id", as_dict=True, maintain_order=True)
    rows = []
    for pair_id in tqdm(
        _collect(pair_universe)["pair_id"].to_list(), desc="alpha: OU", unit="pair"
    ):
        sp = by_pair.get((pair_id,))
        if sp is None or sp.height == 0:
            continue
        fits = fit_ou_at_schedule(
            sp.sort("datetime"), sched, window=ou.window_bars, bar_interval=_interval(cfg),
            min_obs=ou.min_obs, dt=ou.dt, estimator=ou.estimator, blocks=ou.jackknife_blocks,
        )  # fmt: skip
        fits = fits.filter(pl.col("n_obs") >= ou.min_obs).drop("n_obs")
        rows.append(fits.with_columns(pl.lit(pair_id).alias("pair_id")))
    return _ou_outputs(rows, cfg)


def _ou_outputs(rows: list[pl.DataFrame], cfg: AlphaConfig) -> tuple[pl.DataFrame, pl.DataFrame]:
    if rows:
        fitted = pl.concat(rows)
    else:
        fitted = pl.DataFrame(
            schema={"window_start": UTC_US, "window_end": UTC_US, "theta": pl.Float64,
                    "mu": pl.Float64, "sigma": pl.Float64, "pair_id": pl.String}
        )  # fmt: skip
    fitted = with_bands(fitted, cfg.bands.k_entry, cfg.bands.k_exit)
    fitted = fitted.with_columns(pl.lit(_now(), dtype=UTC_US).alias("created_at"))
    ou_params = fitted.select(OU_PARAMS_COLUMNS).sort("pair_id", "window_end")
    ou_output = fitted.select(OU_OUTPUT_COLUMNS).sort("pair_id", "window_end")
    return ou_params, ou_output
