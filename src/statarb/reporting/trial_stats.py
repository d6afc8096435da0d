"""Trial-aware Sharpe statistics: PSR, minimum track-record length, deflated Sharpe, bootstrap CI.

All functions take **per-period** (per-bar, non-annualised) Sharpe ratios ``SR = mean(r) /
std(r, ddof=1)`` of the same simple bar returns that :mod:`statarb.reporting.metrics` uses for
``sharpe_annual`` (annualised Sharpe = ``SR * sqrt(P)``, ``P`` = periods per year), and the sample
skewness ``g3`` and (non-excess) kurtosis ``g4`` of those returns (population moments, as in the
papers; a normal sample has ``g3 = 0``, ``g4 = 3``).

* **Standard error of SR** under non-normal i.i.d. returns (Mertens 2002; Bailey & López de Prado
  2012, "The Sharpe Ratio Efficient Frontier", J. Risk 15(2), eq. 4)::

      sigma(SR) = sqrt((1 - g3 * SR + (g4 - 1) / 4 * SR**2) / (n - 1))

  (for normal returns this is Lo 2002's ``sqrt((1 + SR**2 / 2) / n)`` up to ``n - 1``).
* **Probabilistic Sharpe ratio** (same paper, eq. 6): ``PSR(SR*) = Phi((SR - SR*) / sigma(SR))``,
  the probability that the true Sharpe exceeds the benchmark ``SR*``.
* **Minimum track-record length** (same paper, eq. 11): the number of returns at which
  ``PSR(SR*) = p``::

      MinTRL = 1 + (1 - g3 * SR + (g4 - 1) / 4 * SR**2) * (Phi^-1(p) / (SR - SR*))**2

* **Deflated Sharpe ratio** (Bailey & López de Prado 2014, "The Deflated Sharpe Ratio: Correcting
  for Selection Bias, Backtest Overfitting and Non-Normality", J. Portfolio Mgmt 40(5), eqs. 1-2):
  the PSR against the expected maximum Sharpe of ``N`` independent trials whose Sharpe ratios have
  variance ``V`` (and mean 0 under the null)::

      SR0 = sqrt(V) * ((1 - gamma) * Phi^-1(1 - 1/N) + gamma * Phi^-1(1 - 1/(N e)))
      DSR = PSR(SR0)

  with ``gamma`` the Euler-Mascheroni constant. One trial (``N = 1``): ``SR0 = 0``, DSR = PSR(0).
* **Bootstrap confidence interval** of the annualised Sharpe ratio for autocorrelated returns: the
  stationary bootstrap (Politis & Romano 1994) or the circular block bootstrap (Politis & Romano
  1992) of the ``arch`` package, block length by default from Politis & White (2004) with the
  correction of Patton, Politis & White (2009) (``arch.bootstrap.optimal_block_length``);
  percentile interval and bootstrap standard error, reproducible from a seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

EULER_GAMMA = float(np.euler_gamma)
BootstrapMethod = Literal["stationary", "circular"]


@dataclass(frozen=True)
class ReturnMoments:
    """Per-period moments of a return series (``kurtosis`` is non-excess: 3 for a normal)."""

    n: int
    mean: float
    std: float
    sharpe: float  # mean / std (ddof = 1), per period
    skew: float
    kurtosis: float


@dataclass(frozen=True)
class DeflatedSharpe:
    """DSR of one strategy selected from ``n_trials`` (``sharpe_variance``: of the trials' per-period
    Sharpe ratios); ``expected_max_sharpe`` is the benchmark ``SR0`` (per period)."""

    dsr: float
    expected_max_sharpe: float
    n_trials: int
    sharpe_variance: float


@dataclass(frozen=True)
class SharpeInterval:
    """Bootstrap confidence interval of the annualised Sharpe ratio."""

    sharpe: float  # point estimate (annualised)
    low: float
    high: float
    std_error: float  # standard deviation of the bootstrap replicates (annualised)
    confidence: float
    method: str
    block_bars: float
    n_boot: int
    seed: int


def return_moments(returns: np.ndarray) -> ReturnMoments:
    """Moments of ``returns``; ``ValueError`` for fewer than 3 finite values or zero variance."""
    r = np.asarray(returns, dtype=float)
    r = r[np.isfinite(r)]
    if r.size < 3:
        raise ValueError(f"need at least 3 finite returns for Sharpe moments, got {r.size}")
    sd = float(r.std(ddof=1))
    if sd == 0.0:
        raise ValueError("returns have zero variance: the Sharpe ratio is undefined")
    return ReturnMoments(
        n=int(r.size),
        mean=float(r.mean()),
        std=sd,
        sharpe=float(r.mean() / sd),
        skew=float(stats.skew(r, bias=True)),
        kurtosis=float(stats.kurtosis(r, fisher=False, bias=True)),
    )


def sharpe_std_error(sharpe: float, n: int, skew: float = 0.0, kurtosis: float = 3.0) -> float:
    """Standard error of a per-period Sharpe estimate from ``n`` returns (Bailey & López de Prado
    2012, eq. 4; Mertens 2002)."""
    if n < 2:
        raise ValueError(f"need n >= 2 returns, got {n}")
    var = (1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2) / (n - 1)
    if var <= 0.0:
        raise ValueError(
            f"non-positive Sharpe variance {var} (skew={skew}, kurtosis={kurtosis}, SR={sharpe})"
        )
    return math.sqrt(var)


def probabilistic_sharpe_ratio(
    sharpe: float,
    n: int,
    skew: float = 0.0,
    kurtosis: float = 3.0,
    benchmark: float = 0.0,
) -> float:
    """``PSR(benchmark) = Phi((SR - SR*) / sigma(SR))`` (Bailey & López de Prado 2012, eq. 6);
    ``sharpe`` and ``benchmark`` per period."""
    z = (sharpe - benchmark) / sharpe_std_error(sharpe, n, skew, kurtosis)
    return float(stats.norm.cdf(z))


def min_track_record_length(
    sharpe: float,
    skew: float = 0.0,
    kurtosis: float = 3.0,
    benchmark: float = 0.0,
    confidence: float = 0.95,
) -> float:
    """Returns needed for ``PSR(benchmark) >= confidence`` (Bailey & López de Prado 2012, eq. 11).

    ``inf`` when ``sharpe <= benchmark`` (no track record is long enough).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if sharpe <= benchmark:
        return math.inf
    z = stats.norm.ppf(confidence)
    spread = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    return float(1.0 + spread * (z / (sharpe - benchmark)) ** 2)


