"""Where chunked work runs: in this process, or fanned out to a Dask distributed cluster.

Stages that stream pairs in chunks (screening, Kalman/OU, backtest) hand a function and a list of
argument tuples to a mapper; the result list is in task order and does not depend on the mapper
(each task is a pure function of its arguments), so the Dask path is bit-identical to the
in-process one (tested on a 2-worker ``LocalCluster``).

* :class:`InProcess` - a loop with a tqdm progress bar (the default).
* :class:`DaskMapper` - ``dask.distributed``: an existing scheduler (``compute.dask.address``,
  e.g. ``tcp://host:8786``) or a ``LocalCluster`` with ``n_workers`` worker processes started for
  the run and closed after it. Large NumPy arguments are scattered to the workers; each task runs
  with ``threads_per_worker`` numba threads, so workers do not oversubscribe the cores. Progress
  is shown as tasks complete.

Configured by the ``compute`` section of ``conf/base/parameters.yml``
(:class:`ComputeConfig`); ``mapper_for(cfg)`` builds the mapper.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import Field
from tqdm.auto import tqdm

from statarb.config.strict import StrictModel

log = logging.getLogger(__name__)
_SCATTER_BYTES = 1 << 20  # scatter NumPy arguments larger than 1 MiB instead of embedding them
# A LocalCluster's nanny starts each worker with MALLOC_TRIM_THRESHOLD_=65536 (distributed's
# default ``distributed.nanny.pre-spawn-environ``), so glibc hands freed memory back to the OS at
# once; the screening kernels allocate and free many window-sized arrays, and with that setting a
# chunk ran 1.7-1.8x slower in a worker than in this process (measured: 10 chunks of 64 pairs,
# 5.9-6.2 s against 3.2-3.5 s; unset, 3.1-3.2 s). The workers of our LocalCluster keep glibc's
# default (the other pre-spawn settings, one BLAS/OpenMP thread, stay).
WORKER_ENVIRON = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


class DaskSettings(StrictModel):
    """``compute.dask``."""

    address: str | None
    n_workers: int = Field(ge=1)
    threads_per_worker: int = Field(ge=1)
    memory_limit: str


class ComputeConfig(StrictModel):
    """``compute``: the engine for chunked work, the chunk size (pairs per task), the funnel's
    block of test times (pair-tests per block) and the backtest's time-chunk size (pair-bars per
    chunk)."""

    engine: Literal["local", "dask"]
    chunk_pairs: int = Field(ge=1)
    chunk_pair_tests: int = Field(ge=1)
    chunk_pair_bars: int = Field(ge=1)
    dask: DaskSettings


@dataclass(frozen=True, eq=False)
class Shared:
    """A task argument that many tasks share (e.g. the universe's price matrix): a Dask mapper
    sends it to every worker once (``scatter(broadcast=True)``) and passes the same copy to each
    task; in process the value itself is passed."""

    value: Any


def _unshared(t: tuple) -> list[Any]:
    return [a.value if isinstance(a, Shared) else a for a in t]


class InProcess:
    """Run every task here, in order."""

    def imap(
        self,
        fn: Callable,
        tasks: Iterable[tuple],
        total: int,
        desc: str = "",
        progress: bool = True,
    ) -> Iterator[Any]:
        """``fn(*t)`` for each of the ``total`` tasks, lazily and in order (a task is built only
        when it runs), with a progress bar."""
        for t in tqdm(tasks, total=total, desc=desc, disable=not progress or total < 2):
            yield fn(*_unshared(t))

    def map(
        self, fn: Callable, tasks: Sequence[tuple], desc: str = "", progress: bool = True
    ) -> list[Any]:
        """``[fn(*t) for t in tasks]`` with a progress bar."""
        return list(self.imap(fn, tasks, len(tasks), desc, progress))


def _single_threaded(fn: Callable, threads: int, *args: Any) -> Any:
    import numba

    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    return fn(*args)


class DaskMapper:
    """Run tasks on a ``dask.distributed`` client (see the module docstring)."""

    def __init__(self, client: Any, threads_per_worker: int = 1) -> None:
        self.client = client
        self.threads = int(threads_per_worker)
        self._shared: dict[int, tuple[Shared, Any]] = {}  # id -> (argument, its future)

    def _arg(self, a: Any) -> Any:
        if isinstance(a, Shared):
            hit = self._shared.get(id(a))
            if hit is None:  # the argument is kept with its future, so its id stays unique
                hit = (a, self.client.scatter(a.value, broadcast=True))
                self._shared[id(a)] = hit
            return hit[1]
        if isinstance(a, np.ndarray) and a.nbytes > _SCATTER_BYTES:
            return self.client.scatter(a)
        return a

    def _submit(self, fn: Callable, t: tuple) -> Any:
        args = [self._arg(a) for a in t]
        return self.client.submit(_single_threaded, fn, self.threads, *args, pure=False)

    def map(
        self, fn: Callable, tasks: Sequence[tuple], desc: str = "", progress: bool = True
    ) -> list[Any]:
        """Submit every task, gather the results in task order."""
        from distributed import as_completed

        futures = [self._submit(fn, t) for t in tasks]
        index = {f.key: i for i, f in enumerate(futures)}
        out: list[Any] = [None] * len(futures)
        bar = tqdm(total=len(futures), desc=f"{desc} (dask)", disable=not progress)
        for fut in as_completed(futures):
            out[index[fut.key]] = fut.result()
            bar.update()
        bar.close()
        return out

    def imap(
        self,
        fn: Callable,
        tasks: Iterable[tuple],
        total: int,
        desc: str = "",
        progress: bool = True,
    ) -> Iterator[Any]:
        """``fn(*t)`` for each of the ``total`` tasks, yielded in task order, with at most
        ``2 x workers`` tasks built and in flight, so neither inputs nor results that the caller
        writes as they come pile up in memory."""
        ahead = max(2, 2 * len(self.client.scheduler_info().get("workers", {})))
        pending: list[Any] = []
        bar = tqdm(total=total, desc=f"{desc} (dask)", disable=not progress)
        for t in tasks:
            pending.append(self._submit(fn, t))
            if len(pending) >= ahead:
                yield pending.pop(0).result()
                bar.update()
        for fut in pending:
            yield fut.result()
            bar.update()
        bar.close()


@contextlib.contextmanager
def mapper_for(cfg: ComputeConfig | None) -> Iterator[InProcess | DaskMapper]:
    """The mapper of ``cfg`` (in process when ``None``); a ``LocalCluster`` started here is closed
    on exit."""
    if cfg is None or cfg.engine == "local":
        yield InProcess()
        return
    import dask
    from distributed import Client, LocalCluster

    d = cfg.dask
    if d.address:
        with Client(d.address) as client:
            log.info("compute: Dask scheduler %s", d.address)
            yield DaskMapper(client, d.threads_per_worker)
        return
    with (
        dask.config.set(WORKER_ENVIRON),
        LocalCluster(
            n_workers=d.n_workers, threads_per_worker=d.threads_per_worker,
            memory_limit=d.memory_limit, processes=True, dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        log.info("compute: Dask LocalCluster with %d workers", d.n_workers)
        yield DaskMapper(client, d.threads_per_worker)
