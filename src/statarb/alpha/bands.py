"""Entry/exit bands of the OU spread strategy, as spread levels (columns of ``ou_params``).

With the stationary standard deviation ``sigma_eq = sigma / sqrt(2 theta)`` of the fitted OU
process (Uhlenbeck & Ornstein 1930):

    entry_upper    = mu + k_entry * sigma_eq   spread >= entry_upper -> enter SHORT spread
    entry_lower    = mu - k_entry * sigma_eq   spread <= entry_lower -> enter LONG spread
    exit_threshold = mu + k_exit  * sigma_eq   upper edge of the exit band; its lower edge is the
                                               mirror 2 mu - exit_threshold. A short exits when
                                               spread <= exit_threshold, a long when
                                               spread >= 2 mu - exit_threshold (k_exit = 0: at mu).

"Long spread" = buy 1 unit of A, sell beta units of B (profits when the spread rises back to mu).
The spec annotates ``entry_upper`` "(long spread)"; we read that as naming the band, not the trade:
a mean-reversion strategy shorts the spread above the upper band (see ``docs/alpha.md``).
"""

from __future__ import annotations

import numpy as np
import polars as pl


def ou_bands(
    mu: np.ndarray | float,
    sigma: np.ndarray | float,
    theta: np.ndarray | float,
    k_entry: float,
    k_exit: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(entry_upper, entry_lower, exit_threshold)`` as defined in the module docstring.

    Requires ``k_entry > 0`` and ``k_exit < k_entry``; NaN propagates (non mean-reverting fits).
    """
    if not k_entry > 0:
        raise ValueError(f"band multiple k_entry must be > 0, got {k_entry}")
    if not k_exit < k_entry:
        raise ValueError(f"band multiple k_exit ({k_exit}) must be < k_entry ({k_entry})")
    mu = np.asarray(mu, dtype=np.float64)
    sigma_eq = np.asarray(sigma, dtype=np.float64) / np.sqrt(2.0 * np.asarray(theta, np.float64))
    return mu + k_entry * sigma_eq, mu - k_entry * sigma_eq, mu + k_exit * sigma_eq


def with_bands(ou: pl.DataFrame, k_entry: float, k_exit: float = 0.0) -> pl.DataFrame:
    """Add ``entry_upper, entry_lower, exit_threshold`` to a frame with ``theta, mu, sigma``."""
    up, lo, ex = ou_bands(
        ou["mu"].to_numpy(), ou["sigma"].to_numpy(), ou["theta"].to_numpy(), k_entry, k_exit
    )
    return ou.with_columns(
        entry_upper=pl.Series(up), entry_lower=pl.Series(lo), exit_threshold=pl.Series(ex)
    )


def ou_zscore(spread: np.ndarray, mu: float, sigma: float, theta: float) -> np.ndarray:
    """OU z-score ``(spread - mu) / sigma_eq``: the band multiples ``k`` are on this scale."""
    return (np.asarray(spread, dtype=np.float64) - mu) / (sigma / np.sqrt(2.0 * theta))
