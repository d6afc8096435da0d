"""The ``backtest`` parameters section as a strict model (``conf/base/parameters_backtest.yml``).

Registered in :data:`statarb.config.registry.SECTIONS`, so a misspelt key (``entry_zz``) or a
wrong type stops ``kedro run`` before the first node, naming the key path and the closest valid
name. The run itself is described by the frozen :class:`statarb.backtest.config.BacktestConfig`
built from these values (what ``backtest_runs.config_json`` stores); this model only says which
keys the section may hold and their types and ranges. Cross-field rules (``exit_z < entry_z <
stop_z``, allocation weights) stay in ``BacktestConfig``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from statarb.config.strict import StrictModel


class BacktestParams(StrictModel):
    """``backtest`` (keys and ranges; defaults only in the YAML)."""

    strategy_name: str = Field(min_length=1)
    pairs: Literal["all"] | list[str]
    start: str | None
    end: str | None
    signal_source: Literal["kalman_z", "ou_bands"]
    entry_z: float = Field(gt=0)
    exit_z: float = Field(ge=0)
    stop_z: float = Field(gt=0)
    max_holding_bars: int = Field(ge=0)
    capital: float = Field(gt=0)
    allocation: Literal["equal"] | dict[str, float]
    pair_leverage: float = Field(gt=0)
    max_gross_leverage: float = Field(ge=0)
    latency_bars: int = Field(ge=1)
    integer_shares: bool
    bar_interval_minutes: int = Field(ge=1)
    costs_path: str | None
    engine: Literal["numba", "reference"]
    run_id: str | None
    costs: dict[str, Any] | None  # an inline cost schedule (file layout) instead of costs_path

    @model_validator(mode="after")
    def _one_cost_source(self) -> BacktestParams:
        if self.costs_path and self.costs is not None:
            raise ValueError("give costs_path or an inline costs schedule, not both")
        return self
