"""Backtest configuration: strategy thresholds, capital allocation, execution timing and costs.

The cost schedule lives in a version-controlled YAML or JSON file under ``conf/base/costs/``
(spec §2 "Config / small ref"); :func:`load_costs` reads and validates it. Everything that changes
a run's outcome is in :class:`BacktestConfig`, whose :meth:`BacktestConfig.to_dict` is stored
verbatim in ``backtest_runs.config_json`` (spec §4.3, §9.3: new config = new run).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

SIGNAL_SOURCES = ("kalman_z", "ou_bands")
REMAINDER_MODES = ("carry", "cancel")


class BacktestConfigError(ValueError):
    """A backtest parameter or cost file violates a rule; the message names the key and the rule."""


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
    """

    per_share: float = 0.0
    min_per_order: float = 0.0
    fee_bps: float = 0.0
    fixed_bps: float = 0.0
    impact_k_bps: float = 0.0
    impact_alpha: float = 0.5
    max_participation: float = 0.0
    remainder: str = "carry"

    def __post_init__(self) -> None:
        for name in (
            "per_share",
            "min_per_order",
            "fee_bps",
            "fixed_bps",
            "impact_k_bps",
            "max_participation",
        ):
            if getattr(self, name) < 0:
                raise BacktestConfigError(f"costs.{name} must be >= 0, got {getattr(self, name)}")
        if self.impact_alpha <= 0:
            raise BacktestConfigError(f"costs.impact_alpha must be > 0, got {self.impact_alpha}")
        if self.remainder not in REMAINDER_MODES:
            raise BacktestConfigError(
                f"costs.volume_cap.remainder must be one of {REMAINDER_MODES}, got {self.remainder!r}"
            )

    @classmethod
    def from_mapping(cls, raw: dict[str, Any], source: str = "<dict>") -> CostModel:
        """Build from the nested file layout (``fees``, ``slippage``, ``impact``, ``volume_cap``)."""
        known = {"fees", "slippage", "impact", "volume_cap"}
        unknown = set(raw) - known
        if unknown:
            raise BacktestConfigError(f"{source}: unknown cost sections {sorted(unknown)}")
        fees = raw.get("fees") or {}
        slip = raw.get("slippage") or {}
        imp = raw.get("impact") or {}
        cap = raw.get("volume_cap") or {}
        try:
            return cls(
                per_share=float(fees.get("per_share", 0.0)),
                min_per_order=float(fees.get("min_per_order", 0.0)),
                fee_bps=float(fees.get("bps", 0.0)),
                fixed_bps=float(slip.get("fixed_bps", 0.0)),
                impact_k_bps=float(imp.get("k_bps", 0.0)),
                impact_alpha=float(imp.get("alpha", 0.5)),
                max_participation=float(cap.get("max_participation", 0.0)),
                remainder=str(cap.get("remainder", "carry")),
            )
        except BacktestConfigError as exc:
            raise BacktestConfigError(f"{source}: {exc}") from None
        except (TypeError, ValueError) as exc:
            raise BacktestConfigError(f"{source}: non-numeric cost value ({exc})") from None

    def to_mapping(self) -> dict[str, Any]:
        """Inverse of :meth:`from_mapping` (the file layout)."""
        return {
            "fees": {
                "per_share": self.per_share,
                "min_per_order": self.min_per_order,
                "bps": self.fee_bps,
            },
            "slippage": {"fixed_bps": self.fixed_bps},
            "impact": {"k_bps": self.impact_k_bps, "alpha": self.impact_alpha},
            "volume_cap": {
                "max_participation": self.max_participation,
                "remainder": self.remainder,
            },
        }


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


