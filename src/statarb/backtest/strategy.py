"""Kalman/OU pairs strategy: a per-pair state machine on the z-score, gated by cointegration.

At the close of bar ``t`` (information available at ``t + bar_interval``) with score ``z`` and
hedge ratio ``beta`` from ``spread_series``:

* **exit** a long spread when ``z >= -exit_z`` and a short spread when ``z <= exit_z``;
* **forced flat** (checked first, in this order): gating off (``tradable`` false), stop-loss
  ``|z| > stop_z``, holding period ``>= max_holding_bars`` (bars counted on valid decision bars);
  after a forced exit the pair is *disarmed* until ``|z| < entry_z`` again, so it never re-enters
  straight into the move that stopped it out;
* **entry** (when flat or just exited, armed and tradable): long spread if
  ``-stop_z <= z < -entry_z``, short spread if ``entry_z < z <= stop_z``.

The score is ``z_score`` (``signal_source = "kalman_z"``) or the spread mapped through the latest
as-of OU bands (``"ou_bands"``, see :func:`statarb.backtest.inputs.ou_band_score`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from statarb.backtest.config import BacktestConfig
from statarb.backtest.data_handler import MarketView

LONG, SHORT, FLAT = 1, -1, 0
# reason codes, shared with the kernel; their names are ``results.REASONS``
R_ENTRY, R_EXIT, R_STOP, R_MAXHOLD, R_GATE = 1, 2, 3, 4, 5


@dataclass(frozen=True)
class Signal:
    """A change of the target position of one pair (``direction`` +1 / -1 / 0)."""

    t: int
    pair: int
    direction: int
    size: float  # units of leg A opened (entry) or closed (flat)
    hedge_ratio: float
    z: float
    reason: int
    target: tuple[float, float]  # target units of legs A and B


class PairsStrategy:
    """State per pair: direction, bars held, armed flag, size of the open position."""

    def __init__(self, cfg: BacktestConfig, notional: np.ndarray) -> None:
        self.cfg = cfg
        self.notional = notional
        n = len(notional)
        self.state = [FLAT] * n
        self.held = [0] * n
        self.armed = [True] * n
        self.size_a = [0.0] * n

    def on_bar(
        self, view: MarketView, pair: int, equity: float, committed_others: float
    ) -> Signal | None:
        """Decide at the close of ``view.now`` for ``pair``; ``committed_others`` is the gross
        exposure committed by the other pairs (for the gross-leverage cap)."""
        cfg = self.cfg
        bar = view.latest(pair)
        if not bar.valid or not (math.isfinite(bar.z) and math.isfinite(bar.beta)):
            return None
        zz, b, s = bar.z, bar.beta, self.state[pair]
        new, reason = s, 0
        if s != FLAT:
            self.held[pair] += 1
            if not bar.tradable:
                new, reason = FLAT, R_GATE
            elif abs(zz) > cfg.stop_z:
                new, reason = FLAT, R_STOP
            elif cfg.max_holding_bars > 0 and self.held[pair] >= cfg.max_holding_bars:
                new, reason = FLAT, R_MAXHOLD
            elif (s == LONG and zz >= -cfg.exit_z) or (s == SHORT and zz <= cfg.exit_z):
                new, reason = FLAT, R_EXIT
            if new == FLAT and reason != R_EXIT:
                self.armed[pair] = False
        if not self.armed[pair] and abs(zz) < cfg.entry_z:
            self.armed[pair] = True
        ua = 0.0
        if (
            new == FLAT
            and self.armed[pair]
            and bar.tradable
            and cfg.entry_z < abs(zz) <= cfg.stop_z
        ):
            d = LONG if zz < 0.0 else SHORT
            n = float(self.notional[pair])
            if cfg.max_gross_leverage > 0.0:
                headroom = cfg.max_gross_leverage * equity - committed_others
                if headroom < n:
                    n = headroom
            if n > 0.0:
                ua = n / (bar.close_a + abs(b) * bar.close_b)
                if cfg.integer_shares:
                    ua = math.floor(ua)
            if ua > 0.0:
                new, reason = d, R_ENTRY
        if new == s:
            return None
        if new == FLAT:
            target, size = (0.0, 0.0), self.size_a[pair]
        else:
            tb = -new * b * ua
            if cfg.integer_shares:
                tb = float(np.rint(tb))
            target, size = (new * ua, tb), ua
            self.size_a[pair] = ua
            self.held[pair] = 0
        self.state[pair] = new
        return Signal(view.now, pair, new, size, b, zz, reason, target)
