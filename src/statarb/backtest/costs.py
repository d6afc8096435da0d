"""The cost schedule of the backtest (``conf/base/costs/*.yml``, spec §2 "Config / small ref").

:class:`CostModel` holds every cost term; the numba kernels read its numeric fields through the
record of :meth:`CostModel.record` and price fills with
:func:`statarb.kernels.costs.leg_cost` (one formula for the fast and the reference loop). Adding a
cost term = a field here and its file key in :data:`FILE_KEYS`, its use in ``leg_cost``, and its
tests (docs/dev-contract.md "A new cost term on fills").

Carry costs accrue between marks rather than on fills (:func:`statarb.kernels.costs.accrual`):
the short-borrow fee on the short notional (a default annual rate and a per-symbol table) and
interest on the cash balance (``cash_rate`` earned on positive cash, ``financing_rate`` paid on
negative cash), both actual/``day_count`` on the time elapsed between bars (:func:`accrual_days`).
"""

from __future__ import annotations

import difflib
import json
import math
from collections import namedtuple
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from statarb.backtest.errors import BacktestConfigError

REMAINDER_MODES = ("carry", "cancel")
# CostModel field -> (section, key) in the cost file
FILE_KEYS: dict[str, tuple[str, str]] = {
    "per_share": ("fees", "per_share"),
    "min_per_order": ("fees", "min_per_order"),
    "fee_bps": ("fees", "bps"),
    "fixed_bps": ("slippage", "fixed_bps"),
    "impact_k_bps": ("impact", "k_bps"),
    "impact_alpha": ("impact", "alpha"),
    "max_participation": ("volume_cap", "max_participation"),
    "remainder": ("volume_cap", "remainder"),
    "borrow_rate": ("borrow", "default_rate"),
    "borrow_rates": ("borrow", "rates"),
    "cash_rate": ("financing", "cash_rate"),
    "financing_rate": ("financing", "debit_rate"),
    "day_count": ("accrual", "day_count"),
}
DAY_COUNTS = (360.0, 365.0)
US_PER_DAY = 86_400_000_000


@dataclass(frozen=True)
class CostModel:
    """Fee, slippage and market-impact schedule applied to every leg fill.

    For a fill of ``qty`` shares at reference price ``open`` on a bar with volume ``V``:

    * ``slippage_bps = fixed_bps + impact_k_bps * (qty / V) ** impact_alpha`` (square-root law for
      ``alpha = 0.5``; Almgren et al. 2005, "Direct estimation of equity market impact"); ``V <= 0``
      counts as participation 1;
    * ``price = open * (1 + side * slippage_bps / 1e4)`` with ``side`` +1 buy, -1 sell;
    * ``commission = max(per_share * qty, min_per_order) + fee_bps / 1e4 * qty * price``.

    ``max_participation > 0`` caps each fill at ``max_participation * V`` shares; what is left
    is carried to the next bar's open (``remainder = "carry"``) or dropped (``"cancel"``).

    Carry (per bar ``t``, on the balances of the previous mark, for the ``d`` calendar days
    elapsed since it; act/``day_count``):

    * borrow fee ``sum_short_legs |units| * last_close * rate_symbol * d / day_count``, with
      ``rate_symbol`` from ``borrow_rates`` (symbol -> annual rate) or ``borrow_rate``;
    * financing ``-cash_rate * cash * d / day_count`` if ``cash >= 0`` (income), else
      ``financing_rate * |cash| * d / day_count`` (cost). ``cash`` includes short-sale proceeds.
    """

    per_share: float = 0.0
    min_per_order: float = 0.0
    fee_bps: float = 0.0
    fixed_bps: float = 0.0
    impact_k_bps: float = 0.0
    impact_alpha: float = 0.5
    max_participation: float = 0.0
    remainder: str = "carry"
    borrow_rate: float = 0.0
    borrow_rates: tuple[tuple[str, float], ...] = ()
    cash_rate: float = 0.0
    financing_rate: float = 0.0
    day_count: float = 360.0

    def __post_init__(self) -> None:
        for name in (
            "per_share",
            "min_per_order",
            "fee_bps",
            "fixed_bps",
            "impact_k_bps",
            "max_participation",
            "borrow_rate",
            "financing_rate",
        ):
            if not getattr(self, name) >= 0:
                raise BacktestConfigError(f"costs.{name} must be >= 0, got {getattr(self, name)}")
        if self.impact_alpha <= 0:
            raise BacktestConfigError(f"costs.impact_alpha must be > 0, got {self.impact_alpha}")
        if self.remainder not in REMAINDER_MODES:
            raise BacktestConfigError(
                f"costs.volume_cap.remainder must be one of {REMAINDER_MODES}, got {self.remainder!r}"
            )
        if not math.isfinite(self.cash_rate):
            raise BacktestConfigError(
                f"costs.financing.cash_rate must be finite, got {self.cash_rate}"
            )
        if self.day_count not in DAY_COUNTS:
            raise BacktestConfigError(
                f"costs.accrual.day_count must be one of {DAY_COUNTS}, got {self.day_count}"
            )
        object.__setattr__(self, "borrow_rates", _rate_table(self.borrow_rates))

    def borrow_rate_of(self, symbol: str) -> float:
        """Annual borrow fee of ``symbol``: its table entry, else ``borrow_rate``."""
        return dict(self.borrow_rates).get(symbol, self.borrow_rate)

    def leg_borrow_rates(self, symbols_a: list[str], symbols_b: list[str]) -> tuple:
        """``(rates_a, rates_b)``: float arrays of the legs' annual borrow fees."""
        table = dict(self.borrow_rates)
        return tuple(
            np.array([table.get(s, self.borrow_rate) for s in syms], dtype=np.float64)
            for syms in (symbols_a, symbols_b)
        )

    @classmethod
    def from_mapping(cls, raw: dict[str, Any], source: str = "<dict>") -> CostModel:
        """Build from the nested file layout (:data:`FILE_KEYS`: ``fees``, ``slippage``,
        ``impact``, ``volume_cap``); an unknown section or key is refused, naming the file."""
        sections = {sec for sec, _ in FILE_KEYS.values()}
        unknown = set(raw) - sections
        if unknown:
            raise BacktestConfigError(f"{source}: unknown cost sections {sorted(unknown)}")
        values: dict[str, Any] = {}
        for sec in sorted(sections):
            body = raw.get(sec) or {}
            if not isinstance(body, dict):
                raise BacktestConfigError(f"{source}: cost section {sec!r} must be a mapping")
            known = {key: name for name, (s, key) in FILE_KEYS.items() if s == sec}
            bad = sorted(set(body) - set(known))
            if bad:
                hint = {k: difflib.get_close_matches(k, list(known), n=1) for k in bad}
                hint_text = "; ".join(
                    f"{k!r}: did you mean {m[0]!r}?" for k, m in hint.items() if m
                )
                raise BacktestConfigError(
                    f"{source}: unknown key(s) {bad} in cost section {sec!r}; known: "
                    f"{sorted(known)}" + (f" ({hint_text})" if hint_text else "")
                )
            values.update({known[k]: v for k, v in body.items()})
        try:
            numeric = {f.name for f in _numeric_fields()}
            return cls(
                **{
                    k: float(v) if k in numeric else v if k == "borrow_rates" else str(v)
                    for k, v in values.items()
                }
            )
        except BacktestConfigError as exc:
            raise BacktestConfigError(f"{source}: {exc}") from None
        except (TypeError, ValueError) as exc:
            raise BacktestConfigError(f"{source}: non-numeric cost value ({exc})") from None

    def to_mapping(self) -> dict[str, Any]:
        """Inverse of :meth:`from_mapping` (the file layout)."""
        out: dict[str, dict[str, Any]] = {}
        for name, (sec, key) in FILE_KEYS.items():
            value = getattr(self, name)
            out.setdefault(sec, {})[key] = dict(value) if name == "borrow_rates" else value
        return out

    def record(self) -> tuple:
        """The numeric fields as a namedtuple ``CostRecord`` (what the numba kernels read)."""
        return _cost_record_type()(*(float(getattr(self, f.name)) for f in _numeric_fields()))


