"""The ``sweep`` parameters section as a strict model (``conf/base/parameters_sweep.yml``).

Registered in :data:`statarb.config.registry.SECTIONS`: a misspelt key or a value out of range
stops ``kedro run`` at start-up, naming the key path. Defaults live only in the YAML. The base of
every configuration is the ``backtest`` section (pairs, capital, sizing, latency, cost file); the
grid overrides the thresholds, the holding limit, the lookbacks and scales the cost terms.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from statarb.config.strict import StrictModel


class GridParams(StrictModel):
    """``sweep.grid``: the values of each swept parameter (the grid is their Cartesian product;
    combinations breaking ``0 <= exit_z < entry_z < stop_z`` are dropped)."""

    entry_z: list[float] = Field(min_length=1)
    exit_z: list[float] = Field(min_length=1)
    stop_z: list[float] = Field(min_length=1)
    max_holding_bars: list[int] = Field(min_length=1)
    kalman_delta: list[float | None] = Field(min_length=1)  # null = alpha.kalman as configured
    ou_window_bars: list[int | None] = Field(min_length=1)  # null = alpha.ou.window_bars
    cost_scale: list[float] = Field(min_length=1)

    @model_validator(mode="after")
    def _ranges(self) -> GridParams:
        checks = {
            "exit_z": all(v >= 0 for v in self.exit_z),
            "entry_z": all(v > 0 for v in self.entry_z),
            "stop_z": all(v > 0 for v in self.stop_z),
            "max_holding_bars": all(v >= 0 for v in self.max_holding_bars),
            "kalman_delta": all(v is None or 0 <= v < 1 for v in self.kalman_delta),
            "ou_window_bars": all(v is None or v >= 4 for v in self.ou_window_bars),
            "cost_scale": all(v >= 0 for v in self.cost_scale),
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ValueError(
                f"grid values out of range for {bad} (exit_z >= 0, entry_z/stop_z > 0, "
                "max_holding_bars >= 0, 0 <= kalman_delta < 1, ou_window_bars >= 4, "
                "cost_scale >= 0)"
            )
        for name in type(self).model_fields:
            values = getattr(self, name)
            if len(set(values)) != len(values):
                raise ValueError(f"grid.{name} lists a value twice: {values}")
        return self


class WalkForwardParams(StrictModel):
    """``sweep.walk_forward``: formation window -> best configuration by in-sample Sharpe ->
    trading window, rolled by ``trading_sessions``."""

    enabled: bool
    formation_sessions: int = Field(ge=1)
    trading_sessions: int = Field(ge=1)
    session_tz: str = Field(min_length=1)


class SweepParams(StrictModel):
    """``sweep`` (keys and ranges; defaults only in the YAML)."""

    grid: GridParams
    rank_cost_scale: float = Field(ge=0)  # configurations ranked / chosen at this cost scale
    top_k: int = Field(ge=0)  # configurations whose full events are stored
    max_buffer_bytes: int = Field(ge=1 << 20)  # equity buffer (T x configs x 8 B) per pass
    walk_forward: WalkForwardParams

    @model_validator(mode="after")
    def _rank_scale_in_grid(self) -> SweepParams:
        if self.rank_cost_scale not in self.grid.cost_scale:
            raise ValueError(
                f"rank_cost_scale {self.rank_cost_scale} is not in grid.cost_scale "
                f"{self.grid.cost_scale}"
            )
        return self
