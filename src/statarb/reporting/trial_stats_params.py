"""``reporting.trial_stats`` parameters (``conf/base/parameters_reporting.yml``) as a strict model.

``n_trials`` / ``sharpe_variance`` say how many configurations were tried before this run was
chosen and the variance of their annualised Sharpe ratios (the ``sharpe_annual`` of a sweep's
configurations). ``None`` (the default, one run) means not deflated: the DSR is then the PSR
against 0. A sweep passes both (``--params reporting.trial_stats.n_trials=...``, or in
``compute_run_metrics(params=...)``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from statarb.config.strict import StrictModel


class BootstrapParams(StrictModel):
    """Block bootstrap of the Sharpe ratio (:func:`statarb.reporting.trial_stats.bootstrap_sharpe_ci`)."""

    method: Literal["stationary", "circular"]
    n_boot: int = Field(ge=2)
    block_bars: float | None = Field(ge=1)  # None: Politis-White optimal block length
    confidence: float = Field(gt=0, lt=1)
    seed: int


class TrialStatsParams(StrictModel):
    """``reporting.trial_stats`` (defaults only in the YAML)."""

    n_trials: int | None = Field(ge=1)
    sharpe_variance: float | None = Field(ge=0)  # of the trials' annualised Sharpe ratios
    psr_benchmark: float  # annualised benchmark Sharpe of the PSR and the MinTRL
    min_trl_confidence: float = Field(gt=0, lt=1)
    bootstrap: BootstrapParams

    @model_validator(mode="after")
    def _variance_with_trials(self) -> TrialStatsParams:
        if self.n_trials is not None and self.n_trials > 1 and self.sharpe_variance is None:
            raise ValueError("n_trials > 1 needs sharpe_variance (of the trials' annual Sharpe)")
        return self