@dataclass(frozen=True)
class BacktestConfig:
    """Full configuration of one backtest run (strategy, sizing, timing, costs).

    Sizing: pair ``p`` gets notional ``capital * weight_p * pair_leverage`` per entry, split as
    ``units_A = notional / (price_A + |beta| * price_B)`` and ``units_B = beta * units_A`` (opposite
    sign), at the decision bar's close. ``max_gross_leverage > 0`` caps the committed gross exposure
    of all pairs at ``max_gross_leverage * equity``; an entry that would exceed it is scaled down.
    """

    strategy_name: str = "kalman_ou_pairs"
    signal_source: str = "kalman_z"
    entry_z: float = 2.0
    exit_z: float = 0.5
    stop_z: float = 4.0
    max_holding_bars: int = 0
    capital: float = 1_000_000.0
    allocation: str | dict[str, float] = "equal"
    pair_leverage: float = 1.0
    max_gross_leverage: float = 0.0
    latency_bars: int = 1
    integer_shares: bool = True
    bar_interval_minutes: int = 1
    costs: CostModel = field(default_factory=CostModel)

    def __post_init__(self) -> None:
        if self.signal_source not in SIGNAL_SOURCES:
            raise BacktestConfigError(
                f"signal_source must be one of {SIGNAL_SOURCES}, got {self.signal_source!r}"
            )
        if not (0 <= self.exit_z < self.entry_z < self.stop_z):
            raise BacktestConfigError(
                "thresholds must satisfy 0 <= exit_z < entry_z < stop_z, got "
                f"exit_z={self.exit_z}, entry_z={self.entry_z}, stop_z={self.stop_z}"
            )
        if self.latency_bars < 1:
            raise BacktestConfigError(
                f"latency_bars must be >= 1 (a decision on bar t fills at t+1 or later), "
                f"got {self.latency_bars}"
            )
        if self.max_holding_bars < 0:
            raise BacktestConfigError(f"max_holding_bars must be >= 0, got {self.max_holding_bars}")
        if self.capital <= 0:
            raise BacktestConfigError(f"capital must be > 0, got {self.capital}")
        if self.bar_interval_minutes <= 0:
            raise BacktestConfigError("bar_interval_minutes must be > 0")
        if isinstance(self.allocation, str) and self.allocation != "equal":
            raise BacktestConfigError(
                f"allocation must be 'equal' or a mapping pair_id -> weight, got {self.allocation!r}"
            )

    def weights(self, pair_ids: list[str]) -> list[float]:
        """Capital weight of each pair (equal, or the configured mapping; missing pairs -> error)."""
        if self.allocation == "equal":
            return [1.0 / len(pair_ids)] * len(pair_ids)
        alloc = dict(self.allocation)  # type: ignore[arg-type]
        missing = [p for p in pair_ids if p not in alloc]
        if missing:
            raise BacktestConfigError(f"allocation has no weight for pairs {missing}")
        return [float(alloc[p]) for p in pair_ids]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (costs in the file layout)."""
        d = asdict(self)
        d["costs"] = self.costs.to_mapping()
        return d

    @classmethod
    def from_params(cls, params: dict[str, Any], costs: CostModel | None = None) -> BacktestConfig:
        """Build from the ``backtest`` parameters block; ``costs_path`` is loaded unless given."""
        allowed = {f for f in cls.__dataclass_fields__ if f != "costs"}
        kwargs = {k: v for k, v in params.items() if k in allowed}
        if costs is None:
            if params.get("costs_path"):
                costs = load_costs(params["costs_path"])
            elif isinstance(params.get("costs"), dict):
                costs = CostModel.from_mapping(params["costs"], source="parameters.costs")
            else:
                costs = CostModel()
        try:
            for key in ("entry_z", "exit_z", "stop_z", "capital", "pair_leverage",
                        "max_gross_leverage"):  # fmt: skip
                if key in kwargs:
                    kwargs[key] = float(kwargs[key])
            for key in ("max_holding_bars", "latency_bars", "bar_interval_minutes"):
                if key in kwargs:
                    kwargs[key] = int(kwargs[key])
        except (TypeError, ValueError) as exc:
            raise BacktestConfigError(f"backtest parameters: non-numeric value ({exc})") from None
        if isinstance(kwargs.get("integer_shares"), str):
            kwargs["integer_shares"] = kwargs["integer_shares"].lower() in ("1", "true", "yes")
        if isinstance(kwargs.get("allocation"), dict):
            kwargs["allocation"] = {str(k): float(v) for k, v in kwargs["allocation"].items()}
        return cls(costs=costs, **kwargs)
