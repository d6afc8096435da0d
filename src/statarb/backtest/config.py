"""Backtest configuration: strategy thresholds, capital allocation, execution timing and costs.

The cost schedule lives in a version-controlled YAML or JSON file under ``conf/base/costs/``
(spec §2 "Config / small ref"); :func:`load_costs` reads and validates it. Everything that changes
a run's outcome is in :class:`BacktestConfig`, whose :meth:`BacktestConfig.to_dict` is stored
verbatim in ``backtest_runs.config_json`` (spec §4.3, §9.3: new config = new run).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from statarb.backtest.costs import REMAINDER_MODES, CostModel, load_costs
from statarb.backtest.errors import BacktestConfigError

SIGNAL_SOURCES = ("kalman_z", "ou_bands")
__all__ = ["REMAINDER_MODES", "BacktestConfig", "BacktestConfigError", "CostModel", "load_costs"]


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
