"""Constructed cointegrated pairs: how many of each kind, which names, and their paths.

Counts scale with the universe: ``pairs_constant``, ``pairs_drift`` and ``pairs_break`` are the
counts of a universe of ``pairs_reference_symbols`` names; a universe of ``n`` larger names gets
``floor(count * n / pairs_reference_symbols + 1/2)`` of each kind (smaller universes keep the
configured counts), so the share of names in constructed pairs is the same at every size
(default: 7 pairs on 30 names, 117 on 500). Pair ``k`` goes to sector ``k mod n_sectors`` (or the
next sector with two unused names) and takes the next two unused names of that sector, so every
sector holds the same number of pairs up to one. At most ``n // 2 - 1`` pairs are built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from statarb.synthetic.config import SyntheticConfig
from statarb.synthetic.processes import (
    half_life,
    linear_path,
    log_random_walk_path,
    ou_exact,
    ou_stationary_sd,
)


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


def scaled_counts(cfg: SyntheticConfig) -> dict[str, int]:
    """Pairs of each configured kind for ``cfg.n_symbols`` names (rule in the module docstring)."""
    base = {
        "constant": cfg.pairs_constant,
        "drift": cfg.pairs_drift,
        "break": cfg.pairs_break,
    }
    ref = cfg.pairs_reference_symbols
    if cfg.n_symbols <= ref:
        return base
    return {k: math.floor(v * cfg.n_symbols / ref + 0.5) for k, v in base.items()}


def pair_kinds(cfg: SyntheticConfig) -> list[str]:
    """Pair kinds in round-robin order so that truncation keeps one of each kind first.

    Drifting pairs alternate between a linear and a log-random-walk (bridge) beta path.
    """
    n = scaled_counts(cfg)
    pools = {
        "constant": n["constant"],
        "drift_linear": (n["drift"] + 1) // 2,
        "break": n["break"],
        "drift_rw": n["drift"] // 2,
    }
    kinds: list[str] = []
    while any(pools.values()):
        for k in pools:
            if pools[k]:
                kinds.append(k)
                pools[k] -= 1
    max_pairs = max(cfg.n_symbols // 2 - 1, 0)
    return kinds[:max_pairs]


def allocate_pairs(cfg: SyntheticConfig, sector_of: np.ndarray) -> list[tuple[str, int, int]]:
    """``(kind, ia, ib)`` of every pair: names by sector as in the module docstring."""
    n_sec = len(cfg.sectors)
    unused = {s: [i for i in range(sector_of.size) if sector_of[i] == s] for s in range(n_sec)}
    out: list[tuple[str, int, int]] = []
    for k, kind in enumerate(pair_kinds(cfg)):
        sec = next((s % n_sec for s in range(k, k + n_sec) if len(unused[s % n_sec]) >= 2), None)
        if sec is None:
            break
        out.append((kind, unused[sec].pop(0), unused[sec].pop(0)))  # symbols sorted: ia < ib
    return out


def build_pair(
    rng: np.random.Generator,
    cfg: SyntheticConfig,
    kind: str,
    n_bars: int,
    ia: int,
    ib: int,
    symbols: tuple[str, ...],
    b0: float,
) -> PairTruth:
    """Draw one pair's parameters, ``beta_t`` and spread path (``b0``: first price of leg B)."""
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
