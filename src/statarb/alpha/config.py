"""Typed configuration of the ``alpha`` pipeline (``conf/base/parameters_alpha.yml``, key ``alpha``).

Every tunable of universe, schedule, screening, the selection funnel, Kalman, OU and bands is a
field here and a key in the YAML; the YAML holds every value (no defaults in code, see
:mod:`statarb.config.strict`). Nodes call :meth:`AlphaConfig.from_params` and pass the typed
sub-configs down; nothing below the nodes reads raw dictionaries.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from statarb.alpha.selection.confirmation import ConfirmationConfig
from statarb.alpha.selection.matching import MatchingConfig
from statarb.alpha.selection.multiple_testing import MultipleTestingConfig
from statarb.alpha.selection.persistence import PersistenceConfig
from statarb.alpha.selection.spread_quality import CrossingsBound, HalfLifeBounds, HurstBound
from statarb.config.strict import StrictModel


class UniverseConfig(StrictModel):
    """``alpha.universe`` (see :mod:`statarb.alpha.universe`)."""

    mode: Literal["explicit", "groups", "sector", "all"]
    sectors: list[str] | None
    pairs: list[str | list[str]]
    groups: dict[str, list[str]]


class ScheduleConfig(StrictModel):
    """``alpha.schedule``: the test times ``T`` (see :mod:`statarb.alpha.schedule`)."""

    mode: Literal["session_close", "weekly", "monthly", "every_n_bars", "explicit"]
    n: int = Field(ge=1)
    times: list[datetime]
    session_tz: str

    @field_validator("times", mode="after")
    @classmethod
    def _utc(cls, v: list[datetime]) -> list[datetime]:
        return [t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC) for t in v]


class ScreeningConfig(StrictModel):
    """``alpha.screening``: windows and the cointegration tests run at each test time.

    ``tests`` are registry names (:data:`statarb.alpha.coint_tests.TESTS`); with several tests a
    pair passes only if every test rejects (intersection-union test, Berger 1982: the combined
    p-value is the largest one). ``params`` holds each registered test's parameters."""

    window_bars: int = Field(ge=20)
    min_obs: int = Field(ge=20)
    tests: list[str] = Field(min_length=1)
    params: dict[str, dict[str, Any]]

    @model_validator(mode="after")
    def _tests_known(self) -> ScreeningConfig:
        from statarb.alpha.coint_tests.registry import build_tests

        if self.min_obs > self.window_bars:
            raise ValueError(
                f"min_obs ({self.min_obs}) must be <= window_bars ({self.window_bars})"
            )
        tests = build_tests(self.tests, self.params)
        need = max(t.min_obs() for t in tests)
        if self.min_obs < need:
            raise ValueError(f"min_obs={self.min_obs} is too small for the tests (need {need})")
        return self

    def build(self) -> list:
        """The configured test objects, in order."""
        from statarb.alpha.coint_tests.registry import build_tests

        return build_tests(self.tests, self.params)


class FormationConfig(StrictModel):
    """``alpha.selection.formation`` (mode ``formation``): a formation window ends every
    ``every`` schedule times; its selection and frozen hedge ratio hold until the next one."""

    every: int = Field(ge=1)


class SelectionConfig(StrictModel):
    """``alpha.selection``: the funnel after the tests (docs/cointegration.md)."""

    mode: Literal["walk_forward", "formation"]
    multiple_testing: MultipleTestingConfig
    half_life: HalfLifeBounds
    hurst: HurstBound
    crossings: CrossingsBound
    confirmation: ConfirmationConfig
    matching: MatchingConfig
    persistence: PersistenceConfig
    formation: FormationConfig


class InitialStateConfig(StrictModel):
    """Posterior entering the first bar; ``P`` null = ``diag(1, first price of A ^ 2)``."""

    beta: float
    alpha: float
    P: list[list[float]] | None


class KalmanConfig(StrictModel):
    """``alpha.kalman`` (see :mod:`statarb.alpha.spreads`)."""

    delta: float = Field(ge=0, lt=1)
    process_noise: float | None = Field(ge=0)
    measurement_noise: float | None = Field(gt=0)
    r_frac: float = Field(gt=0)
    initial_state: InitialStateConfig
    warm_start: dict[str, str | dict[str, Any]]
    emit_state: bool


class OUConfig(StrictModel):
    """``alpha.ou``: window fits of the spread (``estimator`` see :mod:`statarb.kernels.ou`)."""

    window_bars: int = Field(ge=4)
    min_obs: int = Field(ge=3)
    dt: float = Field(gt=0)
    estimator: Literal["mle", "kendall", "jackknife"]
    jackknife_blocks: int = Field(ge=2)


class BandsConfig(StrictModel):
    """``alpha.bands``: multiples of the stationary sd ``sigma / sqrt(2 theta)``."""

    k_entry: float = Field(gt=0)
    k_exit: float = Field(ge=0)


class AlphaConfig(StrictModel):
    """The whole ``alpha`` section."""

    bar_minutes: float = Field(gt=0)
    universe: UniverseConfig
    schedule: ScheduleConfig
    screening: ScreeningConfig
    selection: SelectionConfig
    kalman: KalmanConfig
    ou: OUConfig
    bands: BandsConfig

    @model_validator(mode="after")
    def _bands(self) -> AlphaConfig:
        if not self.bands.k_exit < self.bands.k_entry:
            raise ValueError(
                f"bands.k_exit ({self.bands.k_exit}) must be < bands.k_entry ({self.bands.k_entry})"
            )
        return self
