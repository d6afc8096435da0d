"""Funnel stage 5: confirmation on an earlier, partly disjoint window.

Consecutive test times of the walk-forward screening share almost all their bars (a 20-session
window moved by one session keeps 95 % of them), so the ``enter_after`` consecutive passes of the
persistence stage are nearly one piece of evidence: a chance rejection of a pair whose spread is a
random walk stays significant for as long as the bars that caused it are inside the window
(docs/cointegration.md: the false pairs of the funnel without this stage stay significant for
3-15 sessions). Confirmation asks for evidence from another sample: a candidate at a test passes
only if the same pair's raw p-value (the intersection-union p of the configured tests, before the
multiple-testing correction) was below ``level`` at its latest earlier test whose window shares at
most ``max_shared`` of the current window's bars. With the shipped 0.5 and a 20-session window at
the session-close schedule that is the test 10 sessions earlier. The cost is a delay: a relation
is tradable at the earliest once a window ending ``(1 - max_shared)`` of a window after its first
passing one also passes.

This is the split-sample idea of formation / trading periods (Gatev, Goetzmann & Rouwenhorst 2006)
applied to the selection itself; Clegg (2014, "On the persistence of cointegration in pairs
trading") measures how little a cointegration finding in one period predicts the next.

Bars are the pair's own usable bars (both legs valid, ``bars_seen`` of the screening statistics):
the window of a test holds positions ``(bars_seen - n_obs, bars_seen]`` and an earlier test ending
at position ``e`` shares ``e - (bars_seen - n_obs)`` of them, so the confirming test is the latest
one with ``e <= bars_seen - n_obs + floor(max_shared * n_obs)``. It does not depend on the schedule,
the window length or gaps in the legs. :func:`confirming_pvalues` carries each pair's recent tests
from one block of test times to the next, so blocks give the rows of one whole run (tested).
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from pydantic import Field

from statarb.config.strict import StrictModel

#: Each pair's recent tests (positions and raw p-values, oldest first) at the end of a block.
RECENT_SCHEMA = {"pair_id": pl.String(), "recent_end": pl.List(pl.Int64()),
                 "recent_p": pl.List(pl.Float64())}  # fmt: skip


class ConfirmationConfig(StrictModel):
    """``alpha.selection.confirmation``: raw p below ``level`` also at the latest earlier test
    whose window shares at most ``max_shared`` of the bars (``null`` = stage off)."""

    max_shared: float | None = Field(ge=0.0, lt=1.0)
    level: float = Field(gt=0.0, lt=1.0)


def confirm_limit(bars_seen: np.ndarray, n_obs: np.ndarray, max_shared: float) -> np.ndarray:
    """The last position an earlier test's window may end at to share at most ``max_shared`` of
    each window ``(bars_seen - n_obs, bars_seen]``."""
    n = np.asarray(n_obs, np.int64)
    return np.asarray(bars_seen, np.int64) - n + np.floor(max_shared * n).astype(np.int64)


def confirming_pvalues(
    pair_id: pl.Series,
    bars_seen: np.ndarray,
    n_obs: np.ndarray,
    pvalue: np.ndarray,
    max_shared: float,
    recent: pl.DataFrame | None = None,
) -> tuple[np.ndarray, pl.DataFrame]:
    """``(prior, recent_out)``: for each row the raw p-value of its pair's latest earlier test
    whose window shares at most ``max_shared`` of the row's window (NaN where there is none or its
    p-value is NaN), searching this block's rows and ``recent`` (:data:`RECENT_SCHEMA`, the
    previous block's ``recent_out``); ``recent_out`` keeps, per pair, the tests a later row can
    still be confirmed by."""
    n = len(pvalue)
    cur = pl.DataFrame(
        {
            "pair_id": pair_id,
            "end": np.asarray(bars_seen, np.int64),
            "p": np.asarray(pvalue, np.float64),
            "row": np.arange(n, dtype=np.int64),
            "limit": confirm_limit(bars_seen, n_obs, max_shared),
        }
    )
    hist = [cur.select("pair_id", "end", "p")]
    if recent is not None and recent.height:
        prev = recent.explode("recent_end", "recent_p").drop_nulls("recent_end")
        hist.insert(0, prev.select("pair_id", end="recent_end", p="recent_p"))
    # several tests ending at one position (no new bar in between): the latest one counts
    tests = (
        pl.concat(hist)
        .unique(["pair_id", "end"], keep="last", maintain_order=True)
        .sort("pair_id", "end")
    )
    got = (
        cur.sort("pair_id", "limit")
        .join_asof(
            tests,
            left_on="limit",
            right_on="end",
            by="pair_id",
            strategy="backward",
            check_sortedness=False,
        )  # both sorted by (pair_id, key) above
        .sort("row")
    )
    prior = got["p_right"].fill_null(np.nan).to_numpy().astype(np.float64)
    # limits only grow, so a later row can use the test at the last row's limit and those after
    last = cur.group_by("pair_id").agg(lim=pl.col("limit").max())
    floor = pl.col("end").filter(pl.col("end") <= pl.col("lim")).max().over("pair_id")
    keep = (
        tests.join(last, on="pair_id", how="left").filter(
            pl.col("lim").is_null() | (pl.col("end") >= floor.fill_null(-1))
        )  # ends >= 0
    )
    recent_out = keep.group_by("pair_id", maintain_order=True).agg(
        recent_end=pl.col("end"), recent_p=pl.col("p")
    )
    return prior, recent_out.cast(RECENT_SCHEMA)


def confirming_pvalues_ref(tests: list[tuple[int, int, float]], max_shared: float) -> list[float]:
    """Plain twin of :func:`confirming_pvalues` for one pair's whole timeline of ``(bars_seen,
    n_obs, pvalue)`` tests in time order (the tests compare the two)."""
    out = []
    for i, (end, n_obs, _) in enumerate(tests):
        limit = end - n_obs + math.floor(max_shared * n_obs)
        earlier = [p for e, _, p in tests[:i] if e <= limit]
        out.append(earlier[-1] if earlier else float("nan"))
    return out
