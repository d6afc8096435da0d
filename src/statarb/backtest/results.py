"""Backtest outputs: raw arrays from either loop, and their spec §4.3 frames."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields

import numpy as np
import polars as pl

from statarb.backtest.inputs import BacktestInputs
from statarb.conventions import DIRECTION_CODES, SIDE_CODES, UTC_US

DIRECTIONS = DIRECTION_CODES  # kernel codes -> stored values (statarb.conventions)
SIDES = SIDE_CODES
REASONS = {1: "entry", 2: "exit", 3: "stop_loss", 4: "max_holding", 5: "gate_off"}
TS = UTC_US


@dataclass
class RawResult:
    """Signals, fills (one row per leg fill) and the equity series as plain arrays."""

    sig_t: np.ndarray
    sig_pair: np.ndarray
    sig_dir: np.ndarray
    sig_size: np.ndarray
    sig_beta: np.ndarray
    sig_z: np.ndarray
    sig_reason: np.ndarray
    fill_t: np.ndarray
    fill_pair: np.ndarray
    fill_leg: np.ndarray
    fill_side: np.ndarray
    fill_qty: np.ndarray
    fill_price: np.ndarray
    fill_commission: np.ndarray
    fill_slippage_bps: np.ndarray
    fill_signal: np.ndarray
    cash: np.ndarray
    positions_value: np.ndarray
    equity: np.ndarray
    sig_spread: np.ndarray  # spread and leg closes at each signal's bar (signal metadata)
    sig_close_a: np.ndarray
    sig_close_b: np.ndarray
    borrow_cost: np.ndarray  # per bar: short-borrow fee accrued at the start of the bar
    financing_cost: np.ndarray  # per bar: cash financing (negative = interest earned)

    @classmethod
    def from_objects(
        cls, signals: list, fills: list, cash, pv, eq, inputs: BacktestInputs, borrow, financing
    ) -> RawResult:
        """Build from the reference loop's ``Signal`` / ``Fill`` objects."""

        def col(items: list, attr: str, dtype) -> np.ndarray:
            return np.array([getattr(x, attr) for x in items], dtype=dtype)

        i8, f8 = np.int64, np.float64
        return cls(
            col(signals, "t", i8),
            col(signals, "pair", i8),
            col(signals, "direction", i8),
            col(signals, "size", f8),
            col(signals, "hedge_ratio", f8),
            col(signals, "z", f8),
            col(signals, "reason", i8),
            col(fills, "t", i8),
            col(fills, "pair", i8),
            col(fills, "leg", i8),
            col(fills, "side", i8),
            col(fills, "qty", f8),
            col(fills, "price", f8),
            col(fills, "commission", f8),
            col(fills, "slippage_bps", f8),
            col(fills, "signal", i8),
            np.asarray(cash, f8),
            np.asarray(pv, f8),
            np.asarray(eq, f8),
            *_at_signals(inputs, col(signals, "t", i8), col(signals, "pair", i8)),
            np.asarray(borrow, f8),
            np.asarray(financing, f8),
        )

    def arrays(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _at_signals(inputs: BacktestInputs, t: np.ndarray, p: np.ndarray) -> list[np.ndarray]:
    """Spread and leg closes at the signals' bars (``(T, P)`` inputs)."""
    return [inputs.spread[t, p], inputs.close_a[t, p], inputs.close_b[t, p]]


@dataclass
class BacktestResult:
    """Frames ready for persistence: ``signals`` (with ``signal_idx``), ``fills``, ``equity``
    (the spec columns plus the per-bar ``borrow_cost`` / ``financing_cost``, which persistence
    writes to ``accruals.parquet``, not to ``backtest_equity``)."""

    signals: pl.DataFrame
    fills: pl.DataFrame
    equity: pl.DataFrame
    start_ts: object
    end_ts: object
    pair_ids: list[str]
    raw: RawResult


def to_frames(raw: RawResult, inputs) -> BacktestResult:
    """Turn bar/pair indices into timestamps, symbols and the spec's enum strings. ``inputs``:
    anything with ``timestamps()``, ``pair_ids``, ``symbols_a``, ``symbols_b`` (the whole run's
    grid: :class:`BacktestInputs` or :class:`statarb.backtest.inputs.RunGrid`)."""
    ts = inputs.timestamps()
    pa, pb = np.array(inputs.symbols_a), np.array(inputs.symbols_b)
    pids = np.array(inputs.pair_ids)
    meta = []
    for i in range(len(raw.sig_t)):
        p = int(raw.sig_pair[i])
        spread = float(raw.sig_spread[i])
        meta.append(
            json.dumps(
                {
                    "pair_id": str(pids[p]),
                    "z_score": float(raw.sig_z[i]),
                    "spread": spread if np.isfinite(spread) else None,
                    "reason": REASONS[int(raw.sig_reason[i])],
                    "close_a": float(raw.sig_close_a[i]),
                    "close_b": float(raw.sig_close_b[i]),
                }
            )
        )
    signals = pl.DataFrame(
        {
            "signal_idx": np.arange(len(raw.sig_t), dtype=np.int64),
            "signal_ts": ts.gather(raw.sig_t) if len(raw.sig_t) else pl.Series([], dtype=TS),
            "direction": [DIRECTIONS[int(d)] for d in raw.sig_dir],
            "pair_id": pids[raw.sig_pair].tolist(),
            "symbol_a": pa[raw.sig_pair].tolist(),
            "symbol_b": pb[raw.sig_pair].tolist(),
            "hedge_ratio": raw.sig_beta,
            "size": raw.sig_size,
            "metadata_json": meta,
        },
        schema_overrides={
            "signal_ts": TS,
            "direction": pl.String,
            "pair_id": pl.String,
            "symbol_a": pl.String,
            "symbol_b": pl.String,
            "metadata_json": pl.String,
        },
    )
    legs = np.where(raw.fill_leg == 0, 0, 1)
    sym = np.where(legs == 0, pa[raw.fill_pair], pb[raw.fill_pair]) if len(legs) else []
    fills = pl.DataFrame(
        {
            "signal_idx": raw.fill_signal,
            "fill_ts": ts.gather(raw.fill_t) if len(raw.fill_t) else pl.Series([], dtype=TS),
            "pair_id": pids[raw.fill_pair].tolist(),
            "symbol": list(sym),
            "side": [SIDES[int(s)] for s in raw.fill_side],
            "quantity": raw.fill_qty,
            "price": raw.fill_price,
            "commission": raw.fill_commission,
            "slippage_bps": raw.fill_slippage_bps,
        },
        schema_overrides={
            "fill_ts": TS,
            "pair_id": pl.String,
            "symbol": pl.String,
            "side": pl.String,
        },
    )
    equity = pl.DataFrame(
        {
            "ts": ts,
            "equity": raw.equity,
            "cash": raw.cash,
            "positions_value": raw.positions_value,
            "borrow_cost": raw.borrow_cost,
            "financing_cost": raw.financing_cost,
        }
    )
    return BacktestResult(
        signals=signals,
        fills=fills,
        equity=equity,
        start_ts=ts[0] if len(ts) else None,
        end_ts=ts[-1] if len(ts) else None,
        pair_ids=list(inputs.pair_ids),
        raw=raw,
    )
