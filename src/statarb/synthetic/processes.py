"""Stochastic processes of the synthetic market (vectorised NumPy).

* Ornstein-Uhlenbeck ``dX = theta (mu - X) dt + sigma dW`` sampled with the *exact* discretisation
  on a unit (one-bar) grid: ``X_{t+1} = mu + (X_t - mu) e^{-theta} + eps``,
  ``eps ~ N(0, sigma^2 (1 - e^{-2 theta}) / (2 theta))`` (Gillespie 1996, Phys. Rev. E 54, 2084;
  Uhlenbeck & Ornstein 1930). Half-life ``ln 2 / theta`` bars.
* Log-price factor model: per-bar log return of symbol ``i`` is
  ``r_i = sqrt(w_m) s_i f_m + sqrt(w_s) s_i f_{sector(i)} + sqrt(w_e) s_i e_i`` with independent
  standard normal factor/idiosyncratic shocks, ``s_i`` the per-bar volatility and
  ``w_m + w_s + w_e = 1``; prices are geometric random walks ``P_t = P_0 exp(sum r)``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import lfilter


def ou_ar1_coefficients(theta: float, sigma: float) -> tuple[float, float]:
    """AR(1) coefficient ``phi = e^{-theta}`` and innovation sd of the exact one-bar OU step."""
    if theta <= 0 or sigma <= 0:
        raise ValueError(f"OU needs theta > 0 and sigma > 0, got theta={theta}, sigma={sigma}")
    return math.exp(-theta), math.sqrt(ou_step_variance(theta, sigma))


def ou_step_variance(theta: float, sigma: float) -> float:
    """Conditional variance of one exact OU step: ``sigma^2 / (2 theta) (1 - e^{-2 theta})``."""
    return sigma**2 / (2.0 * theta) * (1.0 - math.exp(-2.0 * theta))


def ou_stationary_sd(theta: float, sigma: float) -> float:
    """Stationary standard deviation ``sigma / sqrt(2 theta)``."""
    return sigma / math.sqrt(2.0 * theta)


def half_life(theta: float) -> float:
    """Half-life ``ln 2 / theta`` (in bars when theta is per bar)."""
    return math.log(2.0) / theta


def ou_exact(
    n: int,
    theta: float,
    mu: float,
    sigma: float,
    x0: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """``n`` points of an exact OU path on a one-bar grid, starting at ``x0`` (returned first)."""
    phi, sd = ou_ar1_coefficients(theta, sigma)
    eps = rng.standard_normal(n - 1) * sd
    # y_t = phi y_{t-1} + eps_t with y = X - mu: a first-order IIR filter
    y, _ = lfilter([1.0], [1.0, -phi], eps, zi=[phi * (x0 - mu)])
    return np.concatenate(([x0], mu + y))


def factor_log_returns(
    rng: np.random.Generator,
    n_bars: int,
    sector_of: np.ndarray,
    bar_vol: np.ndarray,
    shares: tuple[float, float, float],
) -> np.ndarray:
    """``(n_bars, n_symbols)`` log returns of the market + sector + idiosyncratic model."""
    w_m, w_s, w_e = shares
    if abs(w_m + w_s + w_e - 1.0) > 1e-9 or min(shares) < 0:
        raise ValueError(f"variance_shares must be >= 0 and sum to 1, got {shares}")
    n_sym = sector_of.size
    n_sec = int(sector_of.max()) + 1 if n_sym else 0
    f_m = rng.standard_normal((n_bars, 1))
    f_s = rng.standard_normal((n_bars, n_sec))[:, sector_of]
    e = rng.standard_normal((n_bars, n_sym))
    z = math.sqrt(w_m) * f_m + math.sqrt(w_s) * f_s + math.sqrt(w_e) * e
    # zero drift in price: E[exp(r)] = 1 needs mean -s^2/2
    return z * bar_vol[None, :] - 0.5 * bar_vol[None, :] ** 2


def geometric_paths(p0: np.ndarray, log_returns: np.ndarray) -> np.ndarray:
    """``(n_bars + 1, n_symbols)`` price paths ``P_0 exp(cumsum r)`` (row 0 is ``P_0``)."""
    cum = np.vstack([np.zeros((1, p0.size)), np.cumsum(log_returns, axis=0)])
    return p0[None, :] * np.exp(cum)


def linear_path(n: int, start: float, end: float) -> np.ndarray:
    """``n`` points moving linearly from ``start`` to ``end``."""
    return np.linspace(start, end, n)


def log_random_walk_path(
    n: int, start: float, end: float, wiggle_sd: float, rng: np.random.Generator
) -> np.ndarray:
    """``n`` points from ``start`` to ``end``: ``exp`` of a Brownian bridge in log space.

    ``log b_t = log start + (t / (n-1)) log(end / start) + B_t`` with ``B`` a Gaussian random walk
    pinned to 0 at both ends (``B_t = W_t - (t / (n-1)) W_{n-1}``) and ``sd(W_{n-1}) = wiggle_sd``.
    """
    steps = rng.standard_normal(n - 1) * (wiggle_sd / math.sqrt(max(n - 1, 1)))
    w = np.concatenate(([0.0], np.cumsum(steps)))
    frac = np.arange(n) / max(n - 1, 1)
    log_b = math.log(start) + frac * math.log(end / start) + (w - frac * w[-1])
    out = np.exp(log_b)
    out[0], out[-1] = start, end
    return out
