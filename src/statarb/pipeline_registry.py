"""Registers the project's pipelines: one per stage, ``__default__`` runs them all in order.

Pipelines outside the stages (``sweep``, docs/research.md) are registered by ``find_pipelines``
and run on demand (``kedro run --pipelines sweep``); they are not part of ``__default__``.
"""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

STAGES = ("ingestion", "preprocessing", "alpha", "backtest", "reporting")


def register_pipelines() -> dict[str, Pipeline]:
    """Map pipeline names to ``Pipeline`` objects; ``__default__`` is every stage in order."""
    pipelines = find_pipelines()
    for stage in STAGES:
        pipelines.setdefault(stage, Pipeline([]))
    pipelines["__default__"] = sum((pipelines[s] for s in STAGES), Pipeline([]))
    return pipelines