def expected_max_sharpe(n_trials: int, sharpe_variance: float, mean: float = 0.0) -> float:
    """Expected maximum of ``n_trials`` Sharpe estimates with mean ``mean`` and variance
    ``sharpe_variance`` (Bailey & López de Prado 2014, eq. 1; the false-strategy theorem of
    Bailey, Borwein, López de Prado & Zhu 2014). ``n_trials = 1`` gives ``mean``."""
    if n_trials < 1:
        raise ValueError(f"n_trials must be >= 1, got {n_trials}")
    if sharpe_variance < 0:
        raise ValueError(f"sharpe_variance must be >= 0, got {sharpe_variance}")
    if n_trials == 1:
        return float(mean)
    z1 = stats.norm.ppf(1.0 - 1.0 / n_trials)
    z2 = stats.norm.ppf(1.0 - 1.0 / (n_trials * math.e))
    return float(mean + math.sqrt(sharpe_variance) * ((1 - EULER_GAMMA) * z1 + EULER_GAMMA * z2))


def deflated_sharpe_ratio(
    sharpe: float,
    n: int,
    n_trials: int,
    sharpe_variance: float,
    skew: float = 0.0,
    kurtosis: float = 3.0,
) -> DeflatedSharpe:
    """DSR = PSR against :func:`expected_max_sharpe` of the trials (Bailey & López de Prado 2014,
    eq. 2). ``sharpe`` and ``sharpe_variance`` per period; ``n`` returns of the selected trial."""
    sr0 = expected_max_sharpe(n_trials, sharpe_variance)
    dsr = probabilistic_sharpe_ratio(sharpe, n, skew, kurtosis, benchmark=sr0)
    return DeflatedSharpe(dsr, sr0, int(n_trials), float(sharpe_variance))


def _sharpe_of(x: np.ndarray) -> float:
    sd = x.std(ddof=1)
    return float(x.mean() / sd) if sd > 0 else math.nan


