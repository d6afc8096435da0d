"""The cointegration-test seam: one batch result type shared by every test, and the test protocol.

Modelled on arch's unit-root tests (one result type for every test): a test takes a batch of
equal-length windows (``y``, ``x`` of shape ``(n_pairs, n_obs)``, one C-contiguous row per pair as
the kernels want them; ``y`` = leg A, the dependent series, ``x`` = leg B) and returns a :class:`CointBatch` with one entry per pair. Screening loops
over the configured tests and never needs to know which test it runs; a test that cannot produce a
result for a pair (degenerate window: singular system, non-finite statistic) says so in
``reason`` instead of returning a number, and that pair simply gets no decision at that time.

Adding a test = one module with a class satisfying :class:`CointegrationTest` (and its ``Params``
model), one line in :data:`statarb.alpha.coint_tests.registry.TESTS`, and its tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np

from statarb.config.strict import StrictModel


@dataclass(frozen=True, slots=True)
class CointBatch:
    """Results of one cointegration test on ``n_pairs`` windows of ``nobs`` rows.

    ``statistic``/``pvalue`` are NaN where ``reason[j]`` is set (no result for that pair).
    ``beta``/``alpha`` give the cointegrating relation ``y - beta * x - alpha`` (stored as
    ``cointegrating_vector = [1, -beta]``); NaN when the test has none for that pair.
    """

    test: str
    statistic: np.ndarray
    pvalue: np.ndarray
    beta: np.ndarray
    alpha: np.ndarray
    nobs: int
    reason: tuple[str | None, ...]

    def __post_init__(self) -> None:
        n = len(self.reason)
        for name in ("statistic", "pvalue", "beta", "alpha"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"CointBatch.{name} must have shape ({n},)")

    @property
    def valid(self) -> np.ndarray:
        """Boolean mask of the pairs that got a result."""
        return np.array([r is None for r in self.reason], dtype=bool)


class CointegrationTest(Protocol):
    """What screening needs from a cointegration test (see the module docstring)."""

    #: registry name, also written to ``selection_log.method``
    name: ClassVar[str]
    #: ``cointegration_results`` columns the statistic and p-value go to
    stat_column: ClassVar[str]
    pvalue_column: ClassVar[str]
    #: strict model of the test's parameters (``alpha.screening.params.<name>``)
    Params: ClassVar[type[StrictModel]]

    def __init__(self, params: StrictModel) -> None: ...

    def min_obs(self) -> int:
        """Fewest rows for which the test is defined with these parameters."""
        ...

    def run(self, y: np.ndarray, x: np.ndarray) -> CointBatch:
        """Test every row pair ``(y[j], x[j])``."""
        ...


def reasons_where(
    mask: np.ndarray, text: str, base: tuple[str | None, ...]
) -> tuple[str | None, ...]:
    """``base`` with ``text`` set where ``mask`` is true and no reason is set yet."""
    return tuple(text if (m and r is None) else r for m, r in zip(mask, base, strict=True))
