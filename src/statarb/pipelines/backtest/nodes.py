"""Nodes of the ``backtest`` pipeline: select pairs, run the engine, hand the run to storage."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from statarb.backtest.config import BacktestConfig
from statarb.backtest.engine import run_backtest
from statarb.backtest.inputs import BacktestInputError, prepare_inputs
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
    cointegration_results: pl.DataFrame,
    spread_series: pl.DataFrame | pl.LazyFrame,
) -> list[str]:
    """``"all"``: every pair of the universe that passed a cointegration test at least once and
    has a spread series; otherwise the given list (each must be in the universe)."""
    universe = set(_frame(pair_universe)["pair_id"].to_list())
    if requested in (None, "all"):
        coint = _frame(cointegration_results)
        ok = set(coint.filter(pl.col("is_cointegrated").cast(pl.Boolean))["pair_id"].to_list())
        sp = spread_series.select("pair_id").unique()
        have = set(_frame(sp)["pair_id"].to_list())
        pairs = sorted(universe & ok & have)
        if not pairs:
            raise BacktestInputError(
                "backtest: no tradable pair (none in pair_universe is cointegrated in "
                "cointegration_results and has spread_series rows)"
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
    cointegration_results: pl.DataFrame,
    ou_params: pl.DataFrame,
    pair_universe: pl.DataFrame,
    params: dict[str, Any],
) -> dict[str, Any]:
    """Run one backtest over the configured pairs; return the payload for ``backtest_run``."""
    cfg = BacktestConfig.from_params(params)
    pairs = select_pairs(
        params.get("pairs", "all"), pair_universe, cointegration_results, spread_series
    )
    inputs = prepare_inputs(
        bars_adjusted,
        spread_series,
        cointegration_results,
        pairs,
        cfg,
        ou_params=ou_params if cfg.signal_source == "ou_bands" else None,
        start=_ts(params.get("start")),
        end=_ts(params.get("end")),
    )
    engine = params.get("engine", "numba")
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
