"""The Dask path (a 2-worker ``LocalCluster``) gives bit-identical screening, spreads and OU fits
to the in-process path."""

from __future__ import annotations

import polars as pl
import pytest

from statarb.alpha.screening_blocks import concat_blocks
from statarb.pipelines.alpha import nodes
from tests.config_helpers import base_params, with_overrides
from tests.pipelines.alpha.test_alpha_pipeline import PARAMS, SYMBOLS, make_bars, series

pytest.importorskip("distributed")


def _run(compute: dict):
    bars = make_bars(n_days=4, seed=2)
    params = with_overrides(PARAMS, {"selection.multiple_testing.method": "none"})
    pu = nodes.build_universe(SYMBOLS, None, params)
    panel = nodes.build_price_panel(bars.lazy(), pu)
    sched = nodes.build_alpha_schedule(panel, params)
    coint, log = concat_blocks(nodes.screen_universe(panel, pu, sched, params, compute))
    return (coint, log, *series(panel, pu, coint, sched, params, compute))


def test_dask_local_cluster_equals_in_process():
    local = with_overrides(
        base_params("compute"), {"chunk_pairs": 2, "chunk_pair_bars": 2000, "chunk_pair_tests": 12}
    )
    dask = with_overrides(
        local, {"engine": "dask", "dask.n_workers": 2, "dask.memory_limit": "1GiB"}
    )
    a, b = _run(local), _run(dask)
    names = ("cointegration_results", "selection_log", "spread_series", "kalman_params",
             "ou_params", "ou_output")  # fmt: skip
    assert a[0]["is_cointegrated"].any()  # something was selected, so spreads exist
    assert a[2].height > 0 and a[4].height > 0
    for name, x, y in zip(names, a, b, strict=True):
        x, y = x.drop("created_at", strict=False), y.drop("created_at", strict=False)
        assert x.equals(y), name
    assert pl.concat([a[0]]).height == 6 * a[0]["test_ts"].n_unique()
