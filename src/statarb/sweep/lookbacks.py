"""Signal inputs of a sweep: spreads / OU bands once per distinct lookback, stacked for the kernel.

A lookback is ``(kalman_delta, ou_window_bars)``; ``None`` means the ``alpha`` section's value.
The lookback equal to the alpha configuration reads the stored ``spread_series`` / ``ou_params``
(exactly what the ``backtest`` pipeline reads); any other is recomputed ONCE, with the alpha
pipeline's own functions (:func:`statarb.alpha.spreads.kalman_spreads_for_pair`,
:func:`statarb.alpha.series_chunk.series_chunk`) on the same price panel and schedule, for the
selected pairs only. The cointegration gating does not depend on the lookback (the screening runs
on prices).

With ``signal_source = "kalman_z"`` the score is the Kalman innovation z-score, which depends on
``delta`` only (the OU window must not be swept). With ``"ou_bands"`` the score maps the spread
through the as-of OU bands *and* the thresholds (:func:`statarb.backtest.inputs.ou_band_score`),
so one z layer is built per (lookback, entry_z, exit_z).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl

from statarb.alpha.config import AlphaConfig
from statarb.alpha.kalman_filter import kalman_hedge
from statarb.alpha.series_chunk import series_chunk
from statarb.alpha.spreads import kalman_settings
from statarb.backtest.config import BacktestConfig
from statarb.backtest.costs import accrual_days
from statarb.backtest.stream import InputStream, RunGrid
from statarb.conventions import UTC_US
from statarb.sweep.grid import SweepPoint

Lookback = tuple[float | None, int | None]


@dataclass
class SignalStacks:
    """Everything the sweep kernel reads: legs ``(T, P)``, stacks ``(L, T, P)`` / ``(Z, T, P)``."""

    grid: RunGrid
    open_a: np.ndarray
    close_a: np.ndarray
    vol_a: np.ndarray
    open_b: np.ndarray
    close_b: np.ndarray
    vol_b: np.ndarray
    beta: np.ndarray
    tradable: np.ndarray
    spread: np.ndarray
    z: np.ndarray
    beta_keys: list[Lookback]
    z_keys: list[tuple]
    days: np.ndarray | None = None  # accrual days of the run's bars (None: from grid.ts)

    def accrual(self) -> np.ndarray:
        """Calendar days since the previous bar of the run (:func:`accrual_days`; a view keeps
        its parent's, so its first bar accrues over the gap to the bar before the view)."""
        return accrual_days(self.grid.ts) if self.days is None else self.days

    def layers(self, point: SweepPoint, signal_source: str) -> tuple[int, int]:
        """``(beta layer, z layer)`` of ``point``."""
        bi = self.beta_keys.index(point.lookback)
        key = _z_key(point, signal_source)
        return bi, self.z_keys.index(key)

    def view(self, lo: int, hi: int) -> SignalStacks:
        """Bars ``lo:hi`` (views)."""
        s = slice(lo, hi)
        g = RunGrid(self.grid.ts[s], self.grid.pair_ids, self.grid.symbols_a, self.grid.symbols_b)
        return SignalStacks(
            g, self.open_a[s], self.close_a[s], self.vol_a[s], self.open_b[s], self.close_b[s],
            self.vol_b[s], self.beta[:, s], self.tradable[:, s], self.spread[:, s], self.z[:, s],
            self.beta_keys, self.z_keys, self.accrual()[s],
        )  # fmt: skip


def _z_key(point: SweepPoint, signal_source: str) -> tuple:
    if signal_source == "ou_bands":
        return (point.lookback, float(point.entry_z), float(point.exit_z))
    return (point.lookback,)


def resolve(alpha: AlphaConfig, lookback: Lookback) -> AlphaConfig:
    """The alpha configuration of ``lookback`` (``None`` entries keep the configured value)."""
    delta, window = lookback
    kalman, ou = alpha.kalman, alpha.ou
    if delta is not None and delta != kalman.delta:
        if kalman.process_noise is not None:
            raise ValueError(
                "sweep.grid.kalman_delta: alpha.kalman.process_noise is set, so delta is ignored "
                "by the filter; set process_noise to null to sweep delta"
            )
        kalman = kalman.model_copy(update={"delta": float(delta)})
    if window is not None and window != ou.window_bars:
        ou = ou.model_copy(update={"window_bars": int(window)})
    return alpha.model_copy(update={"kalman": kalman, "ou": ou})


def is_configured(alpha: AlphaConfig, lookback: Lookback) -> bool:
    """True when ``lookback`` is the alpha section's own (the stored tables apply)."""
    delta, window = lookback
    return (delta is None or delta == alpha.kalman.delta) and (
        window is None or window == alpha.ou.window_bars
    )


def recompute(
    alpha: AlphaConfig,
    panel: pl.DataFrame,
    schedule: pl.Series,
    pairs: list[tuple[str, str, str]],
    need_ou: bool,
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """``(spread_series, ou_params)`` rows of ``pairs`` (``pair_id, symbol_a, symbol_b``) under
    ``alpha``, by the alpha pipeline's functions (walk-forward selection mode)."""
    if alpha.selection.mode != "walk_forward":
        raise ValueError(
            "sweep: lookbacks can be swept in alpha.selection.mode 'walk_forward' only (the "
            "formation mode freezes the hedge ratio, there is no Kalman delta)"
        )
    syms = sorted({s for _, a, b in pairs for s in (a, b)})
    local = {s: i for i, s in enumerate(syms)}
    cols = panel.select(pl.col(s).cast(pl.Float64).fill_null(np.nan) for s in syms).to_numpy()
    cols = np.where(np.isfinite(cols) & (cols > 0), cols, np.nan)  # as spreads_and_ou
    times = panel["datetime"]
    idx = [(p, local[a], local[b]) for p, a, b in pairs]
    if need_ou:
        created = datetime.now(UTC).replace(microsecond=0)
        spreads, _, ou, _ = series_chunk(cols, times, idx, schedule, alpha, None, created)
        return spreads, ou
    parts = []
    for pair_id, ia, ib in idx:
        # one filter pass over the whole history: the same numbers as the alpha pipeline's
        # window-by-window run (kalman_spreads_for_pair carries the posterior between windows)
        ok = np.isfinite(cols[:, ia]) & np.isfinite(cols[:, ib])
        y, x = cols[ok, ia], cols[ok, ib]
        if y.size == 0:
            continue
        q, R, state = kalman_settings(alpha.kalman, y[0], pair_id)
        res = kalman_hedge(y, x, q * np.eye(2), R, state)
        parts.append(
            pl.DataFrame(
                {
                    "pair_id": pl.Series([pair_id] * y.size, dtype=pl.String),
                    "datetime": times.filter(pl.Series(ok)).cast(UTC_US),
                    "spread": res.spread,
                    "beta": res.beta,
                    "z_score": res.z_score,
                }
            )  # fmt: skip
        )
    return pl.concat(parts), None


def _legs(stream: InputStream, n: int) -> dict[str, np.ndarray]:
    """The legs' ``(T, P)`` open/close/volume on the run grid (as ``InputStream.chunk``)."""
    bf = stream._bar_fields(0, n)
    out = {}
    for leg, idx in (("a", stream.ia), ("b", stream.ib)):
        for f, name in (("open", "open"), ("close", "close"), ("volume", "vol")):
            out[f"{name}_{leg}"] = np.ascontiguousarray(bf[f][:, idx])
    return out


def build_stacks(
    points: list[SweepPoint],
    base: BacktestConfig,
    alpha: AlphaConfig,
    bars: Any,
    spread_series: Any,
    ou_params: Any,
    coint: pl.DataFrame,
    pairs: list[tuple[str, str, str]],
    panel_fn: Any,
    start: datetime | None = None,
    end: datetime | None = None,
    force_recompute: bool = False,
) -> SignalStacks:
    """The kernel's inputs for ``points``. ``panel_fn()`` -> ``(panel, schedule)`` is called
    only if some lookback must be recomputed (``force_recompute``: every lookback, for tests)."""
    ou_src = base.signal_source == "ou_bands"
    lookbacks = sorted({p.lookback for p in points}, key=repr)
    if not ou_src and any(w is not None for _, w in lookbacks):
        raise ValueError(
            "sweep.grid.ou_window_bars: the OU window only matters with backtest.signal_source "
            "'ou_bands' (kalman_z is the Kalman innovation z-score); set it to [null]"
        )
    pair_ids = [p for p, _, _ in pairs]
    panel = None
    fields: dict[str, list[np.ndarray]] = {"beta": [], "tradable": [], "spread": [], "z": []}
    z_keys: list[tuple] = []
    legs: dict[str, np.ndarray] | None = None
    stream = None
    for lb in lookbacks:
        if is_configured(alpha, lb) and not force_recompute:
            sp, ou = spread_series, ou_params
        else:
            if panel is None:
                panel = panel_fn()
            sp, ou = recompute(resolve(alpha, lb), panel[0], panel[1], pairs, ou_src)
        stream = InputStream(
            bars, sp, coint, pair_ids, base, ou if ou_src else None, start, end,
            chunk_pair_bars=1 << 62,
        )  # fmt: skip
        n = stream.grid.ts.size
        if legs is None:
            legs = _legs(stream, n)
        combos = sorted({(p.entry_z, p.exit_z) for p in points if p.lookback == lb})
        for k, (entry, exit_) in enumerate(combos if ou_src else [(base.entry_z, base.exit_z)]):
            stream.cfg = replace(base, entry_z=float(entry), exit_z=float(exit_))
            sf = stream._spread_fields(0, n)
            if k == 0:
                fields["beta"].append(sf["beta"])
                fields["tradable"].append(sf["tradable"])
                fields["spread"].append(sf["spread"])
            fields["z"].append(sf["z_score"])
            z_keys.append((lb, float(entry), float(exit_)) if ou_src else (lb,))
    assert legs is not None and stream is not None
    return SignalStacks(
        stream.grid, legs["open_a"], legs["close_a"], legs["vol_a"], legs["open_b"],
        legs["close_b"], legs["vol_b"], np.stack(fields["beta"]), np.stack(fields["tradable"]),
        np.stack(fields["spread"]), np.stack(fields["z"]), list(lookbacks), z_keys,
    )  # fmt: skip


def stacks_from_inputs(by_lookback: dict[Lookback, Any]) -> SignalStacks:
    """Stacks from in-memory :class:`~statarb.backtest.inputs.BacktestInputs` (one per lookback,
    same bars; ``kalman_z`` layout), e.g. synthetic inputs in tests and benchmarks."""
    keys = list(by_lookback)
    first = by_lookback[keys[0]]
    grid = RunGrid(first.ts, list(first.pair_ids), list(first.symbols_a), list(first.symbols_b))
    inp = [by_lookback[k] for k in keys]
    return SignalStacks(
        grid, first.open_a, first.close_a, first.vol_a, first.open_b, first.close_b, first.vol_b,
        np.stack([i.beta for i in inp]), np.stack([i.tradable for i in inp]),
        np.stack([i.spread for i in inp]), np.stack([i.z for i in inp]), keys,
        [(k,) for k in keys],
    )  # fmt: skip