def bootstrap_sharpe_ci(
    returns: np.ndarray,
    periods: float,
    n_boot: int = 1000,
    block_bars: float | None = None,
    method: BootstrapMethod = "stationary",
    confidence: float = 0.95,
    seed: int = 0,
) -> SharpeInterval:
    """Percentile bootstrap interval of the annualised Sharpe ``mean/std(ddof=1) * sqrt(periods)``.

    ``method``: ``"stationary"`` (geometric block lengths of mean ``block_bars``) or
    ``"circular"`` (fixed blocks, wrapped). ``block_bars=None`` takes the Politis-White optimal
    length for the method (at least 1). Resampling keeps the dependence within blocks, so the
    interval widens for autocorrelated returns; with ``block_bars = 1`` it is the i.i.d. bootstrap.
    """
    from arch.bootstrap import CircularBlockBootstrap, StationaryBootstrap, optimal_block_length

    r = np.asarray(returns, dtype=float)
    r = r[np.isfinite(r)]
    if r.size < 3:
        raise ValueError(f"need at least 3 finite returns to bootstrap, got {r.size}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n_boot < 2:
        raise ValueError(f"n_boot must be >= 2, got {n_boot}")
    if method not in ("stationary", "circular"):
        raise ValueError(f"bootstrap method must be 'stationary' or 'circular', got {method!r}")
    if block_bars is None:
        opt = optimal_block_length(r)
        block = float(opt["stationary" if method == "stationary" else "circular"].iloc[0])
        block = max(1.0, block if math.isfinite(block) else 1.0)
    else:
        block = float(block_bars)
        if block < 1:
            raise ValueError(f"block_bars must be >= 1, got {block_bars}")
    rng = np.random.default_rng(seed)
    if method == "stationary":
        bs = StationaryBootstrap(block, r, seed=rng)
    else:
        bs = CircularBlockBootstrap(max(1, int(round(block))), r, seed=rng)
    reps = bs.apply(_sharpe_of, n_boot).ravel() * math.sqrt(periods)
    reps = reps[np.isfinite(reps)]
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(reps, [alpha, 1.0 - alpha])
    return SharpeInterval(
        sharpe=_sharpe_of(r) * math.sqrt(periods),
        low=float(lo),
        high=float(hi),
        std_error=float(reps.std(ddof=1)),
        confidence=float(confidence),
        method=method,
        block_bars=block,
        n_boot=int(n_boot),
        seed=int(seed),
    )


def run_trial_stats(
    returns: np.ndarray,
    periods: float,
    n_trials: int | None = None,
    sharpe_variance: float | None = None,
    psr_benchmark: float = 0.0,
    min_trl_confidence: float = 0.95,
    bootstrap: dict | None = None,
) -> dict:
    """The ``metrics_json.trial_stats`` block of one run from its per-bar (excess) returns.

    ``periods`` annualises (``sharpe_annual = SR * sqrt(periods)``). ``psr_benchmark`` and
    ``sharpe_variance`` are annual (converted with ``/ sqrt(periods)`` and ``/ periods``).
    ``n_trials`` ``None`` or 1: not deflated (``dsr`` = PSR against 0). A return series without
    variance gives ``None`` values and a ``reason``.
    """
    boot = dict(bootstrap or {})
    try:
        m = return_moments(returns)
    except ValueError as exc:
        return {"reason": str(exc), "psr": None, "deflated": None, "bootstrap": None}
    root = math.sqrt(periods)
    bench = psr_benchmark / root
    psr = probabilistic_sharpe_ratio(m.sharpe, m.n, m.skew, m.kurtosis, benchmark=bench)
    trl = min_track_record_length(m.sharpe, m.skew, m.kurtosis, bench, min_trl_confidence)
    deflate = n_trials is not None and n_trials > 1
    var = float(sharpe_variance) / periods if deflate else 0.0
    d = deflated_sharpe_ratio(m.sharpe, m.n, int(n_trials or 1), var, m.skew, m.kurtosis)
    ci = bootstrap_sharpe_ci(returns, periods, **boot)
    return {
        "sharpe_per_bar": m.sharpe,
        "sharpe_annual": m.sharpe * root,
        "n_returns": m.n,
        "skew": m.skew,
        "kurtosis": m.kurtosis,
        "sharpe_std_error_annual": sharpe_std_error(m.sharpe, m.n, m.skew, m.kurtosis) * root,
        "psr": psr,
        "psr_benchmark_annual": float(psr_benchmark),
        "min_track_record": {
            "bars": trl,
            "years": trl / periods,
            "confidence": float(min_trl_confidence),
        },
        "deflated": {
            "applied": bool(deflate),
            "n_trials": int(n_trials or 1),
            "sharpe_variance_annual": float(sharpe_variance) if deflate else None,
            "expected_max_sharpe_annual": d.expected_max_sharpe * root,
            "dsr": d.dsr,
        },
        "bootstrap": {
            "method": ci.method,
            "block_bars": ci.block_bars,
            "n_boot": ci.n_boot,
            "seed": ci.seed,
            "confidence": ci.confidence,
            "sharpe_low": ci.low,
            "sharpe_high": ci.high,
            "sharpe_std_error": ci.std_error,
        },
    }
