"""Backtest inputs built one time chunk at a time, with bounded memory.

:class:`InputStream` computes the run's bar grid once (the sorted union of the legs' valid bar open
times in ``[start, end]``) and then, chunk by chunk, reads only that chunk's bars and spreads
(partition pruning on date and pair, predicate pushdown on time), aligns them on the grid with one
scatter per field (no per-pair scan of any frame) and yields the kernel's ``(T_chunk, P)`` arrays.
Memory holds one chunk: ``chunk_pair_bars`` pair-bars, whatever the number of pairs.

Same rules as :func:`statarb.backtest.inputs.prepare_inputs` (which is this stream collected into
one chunk): outlier bars are missing bars; gating and OU bands are joined as-of under the
information-time rule (a decision on bar ``t`` may use outputs stamped ``<= t + bar_interval``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from statarb.backtest.config import BacktestConfig
from statarb.backtest.costs import accrual_days
from statarb.backtest.errors import BacktestInputError
from statarb.conventions import UTC_US, split_pair_id
from statarb.kernels.backtest_loop import BarsNb
from statarb.preprocess.panel import usable_bars


@dataclass(frozen=True)
class RunGrid:
    """The run's bar grid and pairs (what the result frames need)."""

    ts: np.ndarray  # int64 microseconds (UTC), bar open times, strictly increasing
    pair_ids: list[str]
    symbols_a: list[str]
    symbols_b: list[str]

    def timestamps(self) -> pl.Series:
        return pl.Series("ts", self.ts).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def _lazy(frame: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    return frame.lazy()


def _utc(col: str, schema: pl.Schema) -> pl.Expr:
    dt = schema[col]
    if isinstance(dt, pl.Datetime) and dt.time_zone is None:
        return pl.col(col).dt.replace_time_zone("UTC").cast(UTC_US)
    return pl.col(col).cast(UTC_US)


def _require(names: list[str], cols: list[str], frame: str) -> None:
    missing = [c for c in cols if c not in names]
    if missing:
        raise BacktestInputError(f"{frame}: missing columns {missing} (have {names})")


class InputStream:
    """The backtest's inputs for ``pair_ids`` in time chunks (see the module docstring)."""

    def __init__(
        self,
        bars: pl.DataFrame | pl.LazyFrame,
        spreads: pl.DataFrame | pl.LazyFrame,
        coint: pl.DataFrame | pl.LazyFrame,
        pair_ids: list[str],
        cfg: BacktestConfig,
        ou_params: pl.DataFrame | pl.LazyFrame | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        chunk_pair_bars: int = 2_000_000,
    ) -> None:
        if not pair_ids:
            raise BacktestInputError("no pairs to backtest")
        try:
            legs = [split_pair_id(p) for p in pair_ids]
        except ValueError as exc:
            raise BacktestInputError(str(exc)) from None
        self.cfg = cfg
        self.interval = timedelta(minutes=cfg.bar_interval_minutes)
        self.pair_ids = list(pair_ids)
        self.syms = sorted({s for ab in legs for s in ab})
        sym_code = {s: i for i, s in enumerate(self.syms)}
        self.ia = np.array([sym_code[a] for a, _ in legs], dtype=np.int64)
        self.ib = np.array([sym_code[b] for _, b in legs], dtype=np.int64)
        bl = _lazy(bars)
        names = bl.collect_schema().names()
        _require(names, ["symbol", "datetime", "open", "close", "volume"], "bars_adjusted")
        bl = bl.filter(pl.col("symbol").is_in(self.syms)).with_columns(
            _utc("datetime", bl.collect_schema())
        )
        self._bars = usable_bars(bl, start, end)
        sl = _lazy(spreads)
        _require(sl.collect_schema().names(), ["pair_id", "datetime", "spread", "beta", "z_score"],
                 "spread_series")  # fmt: skip
        self._spreads = sl.filter(pl.col("pair_id").is_in(self.pair_ids)).with_columns(
            _utc("datetime", sl.collect_schema())
        )
        cl = coint.lazy()  # a SQL scan reads in batches: only the traded pairs' rows are kept
        need = ["pair_id", "test_ts", "is_cointegrated"]
        _require(cl.collect_schema().names(), need, "cointegration_results")
        self._coint = cl.filter(pl.col("pair_id").is_in(self.pair_ids)).select(need).collect()
        self._ou = None
        if cfg.signal_source == "ou_bands":
            if ou_params is None:
                raise BacktestInputError("signal_source 'ou_bands' needs ou_params")
            ou = ou_params.collect() if isinstance(ou_params, pl.LazyFrame) else ou_params
            self._ou = ou.filter(pl.col("pair_id").is_in(self.pair_ids))
        present = self._bars.select(pl.col("symbol").unique()).collect()["symbol"].to_list()
        absent = [s for s in self.syms if s not in set(present)]
        if absent:
            raise BacktestInputError(f"bars_adjusted: no bars for legs {absent} in the window")
        ts = (
            self._bars.select(pl.col("datetime").unique().sort())
            .collect()["datetime"]
            .dt.epoch("us")
            .to_numpy()
            .astype(np.int64)
        )
        self.grid = RunGrid(ts, self.pair_ids, [a for a, _ in legs], [b for _, b in legs])
        self.chunk_bars = max(1, int(chunk_pair_bars) // len(self.pair_ids))
        self._days = accrual_days(ts)
        self._borrow = cfg.costs.leg_borrow_rates(self.grid.symbols_a, self.grid.symbols_b)

    # ---- one chunk -------------------------------------------------------------------------
    def _window(self, lo: int, hi: int) -> tuple[datetime, datetime]:
        t = self.grid.timestamps()
        return t[lo], t[hi - 1]

    def _bar_fields(self, lo: int, hi: int) -> dict[str, np.ndarray]:
        g0, g1 = self._window(lo, hi)
        b = (
            self._bars.filter(pl.col("datetime").is_between(g0, g1))
            .select("datetime", "symbol", "open", "close", "volume")
            .collect()
        )
        rows = np.searchsorted(self.grid.ts[lo:hi], b["datetime"].dt.epoch("us").to_numpy())
        code = {s: i for i, s in enumerate(self.syms)}
        cols = b["symbol"].replace_strict(code, return_dtype=pl.Int64).to_numpy()
        out = {}
        for f in ("open", "close", "volume"):
            m = np.full((hi - lo, len(self.syms)), np.nan)
            m[rows, cols] = b[f].cast(pl.Float64).fill_null(np.nan).to_numpy()
            out[f] = m
        return out

    def _spread_fields(self, lo: int, hi: int) -> dict[str, np.ndarray]:
        from statarb.backtest.inputs import _ou_scores, gate_asof

        g0, g1 = self._window(lo, hi)
        sp = (
            self._spreads.filter(pl.col("datetime").is_between(g0, g1))
            .select("pair_id", "datetime", "spread", "beta", "z_score")
            .collect()
            .unique(["pair_id", "datetime"], keep="last")
        )
        if self._ou is not None:
            sp = _ou_scores(sp, self._ou, self.cfg, self.interval)
        sp = gate_asof(sp, self._coint, self.interval)
        rows = np.searchsorted(self.grid.ts[lo:hi], sp["datetime"].dt.epoch("us").to_numpy())
        code = {p: i for i, p in enumerate(self.pair_ids)}
        cols = sp["pair_id"].replace_strict(code, return_dtype=pl.Int64).to_numpy()
        out = {}
        for f in ("beta", "z_score", "spread"):
            m = np.full((hi - lo, len(self.pair_ids)), np.nan)
            m[rows, cols] = sp[f].cast(pl.Float64).fill_null(np.nan).to_numpy()
            out[f] = m
        trad = np.zeros((hi - lo, len(self.pair_ids)), dtype=np.bool_)
        trad[rows, cols] = sp["tradable"].fill_null(False).to_numpy()
        out["tradable"] = trad
        return out

    def chunk(self, lo: int, hi: int) -> tuple[BarsNb, np.ndarray]:
        """Bars ``lo:hi`` of the grid as the kernel's record, and their spread (``(n, P)``)."""
        bf, sf = self._bar_fields(lo, hi), self._spread_fields(lo, hi)

        def pairs(m: np.ndarray, legs: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(m[:, legs])

        bars = BarsNb(
            pairs(bf["open"], self.ia), pairs(bf["close"], self.ia), pairs(bf["volume"], self.ia),
            pairs(bf["open"], self.ib), pairs(bf["close"], self.ib), pairs(bf["volume"], self.ib),
            sf["beta"], sf["z_score"], sf["tradable"], self._days[lo:hi], *self._borrow,
        )  # fmt: skip
        return bars, sf["spread"]

    def chunks(self) -> Iterator[tuple[int, BarsNb, np.ndarray]]:
        """``(t0, bars, spread)`` for consecutive chunks of ``chunk_bars`` bars."""
        n = self.grid.ts.size
        for lo in range(0, n, self.chunk_bars):
            hi = min(n, lo + self.chunk_bars)
            bars, spread = self.chunk(lo, hi)
            yield lo, bars, spread
