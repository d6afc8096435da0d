"""Nodes of the ``alpha`` pipeline: universe -> schedule -> screening funnel -> spreads, OU fits.

Information time everywhere (docs/dev-contract.md): bar ``t`` is known at ``t + bar_interval``;
results stamped ``T`` use only such bars. Parameters: ``conf/base/parameters_alpha.yml`` (key
``alpha``), validated by :class:`statarb.alpha.config.AlphaConfig`. Outputs follow the storage
spec exactly (``spread_series`` §5.3, ``ou_output`` §5.4,
``pair_universe``/``cointegration_results``/``kalman_params``/``ou_params`` §4) plus the
``selection_log`` (docs/architecture.md). Only pairs the funnel selects at some test time get
spreads, Kalman and OU fits (spec §6.2).

Each run's outputs replace the previous run's: the first block of each output is
:class:`~statarb.storage.run_scope.Scoped` (the run's universe and decision times, then its
selected pairs), so its dataset removes what an earlier configuration stored outside them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from statarb.alpha.config import AlphaConfig
from statarb.alpha.gating import ever_cointegrated
from statarb.alpha.schedule import build_schedule
from statarb.alpha.screening_blocks import iter_screen_pairs
from statarb.alpha.selection.formation import formation_times
from statarb.alpha.series_chunk import OU_OUTPUT_COLUMNS, OU_PARAMS_COLUMNS, series_chunk
from statarb.alpha.universe import build_pair_universe
from statarb.compute import ComputeConfig, mapper_for
from statarb.conventions import UTC_US
from statarb.preprocess.panel import wide_panel
from statarb.storage.run_scope import Scoped

log = logging.getLogger(__name__)
__all__ = ["OU_OUTPUT_COLUMNS", "OU_PARAMS_COLUMNS"]


def _cfg(params: dict[str, Any] | AlphaConfig) -> AlphaConfig:
    return AlphaConfig.from_params(params, "alpha")


def _interval(cfg: AlphaConfig) -> timedelta:
    return timedelta(minutes=cfg.bar_minutes)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _collect(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


def _pairs(pair_universe: pl.DataFrame) -> list[tuple[str, str, str]]:
    return list(_collect(pair_universe).select("pair_id", "symbol_a", "symbol_b").iter_rows())


def build_universe(
    symbols: pl.DataFrame, symbols_raw: pl.DataFrame | None, params: dict[str, Any]
) -> pl.DataFrame:
    """``pair_universe`` rows from ``alpha.universe`` (see :mod:`statarb.alpha.universe`)."""
    uni = _cfg(params).universe
    sectors = symbols_raw if uni.mode == "sector" else None
    df = build_pair_universe(
        _collect(symbols), uni.model_dump(), sectors=sectors, created_at=_now()
    )
    log.info("alpha: pair universe of %d pairs (mode %s)", df.height, uni.mode)
    return df


def register_universe(pair_universe: pl.DataFrame) -> pl.DataFrame:
    """The run's universe, written to the ``pair_universe`` registry (spec §4.1: pairs are
    added there and stay; the alpha nodes use the run's own universe, not the registry)."""
    return pair_universe


def build_price_panel(bars_adjusted: pl.LazyFrame, pair_universe: pl.DataFrame) -> pl.DataFrame:
    """Wide close panel of the universe's symbols: ``datetime`` + one column per symbol.

    Adjusted closes; bars with ``outlier_flag = 1`` are null (excluded), as are missing bars.
    """
    pu = _collect(pair_universe)
    syms = sorted(set(pu["symbol_a"].to_list()) | set(pu["symbol_b"].to_list()))
    panel = wide_panel(bars_adjusted.lazy(), symbols=syms, price="close")
    missing = [s for s in syms if s not in panel.columns]
    if missing:
        raise ValueError(f"alpha: no bars_adjusted rows for universe symbols {missing}")
    return panel.with_columns(pl.col("datetime").cast(UTC_US))


def build_alpha_schedule(panel: pl.DataFrame, params: dict[str, Any]) -> pl.DataFrame:
    """Screening / OU / Kalman-window schedule ``test_ts`` (``alpha.schedule``)."""
    cfg = _cfg(params)
    sel = cfg.selection
    if sel.mode == "formation" and sel.confirmation.max_shared is not None:
        log.warning(
            "alpha.selection.mode formation with confirmation.max_shared %s: persistence over "
            "formation periods already spans the confirming window, the stage on top delays "
            "entry (measured: fewer pairs found, docs/cointegration.md); set max_shared: null",
            sel.confirmation.max_shared,
        )
    return pl.DataFrame(
        {"test_ts": build_schedule(panel["datetime"], cfg.schedule, _interval(cfg))}
    )


def _decision_times(cfg: AlphaConfig, schedule: pl.DataFrame) -> list[datetime]:
    times = schedule["test_ts"].to_list()
    if cfg.selection.mode == "formation":
        return formation_times(times, cfg.selection.formation.every)
    return times


def _compute(params: dict[str, Any] | None) -> ComputeConfig | None:
    return None if params is None else ComputeConfig.from_params(params, "compute")


