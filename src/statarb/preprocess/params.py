"""The ``preprocessing`` parameters section (``conf/base/parameters_preprocessing.yml``).

Strict model registered in ``statarb.config.registry.SECTIONS``: every key required (defaults only
in the YAML), unknown keys refused with the closest valid name.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from statarb.config.strict import StrictModel


class HampelParams(StrictModel):
    """Hampel outlier filter (:func:`statarb.preprocess.outliers.flag_outliers`)."""

    method: Literal["return", "level"]
    window: int = Field(ge=3)
    k: float = Field(gt=0)
    min_periods: int | None = Field(ge=1)
    floor_rel: float = Field(ge=0)
    centered: bool
    per_session: bool

    @model_validator(mode="after")
    def _centered_needs_level(self) -> HampelParams:
        if self.centered and self.method != "level":
            raise ValueError("centered=true is only defined for method=level")
        return self


class FillParams(StrictModel):
    """Optional within-session forward fill of missing bars."""

    enabled: bool
    every: str = Field(min_length=2)


class TickBarParams(StrictModel):
    """Bars aggregated from ticks."""

    every: str = Field(min_length=2)


class PreprocessingParams(StrictModel):
    """``preprocessing``: adjustment, outlier flags, fill, tick bars and the symbol chunk size."""

    timezone: str = Field(min_length=1)
    source: str | None
    chunk_symbols: int = Field(ge=1)
    block_days: int = Field(ge=1)
    hampel: HampelParams
    fill_missing: FillParams
    tick_bars: TickBarParams
