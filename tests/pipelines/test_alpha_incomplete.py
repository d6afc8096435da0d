"""A real ``kedro run`` of alpha that fails half-way leaves the incomplete-alpha marker, and the
backtest then refuses the mixed outputs until alpha has run to the end
(:mod:`statarb.storage.alpha_state`)."""

from __future__ import annotations

import pytest
from tests.pipelines.test_dask_end_to_end import SMALL
from tests.pipelines.test_reprocessing_replay import _kedro_run
from tests.project_fixtures import generated_project

from statarb.pipelines.alpha import nodes
from statarb.storage.alpha_state import MARKER, AlphaIncompleteError, read_marker


def test_a_failed_alpha_run_blocks_the_backtest_until_alpha_finishes(tmp_path, monkeypatch):
    root, _ = generated_project(tmp_path / "proj", monkeypatch, n_symbols=12, n_days=24)
    _kedro_run(root, ["ingestion", "preprocessing"], {})
    real, calls = nodes.mapper_for, []

    def failing_second(cfg):  # screening gets the mapper first, the spreads node second
        calls.append(cfg)
        if len(calls) == 2:
            raise OSError("disk full (simulated)")
        return real(cfg)

    monkeypatch.setattr(nodes, "mapper_for", failing_second)
    with pytest.raises(OSError, match="simulated"):
        _kedro_run(root, ["alpha"], {"compute": SMALL})
    marker = root / "data" / "alpha" / MARKER
    assert read_marker(marker)["pending"] == ["alpha_spreads_ou"]
    with pytest.raises(AlphaIncompleteError, match="alpha_spreads_ou"):
        _kedro_run(root, ["backtest"], {})

    monkeypatch.setattr(nodes, "mapper_for", real)
    _kedro_run(root, ["alpha", "backtest"], {"compute": SMALL})
    assert not marker.exists()
