"""Ground-truth recovery of the alpha pipeline on synthetic data (recall, FPR, break, beta RMSE).

Inputs are the pipeline's own outputs (``cointegration_results``, ``spread_series``) and the
generator's ground truth (``pairs.json`` records and ``beta_paths.parquet``, see
``docs/synthetic-data.md``). Definitions (also in ``docs/alpha.md``, "Recovery on the default
data"):

* **Full-window test.** A screening row stamped ``T`` whose trailing window holds ``window_bars``
  bars of the bar timeline known at ``T`` (bar open ``t`` known at ``t + bar_interval``). Its
  window starts at the open time of the ``window_bars``-th last such bar.
* **Eligible test of a cointegrated pair.** A full-window test that lies before any break:
  ``T <= break_ts`` (every bar used opened before the break; pairs without break: all full-window
  tests).
* **Tradable set.** The pairs flagged (``is_cointegrated``, the selection funnel's final
  decision) at one full-window test or more. A constructed pair in it is a true positive when it is
  flagged at one of its eligible tests; every other member is a false positive.
  **Precision** = true positives / size of the set; **recall** = true positives / constructed
  pairs (all kinds, the break pair with its pre-break tests).
* **Found (majority)**: flagged at a strict majority of its eligible tests (``n_found_majority``).
* **Per-test recall** = flagged eligible tests / eligible tests, pooled over constructed pairs.
* **Flag precision** = flagged eligible tests / all flagged full-window tests.
* **FPR** (per test, after the funnel's correction) = flagged / full-window tests, pooled over
  screened pairs that are not cointegrated (``kind == "none"``); **raw FPR** counts instead the
  tests whose raw p-value (largest of ``adf_pvalue``/``johansen_pvalue``) is below the level; the
  pair-level FPR counts non-cointegrated pairs flagged at a majority.
* **Post-break rate** of a break pair = flagged / full-window tests whose window starts at or
  after ``break_ts`` (the window lies entirely after the break); ``post_break_rate_any`` counts
  every test after ``break_ts``.
* **Beta RMSE** = ``sqrt(mean((beta_kalman - beta_true)^2))`` over the bars of ``spread_series``
  joined to ``beta_paths`` on ``(pair_id, datetime)``, after a burn-in of ``burn_in_bars`` bars of
  the pair and, for a break pair, before ``break_ts``.

The false-positive rate of Engle-Granger on a leg of a constructed pair against a third name is
above nominal because such a leg is a random walk plus a large stationary component (an
ARIMA(0,1,1) with a negative MA root), for which ADF tests are oversized (Schwert 1989,
*J. Bus. Econ. Stat.* 7(2), 147-159). :func:`fpr_by_leg_exposure` separates these pairs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from statarb.conventions import UTC_US

TRUTH_SCHEMA = {
    "pair_id": pl.String,
    "kind": pl.String,
    "cointegrated": pl.Boolean,
    "break_ts": UTC_US,
    "symbol_a": pl.String,
    "symbol_b": pl.String,
}


@dataclass(frozen=True)
class RecoverySummary:
    """Headline numbers of :func:`summarize` (rates in [0, 1]; NaN when nothing to count)."""

    precision: float  # true positives / tradable set
    recall: float  # true positives / constructed pairs
    per_test_recall: float  # pooled over constructed pairs' eligible tests
    flag_precision: float  # flagged eligible tests / flagged full-window tests
    fpr: float  # per test after correction, pooled over non-cointegrated pairs
    raw_fpr: float  # per test, raw p-value below the level
    fpr_pairs: float  # non-cointegrated pairs flagged at a majority of their tests
    post_break_rate: float  # break pairs, windows entirely after the break (pooled)
    post_break_rate_any: float  # break pairs, every test after the break
    n_constructed: int
    n_tradable: int  # size of the tradable set
    n_found: int  # true positives
    n_found_majority: int
    n_none_pairs: int

    def as_dict(self) -> dict[str, float | int]:
        """Plain dict (for logging / reports)."""
        return dict(self.__dict__)


def truth_frame(records: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """Ground truth as a frame: ``pair_id, kind, cointegrated, break_ts, symbol_a, symbol_b``.

    ``records`` are ``pairs.json`` records (``statarb.synthetic.generator.pairs_truth``);
    ``break_ts`` is parsed from its UTC ISO string (null when absent).
    """
    rows = []
    for r in records:
        bts = r.get("break_ts")
        if isinstance(bts, str):
            bts = datetime.fromisoformat(bts.replace("Z", "+00:00"))
        rows.append(
            {
                "pair_id": r["pair_id"],
                "kind": r["kind"],
                "cointegrated": bool(r["cointegrated"]),
                "break_ts": bts,
                "symbol_a": r["symbol_a"],
                "symbol_b": r["symbol_b"],
            }
        )
    return pl.DataFrame(rows, schema=TRUTH_SCHEMA)


def load_ground_truth(
    pairs_path: str | Path, beta_path: str | Path
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read the truth's pairs JSON (as :func:`truth_frame`) and its beta paths Parquet (the
    catalog entries ``ground_truth_pairs`` / ``ground_truth_beta_paths``)."""
    pairs_path, beta_path = Path(pairs_path), Path(beta_path)
    for p in (pairs_path, beta_path):
        if not p.exists():
            raise FileNotFoundError(f"ground truth file {p} does not exist (run statarb generate)")
    truth = truth_frame(json.loads(pairs_path.read_text()))
    beta = pl.read_parquet(beta_path).with_columns(pl.col("datetime").cast(UTC_US))
    return truth, beta


