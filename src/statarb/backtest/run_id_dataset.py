"""Kedro dataset for the id of the latest backtest run (the backtest -> reporting hand-off)."""

from __future__ import annotations

from typing import Any

from kedro.io import DatasetError
from kedro_datasets.json import JSONDataset


class LatestRunIdDataset(JSONDataset):
    """``JSONDataset`` holding the latest run id; a missing file says which pipeline to run.

    kedro-datasets reports a bare ``No such file or directory``; before any backtest has run the
    reporting pipeline should tell the user what is missing instead.
    """

    def load(self) -> Any:
        if not self._exists():
            raise DatasetError(
                f"no backtest run recorded yet ({self._filepath} does not exist): run "
                "`kedro run --pipelines backtest` first (`statarb runs list` shows stored runs)"
            )
        return super().load()
