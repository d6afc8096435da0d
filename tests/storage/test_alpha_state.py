"""The incomplete-alpha marker: written at an alpha run's first output save, struck off node by
node, removed when every alpha node of the run has finished; while it exists, readers of alpha
outputs in other pipelines stop with the unfinished nodes named."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from kedro.pipeline import Pipeline, node

from statarb.storage.alpha_state import (
    MARKER,
    AlphaIncompleteError,
    AlphaOutputsHook,
    read_marker,
)


def _f(*args):
    return None


SCREEN = node(_f, "panel", ["cointegration_results", "selection_log"], name="alpha_screening")
SPREADS = node(_f, ["panel", "cointegration_results"], ["spread_series", "ou_params"],
               name="alpha_spreads_ou")  # fmt: skip
BACKTEST = node(_f, ["cointegration_results", "spread_series"], "backtest_run", name="backtest")
OTHER = node(_f, "bars", "report", name="unrelated")


class _Catalog:
    def __init__(self, root: Path) -> None:
        self.store = SimpleNamespace(_path=str(root / "alpha" / "spreads"))

    def get(self, name: str):
        if name != "spread_series":
            raise KeyError(name)
        return self.store


def _run(hook, catalog, nodes, fail_at: str | None = None) -> None:
    """The hook calls of a sequential Kedro run of ``nodes`` whose outputs are saved after the
    node ran (a generator node), stopping with an error in node ``fail_at`` after its first
    save (Kedro then calls ``on_pipeline_error``, which the hook does not implement)."""
    hook.before_pipeline_run({}, Pipeline(nodes), catalog)
    for n in Pipeline(nodes).nodes:
        hook.before_node_run(n)
        for out in n.outputs:
            hook.before_dataset_saved(out, n)
            if n.name == fail_at:
                raise RuntimeError("boom")
    hook.after_pipeline_run()


def test_a_finished_run_leaves_no_marker_and_a_failed_one_blocks_readers(tmp_path):
    cat, marker = _Catalog(tmp_path), tmp_path / "alpha" / MARKER
    _run(AlphaOutputsHook(), cat, [SCREEN, SPREADS, BACKTEST])
    assert not marker.exists()

    with pytest.raises(RuntimeError, match="boom"):
        _run(AlphaOutputsHook(), cat, [SCREEN, SPREADS], fail_at="alpha_spreads_ou")
    assert read_marker(marker)["pending"] == ["alpha_spreads_ou"]  # screening finished
    with pytest.raises(AlphaIncompleteError, match="did not finish alpha_spreads_ou") as err:
        _run(AlphaOutputsHook(), cat, [BACKTEST])
    assert "cointegration_results, spread_series" in str(err.value)
    assert "kedro run --pipelines alpha" in str(err.value)
    _run(AlphaOutputsHook(), cat, [OTHER])  # a node reading no alpha output is not concerned

    _run(AlphaOutputsHook(), cat, [SPREADS])  # resuming from the failed node finishes the run
    assert not marker.exists()
    _run(AlphaOutputsHook(), cat, [BACKTEST])


def test_rerunning_part_of_an_unfinished_run_keeps_the_rest_pending(tmp_path):
    cat, marker = _Catalog(tmp_path), tmp_path / "alpha" / MARKER
    with pytest.raises(RuntimeError):
        _run(AlphaOutputsHook(), cat, [SCREEN, SPREADS], fail_at="alpha_screening")
    started = read_marker(marker)["started_at"]
    assert read_marker(marker)["pending"] == ["alpha_screening", "alpha_spreads_ou"]
    _run(AlphaOutputsHook(), cat, [SPREADS])  # spreads alone: screening is still half-written
    assert read_marker(marker) == {"started_at": started, "pending": ["alpha_screening"]}
    with pytest.raises(AlphaIncompleteError, match="did not finish alpha_screening"):
        _run(AlphaOutputsHook(), cat, [BACKTEST])
    _run(AlphaOutputsHook(), cat, [SCREEN, SPREADS])
    assert not marker.exists()


def test_no_file_backed_store_no_marker(tmp_path):
    class NoStore:
        def get(self, name):
            raise KeyError(name)

    with pytest.raises(RuntimeError):
        _run(AlphaOutputsHook(), NoStore(), [SCREEN], fail_at="alpha_screening")
    _run(AlphaOutputsHook(), NoStore(), [BACKTEST])
    assert not any(tmp_path.rglob(MARKER))


def test_with_an_overlapping_runner_nodes_are_struck_off_at_the_end_only(tmp_path):
    cat, marker = _Catalog(tmp_path), tmp_path / "alpha" / MARKER
    hook = AlphaOutputsHook()
    hook.before_pipeline_run({"runner": "ThreadRunner"}, Pipeline([SCREEN, SPREADS]), cat)
    hook.before_node_run(SCREEN)
    hook.before_dataset_saved("cointegration_results", SCREEN)
    hook.before_node_run(SPREADS)  # may overlap the screening: nothing is struck off yet
    assert read_marker(marker)["pending"] == ["alpha_screening", "alpha_spreads_ou"]
    hook.after_pipeline_run()
    assert not marker.exists()


def test_a_new_session_is_warned_while_the_marker_exists(tmp_path, caplog):
    cat = _Catalog(tmp_path)
    with caplog.at_level("WARNING", logger="statarb.storage.alpha_state"):
        AlphaOutputsHook().after_catalog_created(cat)
        assert caplog.text == ""
        with pytest.raises(RuntimeError):
            _run(AlphaOutputsHook(), cat, [SCREEN], fail_at="alpha_screening")
        AlphaOutputsHook().after_catalog_created(cat)
    assert "did not finish alpha_screening" in caplog.text
