"""Walk-forward cointegration screening of candidate pairs -> ``cointegration_results`` rows.

At every test time ``T`` of the schedule, each pair ``(pair_id, a, b)`` is tested on the trailing
``window_bars`` bars that are known at ``T`` (dev-contract information time: a bar opened at ``t``
is known at ``t + bar_interval``, so only bars with ``t + bar_interval <= T`` are used) and where
both legs have a finite, positive price (inner join; outlier bars removed). ``a`` is the dependent
leg ``y`` and ``b`` the regressor ``x``; the spread is ``a - beta * b``.

Engle-Granger runs through the batch kernel (pairs with equal window length are tested in one
parallel call); with ``method="both"`` the Johansen trace test (r = 0, ``det_order``,
``k_ar_diff``) is run on the same window and ``is_cointegrated`` requires both p-values below the
threshold. A pair with fewer than ``min_obs`` usable bars at ``T`` gets a row with NaN statistics
and ``is_cointegrated = False`` (logged), so gating switches it off rather than keeping a stale test.

Schedules: an explicit list of test times, or "daily" / "weekly" / "monthly": the close of the last
bar (``datetime + bar_interval``) of the last session of each day / ISO week / month, sessions
being exchange-local dates in ``session_tz``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
from tqdm.auto import tqdm

from statarb.alpha.adf_lagsearch import check_sample, resolve_maxlag
from statarb.alpha.engle_granger import engle_granger_batch
from statarb.alpha.johansen import johansen

log = logging.getLogger(__name__)

RESULT_SCHEMA: dict[str, pl.DataType] = {
    "pair_id": pl.String(),
    "test_ts": pl.Datetime("us", "UTC"),
    "adf_statistic": pl.Float64(),
    "adf_pvalue": pl.Float64(),
    "johansen_trace": pl.Float64(),
    "johansen_pvalue": pl.Float64(),
    "cointegrating_vector": pl.String(),
    "is_cointegrated": pl.Boolean(),
    "created_at": pl.Datetime("us", "UTC"),
}
_PRICE_COLS = ("close", "price")
_SYMBOL_COLS = ("symbol", "symbol_id")


def _to_utc_us(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        return col.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    return col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def to_wide(prices: pl.DataFrame, symbols: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(times_us, matrix)``: sorted UTC bar open times (int64 microseconds) and prices
    ``(n_times, len(symbols))`` with NaN where a symbol has no usable bar.

    Accepts wide frames (``datetime`` + one column per symbol) or long frames (``datetime``,
    ``symbol``/``symbol_id``, ``close``/``price``, optional ``outlier_flag``; flagged rows dropped).
    """
    if "datetime" not in prices.columns:
        raise ValueError(f"prices need a 'datetime' column, got {prices.columns}")
    sym_col = next((c for c in _SYMBOL_COLS if c in prices.columns), None)
    df = prices.with_columns(_to_utc_us(pl.col("datetime"), prices.schema["datetime"]))
    if sym_col is not None:
        px_col = next((c for c in _PRICE_COLS if c in df.columns), None)
        if px_col is None:
            raise ValueError(f"long-format prices need one of {_PRICE_COLS}, got {df.columns}")
        if "outlier_flag" in df.columns:
            df = df.filter(pl.col("outlier_flag").fill_null(0) != 1)
        df = df.filter(pl.col(sym_col).is_in(list(symbols)))
        dup = df.select("datetime", sym_col).is_duplicated()
        if dup.any():
            row = df.filter(dup).row(0, named=True)
            raise ValueError(f"duplicate bar for {row[sym_col]} at {row['datetime']}")
        df = df.pivot(on=sym_col, index="datetime", values=px_col)
    missing = [s for s in symbols if s not in df.columns]
    if missing:
        raise ValueError(f"symbols not found in prices: {missing}")
    df = df.select("datetime", *symbols).sort("datetime")
    times = df["datetime"].dt.epoch("us").to_numpy()
    mat = df.select(pl.col(s).cast(pl.Float64) for s in symbols).to_numpy(allow_copy=True)
    mat = np.where(np.isfinite(mat) & (mat > 0), mat, np.nan)
    return times, mat


def build_schedule(
    times_us: np.ndarray, freq: str, bar_interval: timedelta, session_tz: str = "America/New_York"
) -> list[datetime]:
    """Session-end test times: close of the last bar of each day / ISO week / month."""
    if freq not in ("daily", "weekly", "monthly"):
        raise ValueError(
            f"schedule must be a list of datetimes or daily/weekly/monthly, got {freq!r}"
        )
    close = pl.Series("t", times_us + int(bar_interval / timedelta(microseconds=1)))
    df = pl.DataFrame({"close": close.cast(pl.Datetime("us", "UTC"))}).with_columns(
        local=pl.col("close").dt.convert_time_zone(session_tz)
        - pl.duration(microseconds=int(bar_interval / timedelta(microseconds=1)))
    )
    key = {
        "daily": pl.col("local").dt.date(),
        "weekly": pl.col("local").dt.truncate("1w"),
        "monthly": pl.col("local").dt.truncate("1mo"),
    }[freq]
    out = df.group_by(key.alias("k")).agg(pl.col("close").max()).sort("k")
    return out["close"].to_list()


