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


def _sum_cols(mat, idx, k):
    import os

    return float(mat[:, idx].sum()) * k, os.environ.get("MALLOC_TRIM_THRESHOLD_")


def test_shared_argument_is_sent_once_and_workers_keep_glibc_malloc():
    """A ``Shared`` argument is scattered (broadcast) once for all tasks; other large arrays per
    task; in process the value itself is passed. LocalCluster workers run without Dask's
    MALLOC_TRIM_THRESHOLD_ (compute.WORKER_ENVIRON: it made the screening kernels 1.7x slower)."""
    import numpy as np

    from statarb import compute

    mat = np.arange(400_000, dtype=np.float64).reshape(1000, 400)  # 3.2 MB > the scatter floor
    shared = compute.Shared(mat)
    tasks = [(shared, np.array([i, i + 1]), k) for k, i in enumerate(range(0, 40, 4))]
    want = [float(mat[:, [i, i + 1]].sum()) * k for k, i in enumerate(range(0, 40, 4))]
    assert [
        r for r in compute.InProcess().map(lambda m, i, k: float(m[:, i].sum()) * k, tasks)
    ] == want
    cfg = compute.ComputeConfig.from_params(
        with_overrides(base_params("compute"), {"engine": "dask", "dask.n_workers": 2,
                                                "dask.memory_limit": "1GiB"}), "compute",
    )  # fmt: skip
    with compute.mapper_for(cfg) as mapper:
        calls = []
        real = mapper.client.scatter
        mapper.client.scatter = lambda *a, **kw: calls.append(kw) or real(*a, **kw)
        got = list(mapper.imap(_sum_cols, tasks, len(tasks), progress=False))
    assert [g for g, _ in got] == want
    assert calls == [{"broadcast": True}]  # once, to every worker
    assert {env for _, env in got} == {None}
