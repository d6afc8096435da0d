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
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from statarb.synthetic.config import SyntheticConfig

BAD_ROW_RULES = ("negative_price", "high_lt_low", "nan_close", "unknown_ticker")
RULES = ("missing_bar", "duplicate_row", *BAD_ROW_RULES, "non_increasing_time", "price_spike")


@dataclass
class AnomalyPlan:
    """What to inject. ``records`` carry ``rule``, ``bar`` (t), ``sym`` (column) and ``uid``."""

    missing: np.ndarray  # bool (n_bars, n_sym): bars not written
    duplicates: list[tuple[int, int]] = field(default_factory=list)
    unknown: list[tuple[int, int]] = field(default_factory=list)
    swaps: list[tuple[int, int]] = field(default_factory=list)  # (t, j): write t+1 before t
    records: list[dict] = field(default_factory=list)


def _spaced_sample(
    rng: np.random.Generator, eligible: np.ndarray, n_sym: int, k: int, gap: int = 3
) -> list[tuple[int, int]]:
    """``k`` distinct (t, j) from the flat ``eligible`` indices, >= ``gap`` bars apart per symbol."""
    if k == 0:
        return []
    cand = rng.permutation(eligible)
    taken: set[tuple[int, int]] = set()
    out: list[tuple[int, int]] = []
    for flat in cand:
        t, j = divmod(int(flat), n_sym)
        if any((t + d, j) in taken for d in range(-gap + 1, gap)):
            continue
        taken.add((t, j))
        out.append((t, j))
        if len(out) == k:
            return out
    raise ValueError(f"cannot place {k} anomalies in {eligible.size} eligible bars; lower counts")


def plan_and_inject(
    cfg: SyntheticConfig,
    rng: np.random.Generator,
    ohlc: dict[str, np.ndarray],
    bar_vol: np.ndarray,
    protected: np.ndarray,
) -> AnomalyPlan:
    """Choose anomaly bars and apply the in-place ones to copies in ``ohlc`` (mutated).

    ``ohlc`` maps ``open/high/low/close`` to ``(n_bars, n_sym)`` raw arrays; ``protected`` is a
    boolean mask of bars that must stay clean and present.
    """
    n_bars, n_sym = ohlc["close"].shape
    bpd = cfg.bars_per_day
    minute = (np.arange(n_bars) % bpd)[:, None]
    ok = ~protected & (minute < bpd - 1) & (minute > 0)  # swaps need the next bar of the same day
    eligible = np.flatnonzero(ok.ravel())
    counts = {
        "missing_bar": cfg.n_missing,
        "duplicate_row": cfg.n_duplicates,
        **{r: cfg.n_bad_each for r in BAD_ROW_RULES},
        "non_increasing_time": cfg.n_bad_each,
        "price_spike": cfg.n_spikes,
    }
    spots = _spaced_sample(rng, eligible, n_sym, sum(counts.values()))
    plan = AnomalyPlan(missing=np.zeros((n_bars, n_sym), dtype=bool))
    extra_uid = n_bars * n_sym  # uids of inserted rows start after the panel
    pos = 0
    for rule, k in counts.items():
        for t, j in spots[pos : pos + k]:
            rec: dict = {"rule": rule, "bar": t, "sym": j, "uid": t * n_sym + j}
            if rule == "missing_bar":
                plan.missing[t, j] = True
                rec["uid"] = None
            elif rule == "duplicate_row":
                plan.duplicates.append((t, j))
                rec["uid"] = extra_uid
                extra_uid += 1
            elif rule == "unknown_ticker":
                plan.unknown.append((t, j))
                rec["uid"] = extra_uid
                extra_uid += 1
            elif rule == "non_increasing_time":
                plan.swaps.append((t, j))
            elif rule == "negative_price":
                ohlc["low"][t, j] = -ohlc["low"][t, j]
            elif rule == "high_lt_low":
                ohlc["high"][t, j], ohlc["low"][t, j] = ohlc["low"][t, j], ohlc["high"][t, j]
            elif rule == "nan_close":
                ohlc["close"][t, j] = np.nan
            elif rule == "price_spike":
                k_sig = float(rng.uniform(*cfg.spike_sigma))
                sign = 1.0 if rng.uniform() < 0.5 else -1.0
                clean = float(ohlc["close"][t, j])
                spiked = clean * float(np.exp(sign * k_sig * bar_vol[j]))
                ohlc["close"][t, j] = spiked
                if sign > 0:
                    ohlc["high"][t, j] = max(ohlc["high"][t, j], spiked)
                else:
                    ohlc["low"][t, j] = min(ohlc["low"][t, j], spiked)
                rec.update(
                    sigma_multiple=k_sig,
                    direction="up" if sign > 0 else "down",
                    clean_close=clean,
                    spiked_close=spiked,
                )
            plan.records.append(rec)
        pos += k
    return plan