def window_starts(
    coint: pl.DataFrame,
    bar_times: pl.Series | np.ndarray,
    window_bars: int,
    bar_interval: timedelta = timedelta(minutes=1),
) -> pl.DataFrame:
    """Add ``window_start`` (open time of the first bar of the trailing window known at
    ``test_ts``; null when fewer than ``window_bars`` bars are known) to ``coint``.

    ``bar_times`` is the bar timeline (open times; any order, duplicates ignored).
    """
    if window_bars < 1:
        raise ValueError(f"window_bars must be >= 1, got {window_bars}")
    t = pl.Series(bar_times).cast(UTC_US).unique().sort()
    t_us = t.dt.epoch("us").to_numpy()
    step = int(bar_interval / timedelta(microseconds=1))
    test_us = coint["test_ts"].cast(UTC_US).dt.epoch("us").to_numpy()
    end = np.searchsorted(t_us + step, test_us, side="right")  # bars known at T: [0, end)
    first = end - window_bars
    full = first >= 0
    if not full.any():  # also covers an empty timeline
        return coint.with_columns(pl.lit(None, dtype=UTC_US).alias("window_start"))
    start = np.where(full, t_us[np.clip(first, 0, len(t_us) - 1)], 0)
    ws = pl.Series("window_start", start, dtype=pl.Int64).cast(UTC_US)
    return coint.with_columns(
        pl.when(pl.Series(full)).then(ws).otherwise(None).alias("window_start")
    )


def classify_tests(
    coint: pl.DataFrame,
    truth: pl.DataFrame,
    bar_times: pl.Series | np.ndarray,
    window_bars: int,
    bar_interval: timedelta = timedelta(minutes=1),
) -> pl.DataFrame:
    """Screening rows of the screened pairs with truth and a ``phase`` per row.

    ``phase``: ``pre`` (full window, cointegrated pair, ``T <= break_ts`` or no break), ``post``
    (full window starting at or after ``break_ts``), ``straddle`` (window contains the break),
    ``none`` (full window, non-cointegrated pair), ``partial`` (window not full).
    """
    missing = set(coint["pair_id"].unique().to_list()) - set(truth["pair_id"].to_list())
    if missing:
        raise ValueError(
            f"cointegration_results pairs absent from the ground truth: {sorted(missing)[:5]}"
        )
    raw = pl.max_horizontal(
        *(pl.col(c) for c in ("adf_pvalue", "johansen_pvalue") if c in coint.columns)
    )
    df = window_starts(
        coint.select("pair_id", "test_ts", "is_cointegrated", raw.alias("raw_pvalue")),
        bar_times,
        window_bars,
        bar_interval,
    ).join(truth, on="pair_id", how="left")
    phase = (
        pl.when(pl.col("window_start").is_null())
        .then(pl.lit("partial"))
        .when(~pl.col("cointegrated"))
        .then(pl.lit("none"))
        .when(pl.col("break_ts").is_null() | (pl.col("test_ts") <= pl.col("break_ts")))
        .then(pl.lit("pre"))
        .when(pl.col("window_start") >= pl.col("break_ts"))
        .then(pl.lit("post"))
        .otherwise(pl.lit("straddle"))
    )
    return df.with_columns(phase.alias("phase"), pl.col("is_cointegrated").fill_null(False))


