"""The ``reporting.tearsheet`` parameters as a strict model (``conf/base/parameters_reporting.yml``).

Validated by ``build_reports`` before anything is read, so a misspelt key (``rolling_windw``) or a
wrong type stops the node naming the key path and the closest valid name. Defaults only in the YAML.
"""

from __future__ import annotations

from pydantic import Field

from statarb.config.strict import StrictModel


class TearsheetParams(StrictModel):
    """``reporting.tearsheet`` (keys and ranges; see docs/reporting.md)."""

    max_pair_plots: int = Field(ge=-1)
    max_points: int = Field(ge=10)
    webgl: bool
    rolling_window: int = Field(ge=2)
    top_drawdowns: int = Field(ge=1)
