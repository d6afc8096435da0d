"""Per-pair Kalman spreads and window bookkeeping (schedule: :mod:`statarb.alpha.schedule`).

``spread_series`` rows (spec §5.3) and ``kalman_params`` rows (spec §4.2) for one pair, from an
aligned price panel (``datetime, price_a, price_b``; A is the dependent leg). The filter runs once
over the whole history; the history is cut at the schedule times ``T_k`` into windows, and the
filter is run window by window from the posterior entering each window (bit-identical to one
run), which is what ``kalman_params.initial_state`` stores. Information time: bar ``t`` (open time)
is known at ``t + bar_interval``; window ``k`` holds the bars with
``T_{k-1} < t + bar_interval <= T_k``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import numpy as np
import polars as pl

from statarb.alpha.kalman_filter import KalmanState, kalman_hedge, process_covariance
from statarb.conventions import UTC_US
from statarb.storage.parquet_schemas import SPREAD_SERIES


def _initial_state(cfg: Any, price_a0: float, pair_id: str | None = None) -> KalmanState:
    init = (cfg.warm_start or {}).get(pair_id) or cfg.initial_state.model_dump()
    if isinstance(init, str):  # a kalman_params.initial_state JSON (warm start)
        return KalmanState.from_json(init)
    P = init.get("P")
    if P is None:  # default: beta ~ N(beta0, 1), alpha diffuse on the price scale of leg A
        P = [[1.0, 0.0], [0.0, float(price_a0) ** 2]]
    return KalmanState(
        float(init.get("beta", 1.0)),
        float(init.get("alpha", 0.0)),
        ((float(P[0][0]), float(P[0][1])), (float(P[1][0]), float(P[1][1]))),
    )


def kalman_settings(
    cfg: Any, price_a0: float, pair_id: str | None = None
) -> tuple[float, float, KalmanState]:
    """``(q, R, initial)`` from ``alpha.kalman`` (:class:`statarb.alpha.config.KalmanConfig`):
    ``Q = q I`` with ``q = delta / (1 - delta)`` (Chan) unless ``process_noise`` is given;
    ``R = measurement_noise`` or, if null, ``(r_frac * first price of A)^2`` (known at the first
    bar, so no look-ahead).

    Initial state: ``warm_start[pair_id]`` if present (a ``kalman_params.initial_state`` JSON
    string or a ``{beta, alpha, P}`` mapping), else ``initial_state``; ``P`` null gives
    ``diag(1, price_a0^2)``. Q must be positive semi-definite (``q = 0``: a constant hedge ratio,
    recursive least squares), R and the initial P positive (semi-)definite; a violation names the
    parameter."""
    if cfg.process_noise is not None:
        q = float(process_covariance(q=float(cfg.process_noise))[0, 0])
    else:
        q = float(process_covariance(delta=float(cfg.delta))[0, 0])
    R = cfg.measurement_noise
    R = float(R) if R is not None else (float(cfg.r_frac) * float(price_a0)) ** 2
    if not (np.isfinite(R) and R > 0):
        raise ValueError(
            f"alpha.kalman.measurement_noise: R must be > 0, got {R} (r_frac={cfg.r_frac}, "
            f"first price of leg A {price_a0}{' of ' + pair_id if pair_id else ''})"
        )
    state = _initial_state(cfg, price_a0, pair_id)
    P = np.asarray(state.P, dtype=np.float64)
    if not (np.all(np.isfinite(P)) and np.allclose(P, P.T) and np.linalg.eigvalsh(P).min() >= 0):
        where = f"warm_start.{pair_id}" if (cfg.warm_start or {}).get(pair_id) else "initial_state"
        raise ValueError(
            f"alpha.kalman.{where}.P must be symmetric positive semi-definite, got {P.tolist()}"
        )
    return q, R, state


def kalman_spreads_for_pair(
    pair_id: str,
    panel: pl.DataFrame,
    schedule: pl.Series,
    cfg: Any,
    bar_interval: timedelta,
    emit_state: bool = True,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Run the filter over one pair's aligned panel; return ``(spread_rows, kalman_param_rows)``.

    ``spread_rows``: ``pair_id, datetime, spread, beta, z_score, kalman_state`` (spec §5.3;
    ``spread = price_a - beta * price_b - alpha`` with the filtered state of the same row;
    ``kalman_state`` = JSON ``{"alpha", "innovation", "innovation_var"}`` or null). One
    ``kalman_params`` row per non-empty window ending at a schedule time: ``window_start`` = open
    time of its first bar, ``window_end = T_k``, ``initial_state`` = posterior entering the window
    (:meth:`KalmanState.to_json`), ``process_noise = q`` (``Q = q I``), ``measurement_noise = R``.
    Bars after the last schedule time get spreads but no params row yet.
    """
    n = panel.height
    if n == 0:
        return _empty_spreads(), _empty_kparams()
    dts = panel["datetime"].cast(UTC_US)
    y = panel["price_a"].to_numpy().astype(np.float64)
    x = panel["price_b"].to_numpy().astype(np.float64)
    q, R, state = kalman_settings(cfg, y[0], pair_id)
    Q = q * np.eye(2)
    stops = (dts + bar_interval).search_sorted(schedule.cast(UTC_US), side="right").to_numpy()
    bounds = [0, *[int(s) for s in stops], n]
    cols = {k: [] for k in ("beta", "alpha", "innovation", "innovation_var", "z_score", "spread")}
    krows: list[dict[str, Any]] = []
    for k in range(len(bounds) - 1):
        lo, hi = bounds[k], bounds[k + 1]
        if hi <= lo:
            continue
        if k < len(stops):
            krows.append(
                {
                    "pair_id": pair_id,
                    "window_start": dts[lo],
                    "window_end": schedule[k],
                    "initial_state": state.to_json(),
                    "process_noise": q,
                    "measurement_noise": R,
                }
            )
        res = kalman_hedge(y[lo:hi], x[lo:hi], Q, R, state)
        for name in cols:
            cols[name].append(getattr(res, name))
        state = res.final_state
    out = {name: np.concatenate(parts) for name, parts in cols.items()}
    spreads = pl.DataFrame(
        {
            "pair_id": pl.Series([pair_id] * n, dtype=pl.String),
            "datetime": dts,
            "spread": out["spread"],
            "beta": out["beta"],
            "z_score": out["z_score"],
        }
    )
    if emit_state:
        state_col = pl.DataFrame(
            {
                "alpha": out["alpha"],
                "innovation": out["innovation"],
                "innovation_var": out["innovation_var"],
            }
        ).select(pl.struct(pl.all()).struct.json_encode().alias("kalman_state"))
        spreads = spreads.with_columns(state_col["kalman_state"])
    else:
        spreads = spreads.with_columns(pl.lit(None, dtype=pl.String).alias("kalman_state"))
    kparams = pl.DataFrame(krows, schema=_KPARAMS_SCHEMA) if krows else _empty_kparams()
    return spreads, kparams


