"""Preprocessing nodes: ``bars`` + ``corporate_actions`` -> ``bars_adjusted``; ``ticks`` -> ``tick_bars``.

Thin wrappers over :mod:`statarb.preprocess`. ``bars_adjusted`` is recomputed from all stored bars
of the configured source on each run (adjustment factors are backward-looking from the latest
corporate actions, so a new action changes older bars) and written through the store's keyed merge.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import polars as pl

from statarb.preprocess import adjust_bars, fill_missing_bars, flag_outliers, ticks_to_bars

log = logging.getLogger(__name__)

BAR_COLUMNS = ["symbol", "datetime", "open", "high", "low", "close", "volume", "adj_factor"]


def build_bars_adjusted(
    bars: pl.LazyFrame, corporate_actions: pl.DataFrame, params: Mapping[str, Any]
) -> pl.DataFrame:
    """Adjusted OHLC + ``adj_factor``, optional within-session fill, Hampel ``outlier_flag``."""
    tz = params.get("timezone", "America/New_York")
    lf = bars.lazy()
    source = params.get("source")
    if source is not None:
        lf = lf.filter(pl.col("source") == source)
    lf = lf.select([*BAR_COLUMNS, "source"])
    out = adjust_bars(lf, corporate_actions, tz=tz)
    fill = params.get("fill_missing", {}) or {}
    if fill.get("enabled", False):
        out = fill_missing_bars(out, every=fill.get("every", "1m"), tz=tz)
        log.info("bars_adjusted: %d missing bar(s) filled", int(out["missing_filled"].sum()))
    out = flag_outliers(out, tz=tz, **(params.get("hampel", {}) or {}))
    n_adj = out.filter(pl.col("adj_factor") != 1.0).height
    log.info(
        "bars_adjusted: %d bar(s), %d with adj_factor != 1, %d outlier(s) flagged",
        out.height,
        n_adj,
        int(out["outlier_flag"].sum()),
    )
    return out


def build_tick_bars(ticks: pl.LazyFrame, params: Mapping[str, Any]) -> pl.DataFrame:
    """Bars (layout ``bars``, source ``ticks``) aggregated from stored ticks."""
    every = (params.get("tick_bars", {}) or {}).get("every", "1m")
    out = ticks_to_bars(ticks.lazy(), every=every)
    log.info("tick_bars: %d bar(s) of %s", out.height, every)
    return out