def _ts_us(t: datetime) -> int:
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return int((t - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))


def screen_pairs(
    prices: pl.DataFrame,
    pairs: Sequence[tuple[str, str, str]],
    schedule: Sequence[datetime] | str,
    window_bars: int,
    pvalue_threshold: float = 0.05,
    method: str = "eg",
    bar_interval: timedelta = timedelta(minutes=1),
    min_obs: int | None = None,
    *,
    maxlag: int | None = None,
    autolag: str | None = "aic",
    det_order: int = 0,
    k_ar_diff: int = 1,
    session_tz: str = "America/New_York",
    created_at: datetime | None = None,
    progress: bool = True,
) -> pl.DataFrame:
    """Walk-forward Engle-Granger (and optionally Johansen) screening; see the module docstring.

    Returns one row per (pair, test time) with exactly the ``cointegration_results`` columns
    (without the auto-increment ``id``). ``min_obs`` defaults to ``window_bars``.
    """
    if method not in ("eg", "both"):
        raise ValueError(f"method must be 'eg' or 'both', got {method!r}")
    if window_bars < 20:
        raise ValueError(f"window_bars must be >= 20, got {window_bars}")
    min_obs = window_bars if min_obs is None else int(min_obs)
    try:  # the shortest admissible window must support the ADF lag regression
        check_sample(min_obs, resolve_maxlag(min_obs, maxlag))
    except ValueError as exc:
        raise ValueError(f"min_obs={min_obs} is too small: {exc}") from exc
    symbols = sorted({s for _, a, b in pairs for s in (a, b)})
    col = {s: i for i, s in enumerate(symbols)}
    times, mat = to_wide(prices, symbols)
    step = int(bar_interval / timedelta(microseconds=1))
    if isinstance(schedule, str):
        schedule = build_schedule(times, schedule, bar_interval, session_tz)
    created = created_at or datetime.now(UTC)
    known_at = times + step
    valid = np.isfinite(mat)
    rows: list[dict] = []
    n_short = 0
    for test_ts in tqdm(
        schedule, desc="cointegration screening", disable=not progress or len(schedule) < 5
    ):
        end = int(np.searchsorted(known_at, _ts_us(test_ts), side="right"))
        by_len: dict[int, list[tuple[str, np.ndarray, np.ndarray]]] = {}
        for pair_id, a, b in pairs:
            ok = _window_rows(valid[:, col[a]], valid[:, col[b]], end, window_bars)
            if ok.size < min_obs:
                n_short += 1
                log.debug(
                    "pair %s at %s: %d usable bars < min_obs=%d, marked not cointegrated",
                    pair_id,
                    test_ts,
                    ok.size,
                    min_obs,
                )
                rows.append(_row(pair_id, test_ts, created))
                continue
            by_len.setdefault(ok.size, []).append((pair_id, mat[ok, col[a]], mat[ok, col[b]]))
        for group in by_len.values():
            res = engle_granger_batch(
                np.column_stack([g[1] for g in group]),
                np.column_stack([g[2] for g in group]),
                maxlag=maxlag,
                autolag=autolag,
            )
            for j, (pair_id, y, x) in enumerate(group):
                p = float(res["pvalue"][j])
                row = _row(
                    pair_id, test_ts, created, float(res["stat"][j]), p, float(res["beta"][j])
                )
                passed = p < pvalue_threshold
                if method == "both":
                    jo = johansen(np.column_stack([y, x]), det_order, k_ar_diff)
                    row["johansen_trace"] = float(jo.trace_stat[0])
                    row["johansen_pvalue"] = float(jo.trace_pvalue[0])
                    passed = passed and row["johansen_pvalue"] < pvalue_threshold
                row["is_cointegrated"] = bool(passed)
                rows.append(row)
    out = pl.DataFrame(rows, schema=RESULT_SCHEMA).sort("test_ts", "pair_id")
    log.info(
        "screening: %d tests of %d pairs, %d cointegrated at p < %g; %d pair-tests had fewer than "
        "min_obs=%d usable bars and are marked not cointegrated",
        len(schedule),
        len(pairs),
        int(out["is_cointegrated"].sum()),
        pvalue_threshold,
        n_short,
        min_obs,
    )
    return out


def _window_rows(va: np.ndarray, vb: np.ndarray, end: int, k: int) -> np.ndarray:
    """Indices of the last ``k`` rows before ``end`` where both legs are valid (fewer if absent).

    Scans a trailing slice that doubles until it holds ``k`` valid rows, so the cost is
    proportional to the window, not to the history.
    """
    span = k
    while True:
        lo = max(0, end - span)
        ok = np.flatnonzero(va[lo:end] & vb[lo:end])
        if ok.size >= k or lo == 0:
            return lo + ok[-k:]
        span *= 2


def _row(pair_id, test_ts, created, stat=None, pvalue=None, beta=None) -> dict:
    return {
        "pair_id": pair_id,
        "test_ts": test_ts if test_ts.tzinfo else test_ts.replace(tzinfo=UTC),
        "adf_statistic": stat,
        "adf_pvalue": pvalue,
        "johansen_trace": None,
        "johansen_pvalue": None,
        "cointegrating_vector": None if beta is None else json.dumps([1.0, -beta]),
        "is_cointegrated": False,
        "created_at": created,
    }
