"""Per-pair Kalman spreads, window bookkeeping and the information-time schedule.

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
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from statarb.alpha.kalman_filter import KalmanState, kalman_hedge, process_covariance
from statarb.storage.parquet_schemas import SPREAD_SERIES

UTC_US = pl.Datetime("us", "UTC")
SCHEDULE_MODES = ("session_close", "weekly", "monthly", "every_n_bars", "explicit")


def build_schedule(
    datetimes: pl.Series, params: Mapping[str, Any], bar_interval: timedelta
) -> pl.Series:
    """Schedule times ``T`` (sorted, unique, ``Datetime(us, UTC)``) from the bar open times.

    ``mode``: ``session_close`` (per UTC date, last bar open + ``bar_interval``: US sessions never
    cross UTC midnight), ``weekly`` / ``monthly`` (close of the last session of each ISO week /
    calendar month in ``session_tz``, default America/New_York, via
    :func:`statarb.alpha.screening.build_schedule`), ``every_n_bars`` (``n``: after every ``n``-th bar of the timeline, at
    its close), ``explicit`` (``times``: ISO strings with offset, or naive = UTC).
    """
    mode = params.get("mode", "session_close")
    dts = datetimes.cast(UTC_US).unique().sort()
    if mode == "session_close":
        ends = (
            pl.DataFrame({"dt": dts})
            .group_by(pl.col("dt").dt.date().alias("d"))
            .agg(pl.col("dt").max())["dt"]
        )
        out = ends + bar_interval
    elif mode in ("weekly", "monthly"):
        from statarb.alpha.screening import build_schedule as period_ends

        tz = params.get("session_tz", "America/New_York")
        ends = period_ends(dts.cast(pl.Int64).to_numpy(), mode, bar_interval, tz)
        out = pl.Series(ends, dtype=UTC_US)
    elif mode == "every_n_bars":
        n = int(params.get("n", 0))
        if n < 1:
            raise ValueError(f"alpha.schedule.n must be >= 1 for every_n_bars, got {n}")
        out = dts.gather(np.arange(n - 1, dts.len(), n)) + bar_interval
    elif mode == "explicit":
        times = params.get("times") or []
        parsed = []
        for s in times:
            t = s if isinstance(s, datetime) else datetime.fromisoformat(str(s))
            parsed.append(t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC))
        out = pl.Series(parsed, dtype=UTC_US)
    else:
        raise ValueError(f"alpha.schedule.mode must be one of {SCHEDULE_MODES}, got {mode!r}")
    return out.cast(UTC_US).unique().sort().rename("test_ts")


def _initial_state(
    params: Mapping[str, Any], price_a0: float, pair_id: str | None = None
) -> KalmanState:
    init = (params.get("warm_start") or {}).get(pair_id) or params.get("initial_state") or {}
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
    params: Mapping[str, Any], price_a0: float, pair_id: str | None = None
) -> tuple[float, float, KalmanState]:
    """``(q, R, initial)`` from ``alpha.kalman``: ``Q = q I`` with ``q = delta / (1 - delta)``
    (Chan) unless ``process_noise`` is given; ``R = measurement_noise`` or, if null,
    ``(r_frac * first price of A)^2`` (known at the first bar, so no look-ahead).

    Initial state: ``warm_start[pair_id]`` if present (a ``kalman_params.initial_state`` JSON
    string or a ``{beta, alpha, P}`` mapping), else ``initial_state`` (same forms), else the
    default ``beta = 1, alpha = 0, P = diag(1, price_a0^2)``."""
    if params.get("process_noise") is not None:
        q = float(process_covariance(q=float(params["process_noise"]))[0, 0])
    else:
        q = float(process_covariance(delta=float(params.get("delta", 1e-10)))[0, 0])
    R = params.get("measurement_noise")
    R = float(R) if R is not None else (float(params.get("r_frac", 0.005)) * float(price_a0)) ** 2
    if not R > 0:
        raise ValueError(f"alpha.kalman measurement noise must be > 0, got {R}")
    return q, R, _initial_state(params, price_a0, pair_id)


def kalman_spreads_for_pair(
    pair_id: str,
    panel: pl.DataFrame,
    schedule: pl.Series,
    params: Mapping[str, Any],
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
    q, R, state = kalman_settings(params, y[0], pair_id)
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
