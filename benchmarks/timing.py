"""Shared timing helper of the benchmark scripts (they run as ``python benchmarks/<name>.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_of(
    fn: Callable[[], object], repeat: int, setup: Callable[[], None] | None = None
) -> float:
    """Fastest wall time in seconds of ``repeat`` calls of ``fn`` (``setup`` runs untimed before
    each call). The minimum is the least noisy estimate on a shared machine."""
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)
