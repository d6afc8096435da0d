"""Benchmark: walk-forward screening on a Dask ``LocalCluster`` with 1 vs 2 workers (and in process).

Run on demand: ``.venv/bin/python benchmarks/bench_dask_screening.py [--symbols 24] [--days 30]
[--chunk-pairs 16] [--repeat 2]``. A random-walk panel of ``--symbols`` symbols x ``--days``
sessions of 390 one-minute bars (every pair of the universe screened at every session close on
the shipped 20-session window, shipped funnel) goes through the alpha node ``screen_universe``
three ways: in process (numba on one thread), Dask with 1 worker and Dask with 2 workers
(``threads_per_worker: 1``). Cluster start-up is outside the timing: the cluster is started once
per configuration and warmed with one full call, so every worker has compiled the kernels.
Prints wall times, pair-tests per second and the speed-up of 2 workers over 1; it also checks
that all three give identical rows. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import numba
import numpy as np
import polars as pl
from timing import best_of

from statarb import compute
from statarb.alpha.screening_blocks import concat_blocks
from statarb.config_loader import resolved_parameters
from statarb.pipelines.alpha import nodes

CONF = Path(__file__).resolve().parents[1] / "conf" / "base"


def _panel(n_symbols: int, n_days: int) -> pl.DataFrame:
    rng = np.random.default_rng(0)
    start = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
    times = [start + timedelta(days=d, minutes=m) for d in range(n_days) for m in range(390)]
    logp = np.log(50.0) + np.cumsum(rng.normal(0, 5e-4, (len(times), n_symbols)), axis=0)
    return pl.DataFrame(
        {"datetime": times, **{f"S{i:03d}": np.exp(logp[:, i]) for i in range(n_symbols)}}
    ).with_columns(pl.col("datetime").dt.cast_time_unit("us"))


def _universe(symbols: list[str]) -> pl.DataFrame:
    rows = [(f"{a}_{b}", a, b) for a, b in itertools.combinations(sorted(symbols), 2)]
    return pl.DataFrame(rows, schema=["pair_id", "symbol_a", "symbol_b"], orient="row")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--symbols", type=int, default=24)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--chunk-pairs", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    params = resolved_parameters(str(CONF.parent))
    alpha, base = params["alpha"], params["compute"]
    panel = _panel(args.symbols, args.days)
    pu = _universe([c for c in panel.columns if c != "datetime"])
    sched = nodes.build_alpha_schedule(panel, alpha)
    n_tests = pu.height * sched.height

    def cfg(engine: str, workers: int) -> dict:
        d = {**base["dask"], "n_workers": workers, "threads_per_worker": 1, "address": None}
        return {**base, "engine": engine, "chunk_pairs": args.chunk_pairs, "dask": d}

    results, times = {}, {}
    numba.set_num_threads(1)
    for label, c in (("in process", cfg("local", 1)), ("dask 1 worker", cfg("dask", 1)),
                     ("dask 2 workers", cfg("dask", 2))):  # fmt: skip
        comp = compute.ComputeConfig.from_params(c, "compute")
        with (
            compute.mapper_for(comp) as mapper,
            mock.patch.object(nodes, "mapper_for", lambda _c, m=mapper: _reuse(m)),
        ):
            concat_blocks(
                nodes.screen_universe(panel, pu, sched, alpha, c)
            )  # warm: JIT on every worker
            times[label] = best_of(
                lambda c=c, label=label: results.__setitem__(
                    label, concat_blocks(nodes.screen_universe(panel, pu, sched, alpha, c))
                ),
                args.repeat,
            )
        print(f"{label:15s} {times[label]:7.2f} s  ({n_tests / times[label]:8.0f} pair-tests/s)")
    ref = results["in process"][0].drop("created_at")
    for label, (coint, _) in results.items():
        assert coint.drop("created_at").equals(ref), f"{label}: rows differ from in process"
    print(f"{pu.height} pairs x {sched.height} test times = {n_tests} pair-tests; rows identical")
    print(f"speed-up 2 workers / 1 worker: {times['dask 1 worker'] / times['dask 2 workers']:.2f}x")


class _reuse:
    """A context manager yielding an already started mapper (the cluster outlives the calls)."""

    def __init__(self, mapper: object) -> None:
        self.mapper = mapper

    def __enter__(self) -> object:
        return self.mapper

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    main()