def recovery_by_pair(classified: pl.DataFrame) -> pl.DataFrame:
    """Per pair: ``n_pre, flag_rate_pre, found`` (constructed pairs), ``n_none, flag_rate_none``
    (non-cointegrated pairs), ``n_post, flag_rate_post`` (break pairs)."""

    def rate(phase: str) -> list[pl.Expr]:
        m = pl.col("phase") == phase
        n = m.sum().alias(f"n_{phase}")
        r = (pl.col("is_cointegrated") & m).sum() / m.sum()
        return [n, r.alias(f"flag_rate_{phase}")]

    full = pl.col("phase") != "partial"
    out = (
        classified.group_by("pair_id", "kind", "cointegrated")
        .agg(
            *rate("pre"),
            *rate("none"),
            *rate("post"),
            tradable=(pl.col("is_cointegrated") & full).any(),
            tradable_pre=(pl.col("is_cointegrated") & (pl.col("phase") == "pre")).any(),
        )
        .with_columns(
            found=pl.when(pl.col("cointegrated")).then(pl.col("tradable_pre")),
            found_majority=pl.when(pl.col("cointegrated")).then(pl.col("flag_rate_pre") > 0.5),
            flagged_majority=pl.when(~pl.col("cointegrated")).then(pl.col("flag_rate_none") > 0.5),
        )
    )
    return out.sort(pl.col("cointegrated").not_(), "pair_id")


def summarize(classified: pl.DataFrame, level: float = 0.05) -> RecoverySummary:
    """Precision and recall of the tradable set, per-test recall, flag precision, FPR (after
    correction, raw at ``level``, per pair) and post-break rates; see the module docstring."""
    by_pair = recovery_by_pair(classified)
    cons = by_pair.filter(pl.col("cointegrated"))
    none = by_pair.filter(~pl.col("cointegrated"))
    nan = float("nan")

    def pooled(d: pl.DataFrame, col: pl.Expr | None = None) -> float:
        col = pl.col("is_cointegrated") if col is None else col
        return float(d.select(col.mean()).item()) if d.height else nan

    n_found = int(cons["found"].fill_null(False).sum())
    n_tradable = int(by_pair["tradable"].sum())
    flagged = classified.filter(pl.col("is_cointegrated") & (pl.col("phase") != "partial"))
    none_tests = classified.filter(pl.col("phase") == "none")
    brk = classified.filter(pl.col("break_ts").is_not_null() & pl.col("cointegrated"))
    return RecoverySummary(
        precision=n_found / n_tradable if n_tradable else nan,
        recall=n_found / cons.height if cons.height else nan,
        per_test_recall=pooled(classified.filter(pl.col("phase") == "pre")),
        flag_precision=float((flagged["phase"] == "pre").mean()) if flagged.height else nan,
        fpr=pooled(none_tests),
        raw_fpr=pooled(none_tests, (pl.col("raw_pvalue") < level).fill_null(False)),
        fpr_pairs=float(none["flagged_majority"].mean()) if none.height else nan,
        post_break_rate=pooled(classified.filter(pl.col("phase") == "post")),
        post_break_rate_any=pooled(brk.filter(pl.col("test_ts") > pl.col("break_ts"))),
        n_constructed=cons.height,
        n_tradable=n_tradable,
        n_found=n_found,
        n_found_majority=int(cons["found_majority"].fill_null(False).sum()),
        n_none_pairs=none.height,
    )


def fpr_by_leg_exposure(classified: pl.DataFrame) -> pl.DataFrame:
    """Per-test FPR of non-cointegrated pairs split by whether a leg belongs to a constructed pair
    (``leg_of_pair``: 0, 1 or 2 such legs). Legs of constructed pairs are RW + stationary noise,
    where ADF is oversized (Schwert 1989)."""
    cons = classified.filter(pl.col("cointegrated"))
    legs = set(cons["symbol_a"].to_list()) | set(cons["symbol_b"].to_list())
    legs_list = sorted(legs)
    return (
        classified.filter(pl.col("phase") == "none")
        .with_columns(
            leg_of_pair=pl.col("symbol_a").is_in(legs_list).cast(pl.Int32)
            + pl.col("symbol_b").is_in(legs_list).cast(pl.Int32)
        )
        .group_by("leg_of_pair")
        .agg(
            pl.col("pair_id").n_unique().alias("n_pairs"),
            pl.len().alias("n_tests"),
            pl.col("is_cointegrated").mean().alias("fpr"),
        )
        .sort("leg_of_pair")
    )


