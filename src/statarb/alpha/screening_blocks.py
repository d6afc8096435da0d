"""The screening funnel streamed by blocks of test times, in memory bounded by one block.

The statistics come chunk of pairs by chunk of pairs (:func:`statarb.alpha.screening.stats_frames`:
one chunk's pairs at every test time), but the funnel's stages 2-4 (multiple testing, spread
quality, matching) need every pair at one test time, and stage 5 (persistence) each pair's
timeline. So the rows are regrouped on disk: each chunk's rows are split by block of consecutive
test times (``chunk_pair_tests`` pair-tests per block, at least one test time) and spilled to a
temporary Parquet folder per block; then the blocks are decided in time order, the persistence
state of every pair carried from one block to the next
(:func:`statarb.alpha.selection.funnel.decide_block`), and each block's
``cointegration_results`` / ``selection_log`` rows are yielded as soon as they are decided, so
Kedro saves them block by block. The rows are exactly those of deciding everything at once
(tested). When the whole universe fits one block (the default data), nothing is spilled.

Memory: one chunk of statistics rows while spilling, then one block (its statistics, decisions
and output rows, about 1 KB per pair-test) and the carried state (one row per pair). Disk: the
spilled statistics (compressed Parquet in the system temporary folder), removed when the
stream ends.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from statarb.alpha.screening import STATS_SCHEMA, ReasonCounts, funnel_spec, stats_frames
from statarb.alpha.selection.funnel import cointegration_rows, decide_block, selection_log_rows
from statarb.conventions import UTC_US, to_utc
from statarb.storage.run_scope import unscoped

log = logging.getLogger("statarb.alpha.screening")


def times_per_block(n_pairs: int, n_times: int, chunk_pair_tests: int | None) -> int:
    """Test times per block: ``chunk_pair_tests // n_pairs``, at least one, at most all."""
    if not chunk_pair_tests or n_pairs == 0:
        return max(1, n_times)
    return max(1, min(n_times, int(chunk_pair_tests) // n_pairs))


def _block_of(schedule: Sequence[datetime], per_block: int) -> pl.DataFrame:
    """``test_ts -> block`` for the sorted schedule."""
    ts = sorted(to_utc(t) for t in schedule)
    return pl.DataFrame(
        {"test_ts": pl.Series(ts, dtype=UTC_US), "block": [i // per_block for i in range(len(ts))]}
    )


def _spill(frames: Iterator[pl.DataFrame], blocks: pl.DataFrame, folder: Path) -> list[int]:
    """Write each chunk's rows into ``folder/b<block>/c<chunk>.parquet``; the blocks written."""
    seen: set[int] = set()
    for i, frame in enumerate(frames):
        parts = frame.join(blocks, on="test_ts", how="left").partition_by("block", as_dict=True)
        for (b,), part in parts.items():
            d = folder / f"b{int(b):06d}"
            d.mkdir(exist_ok=True)
            part.drop("block").sort("test_ts", "pair_id").write_parquet(d / f"c{i:06d}.parquet")
            seen.add(int(b))
    return sorted(seen)


def iter_screen_pairs(
    prices: pl.DataFrame,
    pairs: Sequence[tuple[str, str, str]],
    schedule: Sequence[datetime],
    cfg,
    created_at: datetime,
    progress: bool = False,
    chunk_pairs: int = 256,
    mapper=None,
    chunk_pair_tests: int | None = None,
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """``(cointegration_results, selection_log)`` rows of each block of test times, in time
    order (see the module docstring), with the :class:`statarb.alpha.config.AlphaConfig`
    ``cfg``, stamped ``created_at``. ``chunk_pairs`` / ``mapper``: see
    :func:`statarb.alpha.screening.stats_frames`; ``chunk_pair_tests``: pair-tests per block
    (``None``: one block). At least one (possibly empty) block is yielded."""
    spec = funnel_spec(cfg)
    interval = timedelta(minutes=cfg.bar_minutes)
    counts = ReasonCounts()
    frames = (counts.add(f) for f in stats_frames(prices, pairs, schedule, spec, interval,
                                                  progress, chunk_pairs, mapper))  # fmt: skip
    per_block = times_per_block(len(pairs), len(schedule), chunk_pair_tests)
    if per_block >= len(schedule):
        stats = pl.concat(list(frames)) if pairs else pl.DataFrame(schema=STATS_SCHEMA)
        counts.log()
        decided, _ = decide_block(stats, cfg.selection)
        yield cointegration_rows(decided, created_at), selection_log_rows(decided, created_at)
        return
    with tempfile.TemporaryDirectory(prefix="statarb-screening-") as tmp:
        folder = Path(tmp)
        written = _spill(frames, _block_of(schedule, per_block), folder)
        counts.log()
        log.info("screening: funnel over %d blocks of %d test times", len(written), per_block)
        carry = None
        for i, b in enumerate(written, 1):
            stats = pl.read_parquet(folder / f"b{b:06d}" / "*.parquet")
            decided, carry = decide_block(stats, cfg.selection, carry)
            del stats
            span = decided["test_ts"]
            log.info("screening: funnel block %d/%d (%s to %s): %d of %d pair-tests tradable",
                     i, len(written), span.min(), span.max(), int(decided["tradable"].sum()),
                     decided.height)  # fmt: skip
            yield cointegration_rows(decided, created_at), selection_log_rows(decided, created_at)


def concat_blocks(
    blocks: Iterator[tuple[pl.DataFrame, pl.DataFrame]],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every block of :func:`iter_screen_pairs` (or of the ``alpha_screening`` node) joined into
    the two whole tables ``(cointegration_results, selection_log)``."""
    got = [(unscoped(c), unscoped(s)) for c, s in blocks]
    return pl.concat([c for c, _ in got]), pl.concat([s for _, s in got])
