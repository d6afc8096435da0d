"""Return-based performance metrics of one backtest run.

Conventions (documented in ``docs/reporting.md``; they match empyrical-reloaded so the tests can use
it as the reference):

* Returns are simple bar returns of the equity curve, ``r_i = E_i / E_{i-1} - 1``, one per mark
  after the first (the overnight gap is carried by the first bar of a session).
* Annualisation factor ``P`` (periods per year): for intraday bars ``P = bars_per_session * 252``
  with ``bars_per_session = session_minutes / bar_minutes`` (NYSE regular session: 390 minutes);
  for daily or longer bars ``P = 252 / bar_days``.
* Sharpe: ``mean(r - rf) / std(r - rf, ddof=1) * sqrt(P)`` (Sharpe 1994), ``rf`` per period,
  0 by default.
* Sortino: ``mean(r - MAR) * P / (sqrt(mean(min(r - MAR, 0)^2)) * sqrt(P))`` (Sortino & Price
  1994, downside deviation over *all* periods), ``MAR`` = 0 by default.
* Max drawdown: ``min_t (E_t / max_{s<=t} E_s - 1)``, a **negative** decimal (``-0.12`` = 12 %
  below the running peak); the first equity mark is the initial peak.
* Annual return (CAGR): ``(E_T / E_0) ** (P / n) - 1`` with ``n`` the number of returns.
* Calmar: ``annual_return / |max_drawdown|`` (Young 1991), NaN when there is no drawdown.
* Total return: ``E_T / E_0 - 1``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import polars as pl

TRADING_DAYS_PER_YEAR = 252
SESSION_MINUTES = 390  # NYSE regular session 09:30-16:00 America/New_York


def equity_returns(equity: pl.DataFrame) -> pl.DataFrame:
    """Simple returns of an equity curve: columns ``ts``, ``equity``, ``ret`` (first row dropped).

    ``equity`` needs columns ``ts`` and ``equity`` (one run, spec §4.3 ``backtest_equity``).
    Raises ``ValueError`` naming the rule if timestamps repeat or equity is not positive.
    """
    missing = {"ts", "equity"} - set(equity.columns)
    if missing:
        raise ValueError(f"backtest_equity frame lacks column(s) {sorted(missing)}")
    eq = equity.select("ts", "equity").sort("ts")
    if eq["ts"].is_duplicated().any():
        dup = eq.filter(pl.col("ts").is_duplicated())["ts"][0]
        raise ValueError(f"backtest_equity: ts {dup} appears twice (rule: unique (run_id, ts))")
    if (eq["equity"] <= 0).any():
        bad = eq.filter(pl.col("equity") <= 0).row(0, named=True)
        raise ValueError(f"backtest_equity: equity must be > 0 for returns, got {bad}")
    return eq.with_columns(ret=pl.col("equity") / pl.col("equity").shift(1) - 1.0).slice(1)


def infer_bar_interval(ts: pl.Series) -> timedelta:
    """Bar length: the most frequent positive gap between consecutive timestamps.

    The mode (not the mean) ignores overnight and weekend gaps. Raises ``ValueError`` with fewer
    than two distinct timestamps.
    """
    diffs = ts.sort().diff().drop_nulls()
    diffs = diffs.filter(diffs > timedelta(0))
    if diffs.len() == 0:
        raise ValueError("cannot infer the bar interval from fewer than two distinct timestamps")
    return diffs.mode().sort()[0]


def periods_per_year(
    bar_interval: timedelta,
    session_minutes: float = SESSION_MINUTES,
    trading_days: int = TRADING_DAYS_PER_YEAR,
) -> float:
    """Annualisation factor: ``session_minutes / bar_minutes * trading_days`` for intraday bars,
    ``trading_days / bar_days`` for daily or longer bars (e.g. 1-minute bars: 390 * 252 = 98280).
    """
    seconds = bar_interval.total_seconds()
    if seconds <= 0:
        raise ValueError(f"bar interval must be positive, got {bar_interval}")
    if bar_interval < timedelta(days=1):
        return session_minutes * 60.0 / seconds * trading_days
    return trading_days / (seconds / 86400.0)


def sharpe_ratio(returns: np.ndarray, periods: float, risk_free: float = 0.0) -> float:
    """Annualised Sharpe ratio ``mean(r - rf) / std(r - rf, ddof=1) * sqrt(periods)``.

    NaN for fewer than two returns or zero dispersion (Sharpe, J. Portfolio Mgmt 1994).
    """
    r = np.asarray(returns, dtype=float) - risk_free
    if r.size < 2:
        return math.nan
    sd = r.std(ddof=1)
    if not np.isfinite(sd) or sd == 0.0:
        return math.nan
    return float(r.mean() / sd * math.sqrt(periods))


def downside_deviation(returns: np.ndarray, periods: float, required_return: float = 0.0) -> float:
    """Annualised downside deviation ``sqrt(mean(min(r - MAR, 0)^2)) * sqrt(periods)``."""
    r = np.asarray(returns, dtype=float) - required_return
    if r.size == 0:
        return math.nan
    return float(math.sqrt(np.mean(np.minimum(r, 0.0) ** 2)) * math.sqrt(periods))


def sortino_ratio(returns: np.ndarray, periods: float, required_return: float = 0.0) -> float:
    """Annualised Sortino ratio ``mean(r - MAR) * periods / downside_deviation``.

    NaN for fewer than two returns; ``inf`` when no return is below ``MAR`` and the mean is positive
    (Sortino & Price, J. Investing 1994).
    """
    r = np.asarray(returns, dtype=float)
    if r.size < 2:
        return math.nan
    dd = downside_deviation(r, periods, required_return)
    num = float(np.mean(r - required_return) * periods)
    if dd == 0.0:
        return math.inf if num > 0 else math.nan
    return num / dd


def drawdown_series(equity: np.ndarray) -> np.ndarray:
    """Drawdown at each mark ``E_t / max_{s<=t} E_s - 1`` (zero or negative)."""
    e = np.asarray(equity, dtype=float)
    return e / np.maximum.accumulate(e) - 1.0


def max_drawdown(equity: np.ndarray) -> float:
    """Maximum drawdown as a negative decimal (0.0 if equity never falls below its running peak)."""
    e = np.asarray(equity, dtype=float)
    if e.size == 0:
        return math.nan
    return float(drawdown_series(e).min())


def total_return(equity: np.ndarray) -> float:
    """``E_T / E_0 - 1`` over the whole run."""
    e = np.asarray(equity, dtype=float)
    if e.size < 2:
        return math.nan
    return float(e[-1] / e[0] - 1.0)


def annual_return(equity: np.ndarray, periods: float) -> float:
    """Compound annual growth rate ``(E_T / E_0) ** (periods / n) - 1``, ``n`` = number of returns."""
    e = np.asarray(equity, dtype=float)
    n = e.size - 1
    if n < 1:
        return math.nan
    return float((e[-1] / e[0]) ** (periods / n) - 1.0)


def calmar_ratio(equity: np.ndarray, periods: float) -> float:
    """Calmar ratio ``annual_return / |max_drawdown|``; NaN without a drawdown (Young 1991)."""
    mdd = max_drawdown(equity)
    if not mdd < 0:
        return math.nan
    value = annual_return(equity, periods) / abs(mdd)
    return value if math.isfinite(value) else math.nan


@dataclass(frozen=True)
class ReturnMetrics:
    """Return-based metrics of one run (see the module docstring for the definitions)."""

    sharpe_annual: float
    sortino_annual: float
    calmar: float
    max_drawdown: float
    total_return: float
    annual_return: float
    annual_volatility: float
    periods_per_year: float
    bar_interval_seconds: float
    num_returns: int


def return_metrics(
    equity: pl.DataFrame,
    risk_free: float = 0.0,
    session_minutes: float = SESSION_MINUTES,
    trading_days: int = TRADING_DAYS_PER_YEAR,
    bar_interval: timedelta | None = None,
) -> ReturnMetrics:
    """All return-based metrics of an equity frame (``ts``, ``equity``) of one run."""
    rets = equity_returns(equity)
    eq = equity.sort("ts")["equity"].to_numpy()
    interval = bar_interval or infer_bar_interval(equity["ts"])
    ppy = periods_per_year(interval, session_minutes, trading_days)
    r = rets["ret"].to_numpy()
    vol = float(r.std(ddof=1) * math.sqrt(ppy)) if r.size >= 2 else math.nan
    return ReturnMetrics(
        sharpe_annual=sharpe_ratio(r, ppy, risk_free),
        sortino_annual=sortino_ratio(r, ppy, risk_free),
        calmar=calmar_ratio(eq, ppy),
        max_drawdown=max_drawdown(eq),
        total_return=total_return(eq),
        annual_return=annual_return(eq, ppy),
        annual_volatility=vol,
        periods_per_year=ppy,
        bar_interval_seconds=interval.total_seconds(),
        num_returns=int(r.size),
    )
