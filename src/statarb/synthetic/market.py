"""The synthetic market in the *adjusted* basis: universe, cointegrated pairs and OHLCV paths.

Prices of free names follow the factor model of :mod:`.processes`. Each cointegrated pair
``A_B`` (``A < B``) is built as ``price_A = alpha + beta_t * price_B + s_t`` on bar closes, with
``s_t`` an exact OU process (mean ``mu``), ``beta_t`` constant, drifting linearly or as a log random
walk, and for a "break" pair ``s_t`` turning into a random walk from ``break`` bar on. Bar ``t``
opens at the previous close (path row ``t``) and closes at path row ``t + 1``; highs/lows add
half-normal wicks, volume follows a U-shaped intraday profile.

Bounded memory: :func:`plan_market` makes one pass over the sessions, keeping per symbol only
its running log-price, and per pair its ``beta``/``s`` paths; the panel is then produced one
session at a time by :meth:`MarketPlan.iter_days`. Each random block (factor shocks, wicks,
volumes) is drawn from a replay of the bit generator's saved state at the block's start, so the
numbers are the same, draw for draw, as one full-panel draw in the order ``f_m, f_s, e, pairs,
high wicks, low wicks, base volume, volume noise`` (NumPy fills arrays in C order): the output
does not depend on how the sessions are blocked (tested against the all-in-memory panel).
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from statarb.synthetic.calendar import BarClock, bar_clock, early_close_bars, nyse_sessions
from statarb.synthetic.config import SyntheticConfig
from statarb.synthetic.pairs import PairTruth, allocate_pairs, build_pair
from statarb.synthetic.tickers import universe

_SKIP_BLOCK = 1 << 20  # values per draw when skipping a stream


@dataclass(frozen=True)
class DayBlock:
    """Adjusted-basis OHLCV of one session, ``(bars_of_day, n_symbols)`` each."""

    day: int
    start: int  # first bar index
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray


@dataclass(frozen=True)
class MarketPlan:
    """Everything about the market except the bar panel, which :meth:`iter_days` streams.

    ``day_close[d, j]`` is the adjusted close of the last bar of day ``d`` (corporate actions
    need the close before an ex-date); ``bar_vol`` is the per-bar log-return sd used for wicks
    (measured on the path for the ``A`` legs of pairs).
    """

    config: SyntheticConfig
    clock: BarClock
    symbols: tuple[str, ...]
    sectors: tuple[str, ...]
    bar_vol: np.ndarray
    pairs: tuple[PairTruth, ...]
    day_close: np.ndarray
    _bar_vol0: np.ndarray
    _p0: np.ndarray
    _sector_of: np.ndarray
    _base_volume: np.ndarray
    _states: dict[str, Any]

    @property
    def n_bars(self) -> int:
        return self.clock.n_bars

    def iter_days(self) -> Iterator[DayBlock]:
        """The adjusted OHLCV panel, one session at a time, in calendar order."""
        cfg, clock, n_sym = self.config, self.clock, len(self.symbols)
        g = {k: _replay(s) for k, s in self._states.items()}
        carry = np.zeros(n_sym)
        prev = self._p0 * np.exp(carry)
        for p, ia, ib in self._legs():
            prev[ia] = p.alpha + p.beta[0] * prev[ib] + p.s_initial
        bpd = cfg.bars_per_day
        for d in range(len(clock.days)):
            s, n = int(clock.day_start[d]), clock.day_len(d)
            path, carry = _path_block(g, n, carry, self, cfg)
            for p, ia, ib in self._legs():
                path[:, ia] = p.alpha + p.beta[s : s + n] * path[:, ib] + p.spread[s : s + n]
            o = np.vstack([prev[None, :], path[:-1]])
            c = path
            prev = path[-1].copy()
            w = 0.5 * self.bar_vol[None, :] * np.minimum(o, c)
            high = np.maximum(o, c) + np.abs(g["high"].standard_normal((n, n_sym))) * w
            low = np.minimum(o, c) - np.abs(g["low"].standard_normal((n, n_sym))) * w
            x = (np.arange(n) - (bpd - 1) / 2) / ((bpd - 1) / 2)
            profile = 1.0 + 2.5 * x**2  # U shape: heavy open and close
            vol = (
                self._base_volume[None, :]
                * profile[:, None]
                * g["volume"].lognormal(0.0, 0.4, size=(n, n_sym))
            )
            yield DayBlock(d, s, o, high, low, c.copy(), np.maximum(np.rint(vol), 1.0))

    def _legs(self) -> list[tuple[PairTruth, int, int]]:
        col = {s: j for j, s in enumerate(self.symbols)}
        return [(p, col[p.symbol_a], col[p.symbol_b]) for p in self.pairs]


@dataclass(frozen=True)
class Market:
    """Adjusted-basis OHLCV panel ``(n_bars, n_symbols)`` plus the universe and pair truth
    (all in memory: small configurations and tests; see :func:`simulate_market`)."""

    config: SyntheticConfig
    clock: BarClock
    symbols: tuple[str, ...]
    sectors: tuple[str, ...]  # sector per symbol
    bar_vol: np.ndarray  # per-bar log-return sd per symbol
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    pairs: tuple[PairTruth, ...]

    @property
    def n_bars(self) -> int:
        return self.clock.n_bars


def build_clock(cfg: SyntheticConfig) -> BarClock:
    """Bar clock of the configured calendar: ``n_days`` sessions from ``start`` (past ``end`` if
    needed) or every session of ``[start, end]``; NYSE holidays and early closes applied."""
    days = nyse_sessions(cfg.start, cfg.end, cfg.n_days, cfg.holidays)
    if len(days) < 2:
        raise ValueError(f"synthetic calendar {cfg.start}..{cfg.end} has fewer than 2 trading days")
    hh, mm = (int(x) for x in cfg.session_open.split(":"))
    open_time = dt.time(hh, mm)
    lengths = early_close_bars(days, open_time, cfg.bars_per_day)
    return bar_clock(days, open_time, cfg.bars_per_day, cfg.timezone, lengths)


def _state(rng: np.random.Generator) -> dict[str, Any]:
    return copy.deepcopy(rng.bit_generator.state)


def _replay(state: dict[str, Any]) -> np.random.Generator:
    bg = np.random.PCG64()
    bg.state = copy.deepcopy(state)
    return np.random.Generator(bg)


def _skip_normals(rng: np.random.Generator, n: int) -> None:
    """Advance ``rng`` past ``n`` standard normals (ziggurat: the raw draws vary, so draw them)."""
    while n > 0:
        k = min(n, _SKIP_BLOCK)
        rng.standard_normal(k)
        n -= k


def _path_block(
    g: dict[str, np.random.Generator],
    n: int,
    carry: np.ndarray,
    plan: MarketPlan | _Pass1,
    cfg: SyntheticConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """Close-price rows of the next ``n`` bars (factor model, before the pair legs) and the
    new cumulative log return. ``np.cumsum`` is sequential, so carrying the last value gives the
    same sums as one pass over the whole sample."""
    w_m, w_s, w_e = cfg.variance_shares
    n_sec = int(plan._sector_of.max()) + 1
    f_m = g["f_m"].standard_normal((n, 1))
    f_s = g["f_s"].standard_normal((n, n_sec))[:, plan._sector_of]
    e = g["e"].standard_normal((n, plan._sector_of.size))
    z = math.sqrt(w_m) * f_m + math.sqrt(w_s) * f_s + math.sqrt(w_e) * e
    bv = plan._bar_vol0[None, :]
    rets = z * bv - 0.5 * bv**2  # zero drift in price: E[exp(r)] = 1
    cum = np.cumsum(np.vstack([carry[None, :], rets]), axis=0)[1:]
    return plan._p0[None, :] * np.exp(cum), cum[-1].copy()


@dataclass(frozen=True)
class _Pass1:
    _p0: np.ndarray
    _bar_vol0: np.ndarray
    _sector_of: np.ndarray


def plan_market(cfg: SyntheticConfig) -> MarketPlan:
    """One pass over the sessions: universe, pairs, ``day_close`` and the replay states."""
    w = cfg.variance_shares
    if abs(sum(w) - 1.0) > 1e-9 or min(w) < 0:
        raise ValueError(f"variance_shares must be >= 0 and sum to 1, got {w}")
    rng = np.random.default_rng(cfg.seed)
    clock = build_clock(cfg)
    n_bars, n_sym = clock.n_bars, cfg.n_symbols
    symbols = universe(n_sym, cfg.unknown_ticker)
    sector_of = np.arange(n_sym) % len(cfg.sectors)
    bar_vol = rng.uniform(*cfg.daily_vol, size=n_sym) / math.sqrt(cfg.bars_per_day)
    lo, hi = cfg.start_price
    p0 = np.exp(rng.uniform(math.log(lo), math.log(hi), size=n_sym))
    n_sec = int(sector_of.max()) + 1
    states = {"f_m": _state(rng)}
    _skip_normals(rng, n_bars)
    states["f_s"] = _state(rng)
    _skip_normals(rng, n_bars * n_sec)
    states["e"] = _state(rng)
    kinds_legs = allocate_pairs(cfg, sector_of)
    b_cols = sorted({ib for _, _, ib in kinds_legs})
    g = {"f_m": _replay(states["f_m"]), "f_s": _replay(states["f_s"]), "e": rng}
    tmp = _Pass1(p0, bar_vol.copy(), sector_of)
    carry = np.zeros(n_sym)
    day_close = np.empty((len(clock.days), n_sym))
    b_path = np.empty((n_bars + 1, len(b_cols)))
    b_path[0] = (p0 * np.exp(carry))[b_cols]
    nonpos = np.zeros(n_sym, dtype=bool)
    for d in range(len(clock.days)):
        s, n = int(clock.day_start[d]), clock.day_len(d)
        path, carry = _path_block(g, n, carry, tmp, cfg)
        day_close[d] = path[-1]
        b_path[s + 1 : s + n + 1] = path[:, b_cols]
        nonpos |= (path <= 0).any(axis=0)
    pairs: list[PairTruth] = []
    bcol = {j: k for k, j in enumerate(b_cols)}
    ends = clock.day_start[1:]  # path row of each day's last close
    for kind, ia, ib in kinds_legs:
        pb = b_path[:, bcol[ib]]
        pt = build_pair(rng, cfg, kind, n_bars, ia, ib, symbols, float(pb[0]))
        pairs.append(pt)
        pa = np.empty(n_bars + 1)
        pa[1:] = pt.alpha + pt.beta * pb[1:] + pt.spread
        pa[0] = pt.alpha + pt.beta[0] * pb[0] + pt.s_initial
        day_close[:, ia] = pa[ends]
        nonpos[ia] = bool((pa <= 0).any())
        if np.all(pa > 0):
            bar_vol[ia] = float(np.std(np.diff(np.log(pa))))
    del b_path
    if nonpos.any():
        bad = sorted(symbols[j] for j in np.flatnonzero(nonpos))
        raise ValueError(f"synthetic prices went non-positive for {bad}; change seed or ranges")
    states["high"] = _state(rng)
    _skip_normals(rng, n_bars * n_sym)
    states["low"] = _state(rng)
    _skip_normals(rng, n_bars * n_sym)
    base = rng.uniform(2_000, 20_000, size=n_sym)
    states["volume"] = _state(rng)
    return MarketPlan(
        config=cfg,
        clock=clock,
        symbols=symbols,
        sectors=tuple(cfg.sectors[s] for s in sector_of),
        bar_vol=bar_vol,
        pairs=tuple(pairs),
        day_close=day_close,
        _bar_vol0=tmp._bar_vol0,
        _p0=p0,
        _sector_of=sector_of,
        _base_volume=base,
        _states=states,
    )


def simulate_market(cfg: SyntheticConfig) -> Market:
    """The whole adjusted-basis market in memory (deterministic in ``cfg.seed``)."""
    plan = plan_market(cfg)
    blocks = list(plan.iter_days())
    panel = {
        k: np.vstack([getattr(b, k) for b in blocks])
        for k in ("open", "high", "low", "close", "volume")
    }
    return Market(
        config=cfg,
        clock=plan.clock,
        symbols=plan.symbols,
        sectors=plan.sectors,
        bar_vol=plan.bar_vol,
        pairs=plan.pairs,
        **panel,
    )
