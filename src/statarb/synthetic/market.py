"""The synthetic market in the *adjusted* basis: universe, cointegrated pairs and OHLCV paths.

Prices of free names follow the factor model of :mod:`.processes`. Each cointegrated pair
``A_B`` (``A < B``) is built as ``price_A = alpha + beta_t * price_B + s_t`` on bar closes, with
``s_t`` an exact OU process (mean ``mu``), ``beta_t`` constant, drifting linearly or as a log random
walk, and for a "break" pair ``s_t`` turning into a random walk from ``break`` bar on. Bar ``t``
opens at the previous close (path row ``t``) and closes at path row ``t + 1``; highs/lows add
half-normal wicks, volume follows a U-shaped intraday profile.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from statarb.synthetic.calendar import BarClock, bar_clock, trading_days
from statarb.synthetic.config import SyntheticConfig
from statarb.synthetic.processes import (
    factor_log_returns,
    geometric_paths,
    half_life,
    linear_path,
    log_random_walk_path,
    ou_exact,
    ou_stationary_sd,
)

TICKERS = (
    "ALDR", "BRQX", "CAVN", "DENT", "ELMO", "FAXR", "GORV", "HALD", "IVRA", "JUNO",
    "KESL", "LUMR", "MAPX", "NORV", "OPTA", "PRYX", "QUIL", "RAVN", "SOLX", "TARN",
    "UMBR", "VEXA", "WOLD", "XENT", "YARB", "ZEPH", "ACRN", "BOLT", "CIRX", "DRAV",
    "EXAL", "FYRN", "GLEN", "HYPR", "INDO", "JAXT", "KORV", "LYNX", "MERI", "NEXL",
)  # fmt: skip


@dataclass(frozen=True)
class PairTruth:
    """Ground truth of one constructed pair (adjusted basis)."""

    pair_id: str
    symbol_a: str
    symbol_b: str
    kind: str  # constant | drift_linear | drift_rw | break
    sector: str
    alpha: float
    theta: float
    mu: float
    sigma: float
    beta: np.ndarray  # per bar close, length n_bars
    spread: np.ndarray  # s_t per bar close (price_A - alpha - beta_t price_B), length n_bars
    s_initial: float  # s at the open of the first bar
    break_bar: int | None

    @property
    def half_life(self) -> float:
        return half_life(self.theta)


@dataclass(frozen=True)
class Market:
    """Adjusted-basis OHLCV panel ``(n_bars, n_symbols)`` plus the universe and pair truth."""

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
    """Bar clock of the configured calendar (truncated to ``n_days`` when set)."""
    days = trading_days(cfg.start, cfg.end, cfg.holidays)
    if cfg.n_days is not None:
        days = days[: cfg.n_days]
    if len(days) < 2:
        raise ValueError(f"synthetic calendar {cfg.start}..{cfg.end} has fewer than 2 trading days")
    hh, mm = (int(x) for x in cfg.session_open.split(":"))
    return bar_clock(days, dt.time(hh, mm), cfg.bars_per_day, cfg.timezone)


def _pair_kinds(cfg: SyntheticConfig) -> list[str]:
    """Pair kinds in round-robin order so that truncation keeps one of each kind first.

    Drifting pairs alternate between a linear and a log-random-walk (bridge) beta path.
    """
    pools = {
        "constant": cfg.pairs_constant,
        "drift_linear": (cfg.pairs_drift + 1) // 2,
        "break": cfg.pairs_break,
        "drift_rw": cfg.pairs_drift // 2,
    }
    kinds: list[str] = []
    while any(pools.values()):
        for k in pools:
            if pools[k]:
                kinds.append(k)
                pools[k] -= 1
    max_pairs = max(cfg.n_symbols // 2 - 1, 0)
    return kinds[:max_pairs]


def _wicks_and_volume(
    rng: np.random.Generator, path: np.ndarray, bar_vol: np.ndarray, bars_per_day: int
) -> tuple[np.ndarray, ...]:
    n_bars = path.shape[0] - 1
    o, c = path[:-1], path[1:]
    w = 0.5 * bar_vol[None, :] * np.minimum(o, c)
    high = np.maximum(o, c) + np.abs(rng.standard_normal(o.shape)) * w
    low = np.minimum(o, c) - np.abs(rng.standard_normal(o.shape)) * w
    minute = np.arange(n_bars) % bars_per_day
    x = (minute - (bars_per_day - 1) / 2) / ((bars_per_day - 1) / 2)
    profile = 1.0 + 2.5 * x**2  # U shape: heavy open and close
    base = rng.uniform(2_000, 20_000, size=o.shape[1])
    vol = base[None, :] * profile[:, None] * rng.lognormal(0.0, 0.4, size=o.shape)
    return o.copy(), high, low, c.copy(), np.maximum(np.rint(vol), 1.0)


def simulate_market(cfg: SyntheticConfig) -> Market:
    """Simulate the adjusted-basis market for ``cfg`` (deterministic in ``cfg.seed``)."""
    if not 2 <= cfg.n_symbols <= len(TICKERS):
        raise ValueError(f"n_symbols must be in [2, {len(TICKERS)}], got {cfg.n_symbols}")
    rng = np.random.default_rng(cfg.seed)
    clock = build_clock(cfg)
    n_bars, n_sym = clock.n_bars, cfg.n_symbols
    symbols = tuple(sorted(TICKERS[:n_sym]))
    sector_of = np.arange(n_sym) % len(cfg.sectors)
    bar_vol = rng.uniform(*cfg.daily_vol, size=n_sym) / math.sqrt(cfg.bars_per_day)
    lo, hi = cfg.start_price
    p0 = np.exp(rng.uniform(math.log(lo), math.log(hi), size=n_sym))
    rets = factor_log_returns(rng, n_bars, sector_of, bar_vol, cfg.variance_shares)
    path = geometric_paths(p0, rets)  # (n_bars + 1, n_sym)

    # allocate pairs: pair k in sector k % n_sectors, next two unused names of that sector
    unused = {s: [i for i in range(n_sym) if sector_of[i] == s] for s in range(len(cfg.sectors))}
    pairs: list[PairTruth] = []
    for k, kind in enumerate(_pair_kinds(cfg)):
        sec = next(
            (s % len(cfg.sectors) for s in range(k, k + len(cfg.sectors))
             if len(unused[s % len(cfg.sectors)]) >= 2),
            None,
        )  # fmt: skip
        if sec is None:
            break
        ia, ib = unused[sec].pop(0), unused[sec].pop(0)  # symbols sorted, so ia < ib
        pt = _build_pair(rng, cfg, kind, n_bars, ia, ib, symbols, float(path[0, ib]))
        pairs.append(pt)
        path[1:, ia] = pt.alpha + pt.beta * path[1:, ib] + pt.spread
        path[0, ia] = pt.alpha + pt.beta[0] * path[0, ib] + pt.s_initial
        if np.all(path[:, ia] > 0):
            bar_vol[ia] = float(np.std(np.diff(np.log(path[:, ia]))))
    if np.any(path <= 0):
        bad = sorted({symbols[j] for j in np.where((path <= 0).any(axis=0))[0]})
        raise ValueError(f"synthetic prices went non-positive for {bad}; change seed or ranges")
    o, h, lw, c, v = _wicks_and_volume(rng, path, bar_vol, cfg.bars_per_day)
    return Market(
        config=cfg,
        clock=clock,
        symbols=symbols,
        sectors=tuple(cfg.sectors[s] for s in sector_of),
        bar_vol=bar_vol,
        open=o,
        high=h,
        low=lw,
        close=c,
        volume=v,
        pairs=tuple(pairs),
    )


def _build_pair(
    rng: np.random.Generator,
    cfg: SyntheticConfig,
    kind: str,
    n_bars: int,
    ia: int,
    ib: int,
    symbols: tuple[str, ...],
    b0: float,
) -> PairTruth:
    beta0 = float(rng.uniform(*cfg.beta_range))
    level_a = beta0 * b0 * float(rng.uniform(0.7, 1.3))
    alpha = round(level_a - beta0 * b0, 4)
    hl_lo, hl_hi = cfg.half_life_bars
    hl = float(np.exp(rng.uniform(math.log(hl_lo), math.log(hl_hi))))
    theta = math.log(2.0) / hl
    sd_stat = float(rng.uniform(*cfg.spread_sd_frac)) * level_a
    sigma = sd_stat * math.sqrt(2.0 * theta)
    mu = 0.0
    sign = 1.0 if rng.uniform() < 0.5 else -1.0
    beta_end = beta0 * (1.0 + sign * cfg.beta_drift)
    if kind == "drift_linear":
        beta = linear_path(n_bars, beta0, beta_end)
    elif kind == "drift_rw":
        beta = log_random_walk_path(n_bars, beta0, beta_end, cfg.beta_drift, rng)
    else:
        beta = np.full(n_bars, beta0)
    x0 = mu + rng.standard_normal() * ou_stationary_sd(theta, sigma)
    s = ou_exact(n_bars + 1, theta, mu, sigma, x0, rng)[1:]

    break_bar = None
    if kind == "break":
        break_bar = n_bars // 2
        steps = rng.standard_normal(n_bars - break_bar) * sigma
        s[break_bar:] = s[break_bar - 1] + np.cumsum(steps)
    return PairTruth(
        pair_id=f"{symbols[ia]}_{symbols[ib]}",
        symbol_a=symbols[ia],
        symbol_b=symbols[ib],
        kind=kind,
        sector=cfg.sectors[ia % len(cfg.sectors)],
        alpha=alpha,
        theta=theta,
        mu=mu,
        sigma=sigma,
        beta=beta,
        spread=s,
        s_initial=float(x0),
        break_bar=break_bar,
    )
