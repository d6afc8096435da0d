"""DataHandler: hands the event loop one bar at a time and the strategy a view up to *now*.

The no-look-ahead rule (spec §8, ``docs/dev-contract.md``) is enforced structurally: the strategy
only ever receives a :class:`MarketView` whose arrays are read-only slices ``[: now + 1]`` of the
inputs, so indexing a later bar raises ``IndexError``. The execution handler gets the current
bar's open and volume (:meth:`DataHandler.bar`), the portfolio its close.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from statarb.backtest.inputs import BacktestInputs


@dataclass(frozen=True)
class Bar:
    """One bar of one pair: both legs' open/close/volume and the alpha signal stamped at it."""

    t: int
    pair: int
    open_a: float
    close_a: float
    vol_a: float
    open_b: float
    close_b: float
    vol_b: float
    beta: float
    z: float
    tradable: bool

    @property
    def valid(self) -> bool:
        """Both legs have a bar (finite open and close)."""
        return bool(
            np.isfinite(self.open_a)
            and np.isfinite(self.open_b)
            and np.isfinite(self.close_a)
            and np.isfinite(self.close_b)
        )


class MarketView:
    """Read-only history ``[0, now]`` of every input array (nothing after ``now`` is reachable)."""

    def __init__(self, inputs: BacktestInputs, now: int) -> None:
        self.now = now
        for name in ("open_a", "close_a", "vol_a", "open_b", "close_b", "vol_b", "beta", "z"):
            view = getattr(inputs, name)[: now + 1]
            view = view.view()
            view.flags.writeable = False
            setattr(self, name, view)
        trad = inputs.tradable[: now + 1].view()
        trad.flags.writeable = False
        self.tradable = trad

    def latest(self, pair: int) -> Bar:
        """The bar at ``now`` for ``pair``."""
        t = self.now
        return Bar(
            t,
            pair,
            float(self.open_a[t, pair]),
            float(self.close_a[t, pair]),
            float(self.vol_a[t, pair]),
            float(self.open_b[t, pair]),
            float(self.close_b[t, pair]),
            float(self.vol_b[t, pair]),
            float(self.beta[t, pair]),
            float(self.z[t, pair]),
            bool(self.tradable[t, pair]),
        )


class DataHandler:
    """Iterates bar indices in time order and serves views/bars no later than the current one."""

    def __init__(self, inputs: BacktestInputs) -> None:
        self.inputs = inputs
        self.now = -1

    @property
    def n_pairs(self) -> int:
        return self.inputs.shape[1]

    def __iter__(self) -> Iterator[int]:
        for t in range(self.inputs.shape[0]):
            self.now = t
            yield t

    def view(self) -> MarketView:
        """History up to and including the current bar."""
        return MarketView(self.inputs, self.now)

    def bar(self, pair: int) -> Bar:
        """The current bar of ``pair``."""
        return self.view().latest(pair)
