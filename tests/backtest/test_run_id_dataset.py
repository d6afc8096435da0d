"""The backtest -> reporting hand-off dataset names the missing step instead of a bare OSError."""

from __future__ import annotations

import pytest
from kedro.io import DatasetError

from statarb.backtest.run_id_dataset import LatestRunIdDataset


def test_missing_run_id_says_to_run_the_backtest(tmp_path):
    ds = LatestRunIdDataset(filepath=str(tmp_path / "backtest" / "latest_run_id.json"))
    with pytest.raises(DatasetError, match=r"run `kedro run --pipelines backtest` first"):
        ds.load()


def test_round_trip(tmp_path):
    ds = LatestRunIdDataset(filepath=str(tmp_path / "latest_run_id.json"))
    ds.save("bt_20260101_001")
    assert ds.load() == "bt_20260101_001"
