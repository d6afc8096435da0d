"""Preprocessing nodes: ``bars`` + ``corporate_actions`` -> ``bars_adjusted``; ``ticks`` -> ``tick_bars``.

Thin wrappers over :mod:`statarb.preprocess`. ``bars_adjusted`` is recomputed from all stored bars
of the configured source on each run (adjustment factors are backward-looking from the latest
corporate actions, so a new action changes older bars) and written through the store's keyed merge.

Bounded memory: every step works per symbol (factors from the symbol's own closes and actions,
the Hampel filter and the fill within the symbol's own rows), so ``build_bars_adjusted`` takes
``chunk_symbols`` symbols at a time. The store partitions by date, which every chunk touches, so a
finished chunk is spooled to a temporary folder split into blocks of ``block_days`` UTC dates;
the node then yields one block at a time (all symbols, sorted by symbol and time), and Kedro saves each
block as it comes (``mode: replace`` of those date partitions, atomic per partition). Peak memory
~ one chunk of symbols over all sessions, or all symbols over one block of dates, whichever is
larger; the stored partitions are the same files as one whole-universe pass (tested).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from statarb.preprocess import adjust_bars, fill_missing_bars, flag_outliers, ticks_to_bars
from statarb.preprocess.params import PreprocessingParams

log = logging.getLogger(__name__)

BAR_COLUMNS = ["symbol", "datetime", "open", "high", "low", "close", "volume", "adj_factor"]


def adjust_chunk(
    lf: pl.LazyFrame, corporate_actions: pl.DataFrame, p: PreprocessingParams
) -> pl.DataFrame:
    """Adjusted OHLC + ``adj_factor``, optional within-session fill, Hampel ``outlier_flag`` of
    the bars in ``lf`` (whole symbols)."""
    out = adjust_bars(lf, corporate_actions, tz=p.timezone)
    if p.fill_missing.enabled:
        out = fill_missing_bars(out, every=p.fill_missing.every, tz=p.timezone)
    return flag_outliers(out, tz=p.timezone, **p.hampel.model_dump())


def _blocks(spool: Path, n_blocks: int) -> Iterator[pl.DataFrame]:
    for b in range(n_blocks):
        files = sorted((spool / f"block={b}").glob("*.parquet"))
        if files:
            yield pl.concat([pl.read_parquet(f) for f in files]).sort("symbol", "datetime")


def build_bars_adjusted(
    bars: pl.LazyFrame, corporate_actions: pl.DataFrame, params: Mapping[str, Any]
) -> Iterator[pl.DataFrame]:
    """Adjusted bars of the configured source, yielded in blocks of dates (module docstring)."""
    p = PreprocessingParams.from_params(params, "preprocessing")
    lf = bars.lazy()
    if p.source is not None:
        lf = lf.filter(pl.col("source") == p.source)
    lf = lf.select([*BAR_COLUMNS, "source"])
    symbols = lf.select(pl.col("symbol").unique()).collect()["symbol"].sort().to_list()
    chunks = [symbols[i : i + p.chunk_symbols] for i in range(0, len(symbols), p.chunk_symbols)]
    stats = {"bars": 0, "adjusted": 0, "outliers": 0, "filled": 0}

    def count(df: pl.DataFrame) -> None:
        stats["bars"] += df.height
        stats["adjusted"] += df.filter(pl.col("adj_factor") != 1.0).height
        stats["outliers"] += int(df["outlier_flag"].sum())
        if "missing_filled" in df.columns:
            stats["filled"] += int(df["missing_filled"].sum())

    if len(chunks) <= 1:
        out = adjust_chunk(lf, corporate_actions, p)
        count(out)
        _log(stats, p)
        yield out
        return
    dates = lf.select(pl.col("datetime").dt.date().unique()).collect().to_series().sort()
    block_of = pl.DataFrame(
        {"date": dates, "block": pl.int_range(dates.len(), eager=True) // p.block_days}
    )
    n_blocks = int(block_of["block"].max()) + 1
    with tempfile.TemporaryDirectory(prefix="bars_adjusted_") as tmp:
        spool = Path(tmp)
        for k, chunk in enumerate(chunks):
            out = adjust_chunk(lf.filter(pl.col("symbol").is_in(chunk)), corporate_actions, p)
            count(out)
            keyed = out.with_columns(pl.col("datetime").dt.date().alias("_date")).join(
                block_of.rename({"date": "_date"}), on="_date", how="left"
            )
            for (b,), part in keyed.partition_by("block", as_dict=True).items():
                folder = spool / f"block={b}"
                folder.mkdir(exist_ok=True)
                part.drop("_date", "block").write_parquet(folder / f"chunk={k:05d}.parquet")
            del out, keyed
            log.info("bars_adjusted: chunk %d/%d (%d symbols) done", k + 1, len(chunks), len(chunk))
        _log(stats, p)
        yield from _blocks(spool, n_blocks)


def _log(stats: dict[str, int], p: PreprocessingParams) -> None:
    if p.fill_missing.enabled:
        log.info("bars_adjusted: %d missing bar(s) filled", stats["filled"])
    log.info(
        "bars_adjusted: %d bar(s), %d with adj_factor != 1, %d outlier(s) flagged",
        stats["bars"],
        stats["adjusted"],
        stats["outliers"],
    )


def build_tick_bars(ticks: pl.LazyFrame, params: Mapping[str, Any]) -> pl.DataFrame:
    """Bars (layout ``bars``, source ``ticks``) aggregated from stored ticks."""
    p = PreprocessingParams.from_params(params, "preprocessing")
    out = ticks_to_bars(ticks.lazy(), every=p.tick_bars.every)
    log.info("tick_bars: %d bar(s) of %s", out.height, p.tick_bars.every)
    return out