def screen_universe(
    panel: pl.DataFrame,
    pair_universe: pl.DataFrame,
    schedule: pl.DataFrame,
    params: dict[str, Any],
    compute: dict[str, Any] | None = None,
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """The selection funnel at every decision time -> (``cointegration_results``,
    ``selection_log``) rows, yielded by blocks of test times (``compute.chunk_pair_tests``
    pair-tests each; Kedro saves each block as it comes, so memory holds one block:
    :mod:`statarb.alpha.screening_blocks`); ``is_cointegrated`` is the funnel's final decision.
    Pairs are screened in chunks of ``compute.chunk_pairs``, here or on a Dask cluster
    (``compute.engine``)."""
    cfg = _cfg(params)
    comp = _compute(compute)
    selected: set[str] = set()
    pairs, tradable, rows = _pairs(pair_universe), 0, 0
    times = _decision_times(cfg, schedule)
    scope = {"pair_id": [p for p, _, _ in pairs], "test_ts": pl.Series(times, dtype=UTC_US)}
    first = True
    with mapper_for(comp) as mapper:
        for coint, sel_log in iter_screen_pairs(
            panel, pairs, times, cfg, _now(), progress=True,
            chunk_pairs=comp.chunk_pairs if comp else 256, mapper=mapper,
            chunk_pair_tests=comp.chunk_pair_tests if comp else None,
        ):  # fmt: skip
            on = sel_log.filter(pl.col("tradable"))
            selected.update(on["pair_id"].unique().to_list())
            tradable, rows = tradable + on.height, rows + sel_log.height
            if first:  # the run's scope: rows of another universe or schedule are removed
                coint, sel_log, first = Scoped(coint, scope), Scoped(sel_log, scope), False
            yield coint, sel_log
    log.info(
        "alpha: funnel selected %d of %d pairs at some test time (%d tradable pair-tests of %d)",
        len(selected), len(pairs), tradable, rows,
    )  # fmt: skip


def _selected(
    cointegration_results: pl.DataFrame | pl.LazyFrame, pair_universe: pl.DataFrame
) -> list:
    ok = ever_cointegrated(cointegration_results)
    return [p for p in _pairs(pair_universe) if p[0] in ok]


def _relations(cointegration_results: pl.DataFrame | pl.LazyFrame, ids: list[str]) -> pl.DataFrame:
    """``pair_id, test_ts, beta`` of pairs ``ids`` from the stored ``cointegrating_vector =
    [1, -beta]`` (read lazily: only those pairs' rows and three columns are held)."""
    c = (
        cointegration_results.lazy()
        .filter(pl.col("cointegrating_vector").is_not_null() & pl.col("pair_id").is_in(ids))
        .select("pair_id", "test_ts", "cointegrating_vector")
        .collect()
    )
    vec = c["cointegrating_vector"].str.json_decode(pl.List(pl.Float64))
    return c.select("pair_id", "test_ts").with_columns(beta=-vec.list.get(1))


def spreads_and_ou(
    panel: pl.DataFrame,
    pair_universe: pl.DataFrame,
    cointegration_results: pl.DataFrame | pl.LazyFrame,
    schedule: pl.DataFrame,
    params: dict[str, Any],
    compute: dict[str, Any] | None = None,
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]]:
    """Spreads, Kalman windows and OU fits of the selected pairs, yielded chunk by chunk ->
    (``spread_series``, ``kalman_params``, ``ou_params``, ``ou_output``); Kedro saves each chunk
    as it is produced, so memory holds one chunk (``compute.chunk_pair_bars`` pair-bars).

    Walk-forward mode: the Kalman hedge ratio over each pair's history, OU fits of its spread over
    the trailing ``alpha.ou.window_bars`` bars known at every schedule time (windows with fewer than
    ``min_obs`` transitions skipped; non mean-reverting ones kept with NaN parameters, so an as-of
    join never falls back to a stale fit). Formation mode: the hedge ratio frozen at each formation
    time (:mod:`statarb.alpha.selection.formation`), no Kalman (``kalman_params`` empty), OU fits
    of each formation window. Chunks run here or on a Dask cluster (``compute.engine``)."""
    cfg = _cfg(params)
    comp = _compute(compute)
    pairs = _selected(cointegration_results, pair_universe)
    created = _now()
    times = panel["datetime"]
    per_chunk = max(1, (comp.chunk_pair_bars if comp else 2_000_000) // max(1, panel.height))
    formation = cfg.selection.mode == "formation"
    rel = _relations(cointegration_results, [p for p, _, _ in pairs]) if formation else None

    def tasks() -> Iterator[tuple]:  # built lazily: one chunk's columns at a time
        for lo in range(0, len(pairs), per_chunk):
            chunk = pairs[lo : lo + per_chunk]
            syms = sorted({s for _, a, b in chunk for s in (a, b)})
            local = {s: i for i, s in enumerate(syms)}
            cols = panel.select(pl.col(s).cast(pl.Float64).fill_null(np.nan) for s in syms)
            cols = cols.to_numpy()
            cols = np.where(np.isfinite(cols) & (cols > 0), cols, np.nan)
            ids = [p for p, _, _ in chunk]
            crel = None if rel is None else rel.filter(pl.col("pair_id").is_in(ids))
            yield (cols, times, [(p, local[a], local[b]) for p, a, b in chunk],
                   schedule["test_ts"], cfg, crel, created)  # fmt: skip

    scope = {"pair_id": [p for p, _, _ in pairs]}  # the others' spreads and fits are removed
    if not pairs:  # nothing selected: one empty chunk, so every output is written (empty)
        empty = series_chunk(np.empty((panel.height, 0)), times, [], schedule["test_ts"], cfg,
                             rel, created)  # fmt: skip
        yield tuple(Scoped(f, scope) for f in empty)
        return
    n_chunks = -(-len(pairs) // per_chunk)
    with mapper_for(comp) as mapper:
        chunks = mapper.imap(series_chunk, tasks(), n_chunks, desc="alpha: spreads and OU")
        for i, chunk in enumerate(chunks):
            yield tuple(Scoped(f, scope) for f in chunk) if i == 0 else chunk