def beta_rmse(
    spread_series: pl.DataFrame | pl.LazyFrame,
    beta_paths: pl.DataFrame,
    truth: pl.DataFrame,
    burn_in_bars: int,
    pair_ids: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Per constructed pair: RMSE, mean absolute error, and RMSE relative to the mean true beta of
    the Kalman ``beta`` against ``beta_paths`` (same ``pair_id, datetime``), skipping the pair's
    first ``burn_in_bars`` bars and, for a break pair, bars at or after ``break_ts``."""
    if burn_in_bars < 0:
        raise ValueError(f"burn_in_bars must be >= 0, got {burn_in_bars}")
    sp = spread_series.lazy().select("pair_id", pl.col("datetime").cast(UTC_US), "beta")
    ids = pair_ids if pair_ids is not None else beta_paths["pair_id"].unique().to_list()
    sp = sp.filter(pl.col("pair_id").is_in(list(ids)))
    bp = beta_paths.lazy().select(
        "pair_id", pl.col("datetime").cast(UTC_US), pl.col("beta").alias("beta_true")
    )
    joined = (
        sp.join(bp, on=["pair_id", "datetime"], how="inner")
        .join(truth.lazy().select("pair_id", "kind", "break_ts"), on="pair_id", how="left")
        .sort("pair_id", "datetime")
        .with_columns(i=pl.int_range(pl.len()).over("pair_id"))
        .filter(
            (pl.col("i") >= burn_in_bars)
            & (pl.col("break_ts").is_null() | (pl.col("datetime") < pl.col("break_ts")))
            & pl.col("beta").is_finite()
        )
        .with_columns(err=pl.col("beta") - pl.col("beta_true"))
    )
    return (
        joined.group_by("pair_id", "kind")
        .agg(
            pl.len().alias("n_bars"),
            (pl.col("err") ** 2).mean().sqrt().alias("rmse"),
            pl.col("err").abs().mean().alias("mae"),
            ((pl.col("err") ** 2).mean().sqrt() / pl.col("beta_true").mean()).alias("rel_rmse"),
        )
        .sort("pair_id")
        .collect()
    )


def expanding_ols_beta(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Slope of the OLS regression of ``y`` on ``[1, x]`` over all bars up to and including each
    bar (expanding window; bars where either value is non-finite are skipped and get NaN, as do
    bars before two valid observations with distinct ``x``).

    This is recursive least squares, i.e. the Kalman filter of ``docs/alpha.md`` with ``Q = 0`` and
    a diffuse prior (Harvey 1989, section 3.2): the benchmark for a constant hedge ratio that uses
    the same information as the filter. Computed from running sums (centred on the first valid
    bar for numerical stability).
    """
    y = np.asarray(y, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if y.shape != x.shape or y.ndim != 1:
        raise ValueError(f"y and x must be 1-D of equal length, got {y.shape} and {x.shape}")
    ok = np.isfinite(y) & np.isfinite(x)
    out = np.full(y.shape, np.nan)
    if not ok.any():
        return out
    first = int(np.argmax(ok))
    xv, yv = x[ok] - x[first], y[ok] - y[first]
    n = np.arange(1, xv.size + 1, dtype=np.float64)
    sx, sy = np.cumsum(xv), np.cumsum(yv)
    sxx, sxy = np.cumsum(xv * xv) - sx * sx / n, np.cumsum(xv * yv) - sx * sy / n
    with np.errstate(invalid="ignore", divide="ignore"):
        b = np.where(sxx > 1e-12 * np.maximum(np.cumsum(xv * xv), 1e-300), sxy / sxx, np.nan)
    out[ok] = b
    return out


def spurious_tradable(by_pair: pl.DataFrame) -> list[str]:
    """The pairs without a constructed relation in the tradable set (:func:`recovery_by_pair`
    rows of every pair), sorted."""
    rows = by_pair.filter(~pl.col("cointegrated") & pl.col("tradable"))
    return sorted(rows["pair_id"].to_list())


def recovery_report(
    coint: pl.DataFrame,
    spread_series: pl.DataFrame | pl.LazyFrame,
    truth: pl.DataFrame,
    beta_paths: pl.DataFrame,
    bar_times: pl.Series | np.ndarray,
    window_bars: int,
    burn_in_bars: int | None = None,
    bar_interval: timedelta = timedelta(minutes=1),
    level: float = 0.05,
) -> dict[str, Any]:
    """Everything above in one call: ``summary`` (:class:`RecoverySummary`), ``by_pair`` (the
    constructed pairs), ``spurious`` (:func:`spurious_tradable`), ``fpr_by_legs`` and
    ``beta_rmse`` (burn-in defaults to ``window_bars``)."""
    cl = classify_tests(coint, truth, bar_times, window_bars, bar_interval)
    burn = window_bars if burn_in_bars is None else burn_in_bars
    by_pair = recovery_by_pair(cl)
    return {
        "summary": summarize(cl, level),
        "by_pair": by_pair.filter(pl.col("cointegrated")),
        "spurious": spurious_tradable(by_pair),
        "fpr_by_legs": fpr_by_leg_exposure(cl),
        "beta_rmse": beta_rmse(spread_series, beta_paths, truth, burn),
    }