def _rate_table(raw: Any) -> tuple[tuple[str, float], ...]:
    """The per-symbol borrow table as a sorted tuple ``((symbol, rate), ...)`` (hashable)."""
    if raw is None:
        return ()
    items = raw.items() if isinstance(raw, dict) else raw
    out: dict[str, float] = {}
    try:
        for sym, rate in items:
            value = float(rate)
            if not (math.isfinite(value) and value >= 0):
                raise BacktestConfigError(
                    f"costs.borrow.rates[{sym!r}] must be a finite rate >= 0, got {rate!r}"
                )
            out[str(sym).strip().upper()] = value
    except (TypeError, ValueError) as exc:
        raise BacktestConfigError(
            f"costs.borrow.rates must map symbol -> annual rate, got {raw!r} ({exc})"
        ) from None
    return tuple(sorted(out.items()))


def accrual_days(ts_us: np.ndarray) -> np.ndarray:
    """Calendar days elapsed since the previous bar of the grid (``ts_us``: int64 microseconds);
    0 for the first bar. Carry costs of bar ``t`` accrue over this interval."""
    ts = np.asarray(ts_us, dtype=np.int64)
    out = np.zeros(ts.shape[0], dtype=np.float64)
    if ts.shape[0] > 1:
        out[1:] = np.diff(ts).astype(np.float64) / US_PER_DAY
    return out


def _numeric_fields() -> list:
    return [f for f in fields(CostModel) if f.type in ("float", float)]


#: The record type of :meth:`CostModel.record`: ONE module-level class, so numba compiles the
#: kernels once per type and its on-disk cache (``cache=True``) matches in the next process (a
#: class made inside a function is pickled by value and never matches: every process recompiled
#: ``backtest_loop``, ~6 s).
CostRecord = namedtuple("CostRecord", [f.name for f in _numeric_fields()])


def _cost_record_type():
    """The namedtuple class of every record (:data:`CostRecord`)."""
    return CostRecord


def load_costs(path: str | Path) -> CostModel:
    """Read a cost schedule from a ``.yml``/``.yaml`` or ``.json`` file."""
    p = Path(path)
    if not p.is_file():
        raise BacktestConfigError(f"cost file {p} does not exist")
    text = p.read_text()
    raw = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    if not isinstance(raw, dict):
        raise BacktestConfigError(f"{p}: expected a mapping at top level")
    return CostModel.from_mapping(raw, source=str(p))