_KPARAMS_SCHEMA = {
    "pair_id": pl.String,
    "window_start": UTC_US,
    "window_end": UTC_US,
    "initial_state": pl.String,
    "process_noise": pl.Float64,
    "measurement_noise": pl.Float64,
}


def _empty_spreads() -> pl.DataFrame:
    return pl.DataFrame(schema=SPREAD_SERIES)


def _empty_kparams() -> pl.DataFrame:
    return pl.DataFrame(schema=_KPARAMS_SCHEMA)


def replay_window(
    kparams_row: Mapping[str, Any], panel: pl.DataFrame, bar_interval: timedelta
) -> pl.DataFrame:
    """Warm start from a ``kalman_params`` row: re-run the filter over the bars of its window
    (``window_start <= t`` and ``t + bar_interval <= window_end``) from ``initial_state``.
    Returns ``datetime, beta, spread, z_score`` (equal to the ``spread_series`` rows)."""
    win = panel.filter(
        (pl.col("datetime") >= kparams_row["window_start"])
        & (pl.col("datetime") + bar_interval <= kparams_row["window_end"])
    )
    q = float(kparams_row["process_noise"])
    res = kalman_hedge(
        win["price_a"].to_numpy(),
        win["price_b"].to_numpy(),
        q * np.eye(2),
        float(kparams_row["measurement_noise"]),
        KalmanState.from_json(kparams_row["initial_state"]),
    )
    return pl.DataFrame(
        {
            "datetime": win["datetime"],
            "beta": res.beta,
            "spread": res.spread,
            "z_score": res.z_score,
        }
    )


def decode_kalman_state(text: str) -> dict[str, float]:
    """Parse one ``spread_series.kalman_state`` JSON string."""
    return {k: float(v) if v is not None else float("nan") for k, v in json.loads(text).items()}
