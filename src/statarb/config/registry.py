"""Which model validates which top-level parameters section, and the start-up check of them all.

``SECTIONS`` maps a section of ``conf/<env>/parameters*.yml`` to the import path of its
:class:`~statarb.config.strict.StrictModel`. Adding a section = one line here plus the model.
:class:`ValidateParametersHook` validates every registered section present in the run's parameters
before the first node runs, so a misspelt key stops ``kedro run`` at once with the key's path.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from kedro.framework.hooks import hook_impl

from statarb.config.strict import ConfigError, StrictModel

#: section name -> "module:Model"
SECTIONS: dict[str, str] = {
    "alpha": "statarb.alpha.config:AlphaConfig",
    "backtest": "statarb.backtest.params:BacktestParams",
    "compute": "statarb.compute:ComputeConfig",
    "ingestion": "statarb.ingest.config:IngestionConfig",
    "preprocessing": "statarb.preprocess.params:PreprocessingParams",
    "reporting": "statarb.reporting.config:ReportingConfig",
    "storage": "statarb.storage.params:StorageParams",
    "sweep": "statarb.sweep.params:SweepParams",
    "synthetic": "statarb.synthetic.config:SyntheticConfig",
}


def model_for(section: str) -> type[StrictModel]:
    """The model class registered for ``section`` (KeyError naming the known sections)."""
    try:
        target = SECTIONS[section]
    except KeyError:
        raise KeyError(
            f"no config model for section {section!r}; known: {sorted(SECTIONS)}"
        ) from None
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)


def validate_parameters(params: Mapping[str, Any]) -> dict[str, StrictModel]:
    """Validate every registered section found in ``params``; raise one :class:`ConfigError`
    listing the problems of all sections."""
    out: dict[str, StrictModel] = {}
    problems: list[str] = []
    for section in SECTIONS:
        if section not in params:
            continue
        try:
            out[section] = model_for(section).from_params(params[section], section)
        except ConfigError as exc:
            problems.append(str(exc))
    problems += _cross_section_problems(out)
    if problems:
        raise ConfigError("\n".join(problems))
    return out


def _cross_section_problems(sections: Mapping[str, Any]) -> list[str]:
    """Rules spanning sections. The bar length is one setting (``globals.yml: bar_minutes``,
    interpolated into ``alpha.bar_minutes`` and ``backtest.bar_interval_minutes``); a
    ``--params`` override of only one of them would shift the information time of one stage."""
    alpha, bt = sections.get("alpha"), sections.get("backtest")
    if alpha is None or bt is None or alpha.bar_minutes == bt.bar_interval_minutes:
        return []
    return [
        f"alpha.bar_minutes ({alpha.bar_minutes}) != backtest.bar_interval_minutes "
        f"({bt.bar_interval_minutes}): the bar length is one setting, `bar_minutes` in "
        "conf/<env>/globals.yml; override both or neither"
    ]


class ValidateParametersHook:
    """Kedro hook: refuse to start a run whose parameters do not validate."""

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        validate_parameters(context.params)
