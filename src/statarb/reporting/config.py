"""The ``reporting`` parameters section (``conf/base/parameters_reporting.yml``), strictly validated.

Registered in :data:`statarb.config.registry.SECTIONS`: a misspelt key (``tearsheet.max_pair_plot``)
stops ``kedro run`` at start-up with its path and the closest valid name. Defaults live only in
the YAML (the model declares none). The reporting nodes read these typed values; the metric
functions keep their plain keyword arguments (``docs/reporting.md`` has the definitions).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from statarb.config.strict import StrictModel
from statarb.reporting.trial_stats_params import TrialStatsParams


class TearsheetConfig(StrictModel):
    """``reporting.tearsheet``: what one run's HTML page draws."""

    max_pair_plots: int = Field(ge=-1)
    """Spread/z figures for the top N pairs by |net realised PnL|; -1 = all, 0 = none."""
    max_points: int = Field(ge=10)
    """Points per plotted line (every k-th bar; the metrics use every bar)."""
    webgl: bool
    """``Scattergl`` line traces (one WebGL context per figure)."""
    rolling_window: int = Field(ge=2)
    """Bars of the rolling Sharpe / volatility."""
    top_drawdowns: int = Field(ge=1)
    """Drawdown episodes shaded on the underwater plot and listed."""


#: The name the tearsheet code uses for the same model.
TearsheetParams = TearsheetConfig


class ReportingConfig(StrictModel):
    """``reporting``: metric conventions, output folder and page sizes."""

    output_dir: str = Field(min_length=1)
    """``<output_dir>/<run_id>/tearsheet.html`` and ``<output_dir>/index.html``."""
    risk_free: float
    """Per-bar risk-free rate of Sharpe / Sortino (the MAR)."""
    session_minutes: float = Field(gt=0)
    """Regular session length: bars per year = session_minutes / bar length * trading_days."""
    trading_days: int = Field(gt=0)
    pca_components: int = Field(ge=1)
    equity_ts_is_bar_open: bool
    """``backtest_equity.ts`` is the bar open time (the mark of bar ``t`` is its close)."""
    attribution_symbols: list[str] | None
    """Symbols of the PCA attribution; null = every symbol of ``bars_adjusted`` in the window."""
    index_max_points: int = Field(ge=2)
    """Points kept per run curve on ``index.html`` (one run read at a time)."""
    thresholds_in: Literal["spread", "z"]
    """Unit of the stored ``ou_params`` bands (``statarb.alpha.bands`` stores spread levels)."""
    trial_stats: TrialStatsParams
    """PSR, MinTRL, deflated Sharpe and bootstrap CI (``metrics_json.trial_stats``)."""
    tearsheet: TearsheetConfig

    def metric_params(self) -> dict[str, Any]:
        """The keyword mapping :func:`statarb.reporting.run_metrics.compute_run_metrics` reads."""
        return self.model_dump(exclude={"tearsheet", "output_dir", "index_max_points"})
