"""Spreads, Kalman windows and OU fits of one chunk of selected pairs (the unit the alpha pipeline
streams and that Dask fans out).

For a chunk of pairs: the hedge-ratio filter over each pair's history (walk-forward mode) or the
hedge ratio frozen at each formation time (formation mode), then the OU fits and bands of the
resulting spreads, all from the chunk's own price columns. The spreads never leave the chunk except
as the rows to store, so the pipeline holds one chunk's series at a time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl

from statarb.alpha.bands import with_bands
from statarb.alpha.ou_fit import fit_ou_at_schedule, ou_record
from statarb.alpha.selection.formation import frozen_spreads
from statarb.alpha.spreads import _empty_kparams, _empty_spreads, kalman_spreads_for_pair
from statarb.conventions import UTC_US

OU_PARAMS_COLUMNS = (
    "pair_id", "window_start", "window_end", "theta", "mu", "sigma",
    "entry_upper", "entry_lower", "exit_threshold", "created_at",
)  # fmt: skip
OU_OUTPUT_COLUMNS = (
    "pair_id", "window_end", "theta", "mu", "sigma", "entry_upper", "entry_lower", "exit_threshold",
)  # fmt: skip
_FITS = {"window_start": UTC_US, "window_end": UTC_US, "theta": pl.Float64, "mu": pl.Float64,
         "sigma": pl.Float64, "pair_id": pl.String}  # fmt: skip


def _leg_panel(times: pl.Series, cols: np.ndarray, ia: int, ib: int) -> pl.DataFrame:
    ok = np.isfinite(cols[:, ia]) & np.isfinite(cols[:, ib])
    return pl.DataFrame(
        {"datetime": times.filter(pl.Series(ok)), "price_a": cols[ok, ia], "price_b": cols[ok, ib]}
    )


def _ou_tables(fits: list[pl.DataFrame], cfg, created: datetime) -> tuple[pl.DataFrame, ...]:
    fitted = pl.concat(fits) if fits else pl.DataFrame(schema=_FITS)
    fitted = with_bands(fitted, cfg.bands.k_entry, cfg.bands.k_exit).with_columns(
        pl.lit(created, dtype=UTC_US).alias("created_at")
    )
    return (
        fitted.select(OU_PARAMS_COLUMNS).sort("pair_id", "window_end"),
        fitted.select(OU_OUTPUT_COLUMNS).sort("pair_id", "window_end"),
    )


def series_chunk(
    cols: np.ndarray,
    times: pl.Series,
    pairs: list[tuple[str, int, int]],
    schedule: pl.Series,
    cfg,
    relations: pl.DataFrame | None,
    created: datetime,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """``(spread_series, kalman_params, ou_params, ou_output)`` rows of ``pairs``
    (``pair_id``, column of leg A, column of leg B in ``cols``; ``times`` the bar open times of
    the rows of ``cols``). ``relations`` (formation mode): ``pair_id, test_ts, beta`` at the
    formation times."""
    interval = timedelta(minutes=cfg.bar_minutes)
    o = cfg.ou
    rec = ou_record(o.window_bars, o.min_obs, o.dt, o.estimator, o.jackknife_blocks)
    if cfg.selection.mode == "formation":
        wide = pl.DataFrame(
            {"datetime": times, **{f"c{i}": cols[:, i] for i in range(cols.shape[1])}}
        )
        spreads, fits = frozen_spreads(
            wide, relations, [(p, f"c{a}", f"c{b}") for p, a, b in pairs],
            cfg.screening.window_bars, rec, interval,
        )  # fmt: skip
        kp = _empty_kparams().with_columns(pl.lit(None, dtype=UTC_US).alias("created_at"))
        return (spreads, kp, *_ou_tables([fits], cfg, created))
    spreads, kparams, fits = [_empty_spreads()], [_empty_kparams()], []
    for pair_id, ia, ib in pairs:
        s, k = kalman_spreads_for_pair(
            pair_id, _leg_panel(times, cols, ia, ib), schedule, cfg.kalman, interval,
            cfg.kalman.emit_state,
        )  # fmt: skip
        spreads.append(s)
        kparams.append(k)
        if s.height == 0:
            continue
        f = fit_ou_at_schedule(
            s.select("datetime", "spread"), schedule, window=o.window_bars, bar_interval=interval,
            min_obs=o.min_obs, dt=o.dt, estimator=o.estimator, blocks=o.jackknife_blocks,
        )  # fmt: skip
        fits.append(f.filter(pl.col("n_obs") >= o.min_obs).drop("n_obs")
                    .with_columns(pl.lit(pair_id).alias("pair_id")))  # fmt: skip
    kp = pl.concat(kparams).with_columns(pl.lit(created, dtype=UTC_US).alias("created_at"))
    return (pl.concat(spreads), kp, *_ou_tables(fits, cfg, created))
