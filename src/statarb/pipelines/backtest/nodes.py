"""Nodes of the ``backtest`` pipeline: select pairs, run the engine, hand the run to storage."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from statarb.alpha.gating import ever_cointegrated
from statarb.backtest.config import BacktestConfig
from statarb.backtest.engine import run_backtest, run_chunks
from statarb.backtest.engine_ref import pair_notional
from statarb.backtest.inputs import BacktestInputError, prepare_inputs
from statarb.backtest.results import to_frames
from statarb.backtest.stream import InputStream
from statarb.compute import ComputeConfig
from statarb.storage.store_batches import batch_read


def _ts(value: Any) -> datetime | None:
    if value in (None, "", "null"):
        return None
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _frame(x: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    return x.collect() if isinstance(x, pl.LazyFrame) else x


def select_pairs(
    requested: Any,
    pair_universe: pl.DataFrame,
    cointegration_results: pl.DataFrame | pl.LazyFrame,
    spread_series: pl.DataFrame | pl.LazyFrame,
) -> list[str]:
    """``"all"``: every pair of the universe that passed a cointegration test at least once and
    has a spread series; otherwise the given list (each must be in the universe)."""
    universe = set(_frame(pair_universe)["pair_id"].to_list())
    if requested in (None, "all"):
        ok = ever_cointegrated(cointegration_results)
        sp = spread_series.select("pair_id").unique()
        have = set(_frame(sp)["pair_id"].to_list())
        pairs = sorted(universe & ok & have)
        if not pairs:
            raise BacktestInputError(
                "backtest: no tradable pair (none in pair_universe is cointegrated in "
                "cointegration_results and has spread_series rows); selection_log.reason gives "
                "each pair's failing funnel stage. On a sample of a few screening windows the "
                "confirmation and persistence stages can leave none (their delay is half a "
                "window plus alpha.selection.persistence.enter_after tests; "
                "alpha.selection.confirmation.max_shared: null turns confirmation off)"
            )
        return pairs
    pairs = [requested] if isinstance(requested, str) else list(requested)
    unknown = [p for p in pairs if p not in universe]
    if unknown:
        raise BacktestInputError(f"backtest.pairs: {unknown} not in pair_universe")
    return sorted(pairs)


def run_backtest_node(
    bars_adjusted: pl.LazyFrame | pl.DataFrame,
    spread_series: pl.LazyFrame | pl.DataFrame,
    cointegration_results: pl.DataFrame | pl.LazyFrame,
    ou_params: pl.DataFrame,
    pair_universe: pl.DataFrame,
    params: dict[str, Any],
    compute: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run one backtest over the configured pairs; return the payload for ``backtest_run``.

    The numba engine streams the run in time chunks of ``compute.chunk_pair_bars`` pair-bars
    (:class:`statarb.backtest.stream.InputStream`), so memory holds one chunk; the reference
    engine builds the whole run in memory (small runs, checks)."""
    cfg = BacktestConfig.from_params(params)
    pairs = select_pairs(
        params.get("pairs", "all"), pair_universe, cointegration_results, spread_series
    )
    engine = params.get("engine", "numba")
    window = {"start": _ts(params.get("start")), "end": _ts(params.get("end"))}
    ou = ou_params if cfg.signal_source == "ou_bands" else None
    if engine == "numba":
        comp = None if compute is None else ComputeConfig.from_params(compute, "compute")
        stream = InputStream(
            bars_adjusted, spread_series, cointegration_results, pairs, cfg, ou,
            chunk_pair_bars=comp.chunk_pair_bars if comp else 2_000_000, **window,
        )  # fmt: skip
        raw = run_chunks(stream.chunks(), pair_notional(cfg, pairs), cfg)
        result = to_frames(raw, stream.grid)
    else:
        inputs = prepare_inputs(
            bars_adjusted, spread_series, cointegration_results, pairs, cfg, ou, **window
        )
        result = run_backtest(inputs, cfg, engine=engine)
    extra = {
        "engine": engine,
        "window": {"start": str(result.start_ts), "end": str(result.end_ts)},
        "costs_path": str(Path(params["costs_path"])) if params.get("costs_path") else None,
        # the batch of the bars it read (spec §9.3): replay with storage.batches.pin.bars_adjusted
        "data_batches": {"bars_adjusted": batch_read(bars_adjusted)},
    }
    return {"result": result, "config": cfg, "run_id": params.get("run_id"), "extra": extra}


def run_id_of(backtest_run: dict[str, Any]) -> str:
    """The ``run_id`` of the stored run (small output for the reporting pipeline)."""
    return str(backtest_run["run_id"])
