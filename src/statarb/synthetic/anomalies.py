"""Plan and inject data-quality anomalies into the raw bar panel.

Rules (names used in ``ground_truth/anomalies.json``):

* ``missing_bar`` - the bar is not written (``row`` is null, ``symbol``/``datetime`` say which);
* ``duplicate_row`` - an exact copy of the previous data row;
* ``negative_price`` - ``Low`` written negative;
* ``high_lt_low`` - ``High`` and ``Low`` swapped so ``High < Low``;
* ``nan_close`` - ``Close`` written as ``NaN``;
* ``unknown_ticker`` - an extra row for a ticker absent from ``symbols.csv``;
* ``non_increasing_time`` - two consecutive bars of a symbol written in reverse order (the flagged
  row's time is earlier than the row before it for that symbol);
* ``price_spike`` - one bar's close (and high, or low when negative) jumps by ``k`` per-bar sigmas
  (``k`` in ``spike_sigma``); the next bar opens at the clean level again.

Anomalies never touch *protected* bars (the last bars before an ex-date, whose close defines the
dividend factor) and are at least three bars apart within a symbol, so they do not overlap.

The spots are the first acceptable entries of a seeded permutation of the eligible (bar, symbol)
cells in row-major order (``rng.permutation(eligible)``). Without materialising the cells, the
same permutation is taken of their ranks (``rng.shuffle`` of a ``uint32`` range: the Fisher-Yates
draws depend only on the length) and a rank is mapped back to its cell arithmetically: 4 bytes
per cell instead of 8 for the cells and 8 for their copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from statarb.synthetic.calendar import BarClock
from statarb.synthetic.config import SyntheticConfig

BAD_ROW_RULES = ("negative_price", "high_lt_low", "nan_close", "unknown_ticker")
RULES = ("missing_bar", "duplicate_row", *BAD_ROW_RULES, "non_increasing_time", "price_spike")


@dataclass
class AnomalyPlan:
    """What to inject. ``records`` carry ``rule``, ``bar`` (t), ``sym`` (column) and ``uid``.

    ``missing`` lists the (t, j) not written; ``edits`` the in-place changes per (t, j):
    ``(rule, sigma_multiple, sign)`` (the last two for spikes only), applied by :func:`inject`.
    """

    missing: list[tuple[int, int]] = field(default_factory=list)
    duplicates: list[tuple[int, int]] = field(default_factory=list)
    unknown: list[tuple[int, int]] = field(default_factory=list)
    swaps: list[tuple[int, int]] = field(default_factory=list)  # (t, j): write t+1 before t
    records: list[dict] = field(default_factory=list)
    edits: dict[tuple[int, int], tuple[str, float, float]] = field(default_factory=dict)

    def day_of(self, items: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
        """The entries of ``items`` with ``lo <= t < hi``, in order."""
        return [(t, j) for t, j in items if lo <= t < hi]


class _EligibleCells:
    """Row-major enumeration of the cells ``(t, j)`` with ``0 < minute(t) < day_len - 1`` that
    are not protected; ``cell(q)`` is the ``q``-th (0-based)."""

    def __init__(self, clock: BarClock, n_sym: int, protected: list[tuple[int, int]]) -> None:
        minute = clock.minute_of_day()
        last = clock.day_start[clock.day_index + 1] - clock.day_start[clock.day_index] - 1
        self.rows = np.flatnonzero((minute > 0) & (minute < last))
        self.n_sym = n_sym
        ranks = set()
        for t, j in protected:
            r = int(np.searchsorted(self.rows, t))
            if r < self.rows.size and self.rows[r] == t:
                ranks.add(r * n_sym + j)
        self.skip = np.array(sorted(ranks), dtype=np.int64)
        self.size = self.rows.size * n_sym - self.skip.size

    def cell(self, q: int) -> tuple[int, int]:
        c = 0
        while True:
            c2 = int(np.searchsorted(self.skip, q + c, side="right"))
            if c2 == c:
                break
            c = c2
        r, j = divmod(q + c, self.n_sym)
        return int(self.rows[r]), j


def _spaced_sample(
    rng: np.random.Generator, cells: _EligibleCells, k: int, gap: int = 3
) -> list[tuple[int, int]]:
    """``k`` distinct eligible (t, j) in permutation order, >= ``gap`` bars apart per symbol."""
    if k == 0:
        return []
    dtype = np.uint32 if cells.size < 2**32 else np.uint64
    perm = np.arange(cells.size, dtype=dtype)
    rng.shuffle(perm)  # == rng.permutation(cells) mapped to ranks (see module docstring)
    taken: set[tuple[int, int]] = set()
    out: list[tuple[int, int]] = []
    for q in perm:
        t, j = cells.cell(int(q))
        if any((t + d, j) in taken for d in range(-gap + 1, gap)):
            continue
        taken.add((t, j))
        out.append((t, j))
        if len(out) == k:
            return out
    raise ValueError(f"cannot place {k} anomalies in {cells.size} eligible bars; lower counts")


def plan_anomalies(
    cfg: SyntheticConfig,
    rng: np.random.Generator,
    clock: BarClock,
    n_sym: int,
    protected: list[tuple[int, int]],
) -> AnomalyPlan:
    """Choose the anomaly cells (and the spike sizes) away from ``protected`` (t, j) cells."""
    counts = {
        "missing_bar": cfg.n_missing,
        "duplicate_row": cfg.n_duplicates,
        **{r: cfg.n_bad_each for r in BAD_ROW_RULES},
        "non_increasing_time": cfg.n_bad_each,
        "price_spike": cfg.n_spikes,
    }
    spots = _spaced_sample(rng, _EligibleCells(clock, n_sym, protected), sum(counts.values()))
    plan = AnomalyPlan()
    extra_uid = clock.n_bars * n_sym  # uids of inserted rows start after the panel
    pos = 0
    for rule, k in counts.items():
        for t, j in spots[pos : pos + k]:
            rec: dict = {"rule": rule, "bar": t, "sym": j, "uid": t * n_sym + j}
            if rule == "missing_bar":
                plan.missing.append((t, j))
                rec["uid"] = None
            elif rule in ("duplicate_row", "unknown_ticker"):
                (plan.duplicates if rule == "duplicate_row" else plan.unknown).append((t, j))
                rec["uid"] = extra_uid
                extra_uid += 1
            elif rule == "non_increasing_time":
                plan.swaps.append((t, j))
            elif rule == "price_spike":
                k_sig = float(rng.uniform(*cfg.spike_sigma))
                sign = 1.0 if rng.uniform() < 0.5 else -1.0
                plan.edits[(t, j)] = (rule, k_sig, sign)
                rec.update(sigma_multiple=k_sig, direction="up" if sign > 0 else "down")
            else:
                plan.edits[(t, j)] = (rule, 0.0, 0.0)
            plan.records.append(rec)
        pos += k
    return plan


def inject(plan: AnomalyPlan, ohlc: dict[str, np.ndarray], start: int, bar_vol: np.ndarray) -> None:
    """Apply the in-place anomalies to a block of rows ``start ..`` of raw ``ohlc`` (mutated);
    spike records get their ``clean_close`` and ``spiked_close``."""
    hi = start + ohlc["close"].shape[0]
    spikes = {(r["bar"], r["sym"]): r for r in plan.records if r["rule"] == "price_spike"}
    for (t, j), (rule, k_sig, sign) in plan.edits.items():
        if not start <= t < hi:
            continue
        i = t - start
        if rule == "negative_price":
            ohlc["low"][i, j] = -ohlc["low"][i, j]
        elif rule == "high_lt_low":
            ohlc["high"][i, j], ohlc["low"][i, j] = ohlc["low"][i, j], ohlc["high"][i, j]
        elif rule == "nan_close":
            ohlc["close"][i, j] = np.nan
        elif rule == "price_spike":
            clean = float(ohlc["close"][i, j])
            spiked = clean * float(np.exp(sign * k_sig * bar_vol[j]))
            ohlc["close"][i, j] = spiked
            if sign > 0:
                ohlc["high"][i, j] = max(ohlc["high"][i, j], spiked)
            else:
                ohlc["low"][i, j] = min(ohlc["low"][i, j], spiked)
            spikes[(t, j)].update(clean_close=clean, spiked_close=spiked)
