"""Incomplete alpha outputs: a run that stopped half-way is never traded on silently.

The alpha stage streams its outputs (blocks of test times into ``cointegration_results`` and
``selection_log``, chunks of pairs into ``spread_series``, ``kalman_params``, ``ou_params`` and
``ou_output``), so a run that stops half-way (an error, a full disk, Ctrl-C) leaves a store in
which some rows are new and others still the previous run's. Holding every output until the end,
as the ingestion write batch does (:mod:`statarb.storage.write_batch`), would hold the whole
universe's outputs in memory, which the streaming exists to avoid. Instead
:class:`AlphaOutputsHook` writes a marker file beside the alpha Parquet outputs (``MARKER`` in the
folder holding ``spread_series``) at a run's first save of an alpha output, listing the run's
alpha nodes still to finish; each node that finishes is struck off, and the file is removed when
none is left. A node has finished when the next node starts or the run ends: Kedro saves a
generator node's outputs after its ``after_node_run`` hook, and the project runs nodes one after
the other (``SequentialRunner``; Dask works inside the nodes). With another runner, whose nodes
may overlap, the run's alpha nodes are struck off only when the whole run has succeeded. While
the marker exists, a node of another pipeline that reads an alpha output (backtest, reporting,
sweep) and ``statarb recovery`` stop with :class:`AlphaIncompleteError` (:func:`require_finished`),
naming the unfinished nodes and the command to run. A marker left by a killed process is handled the same way. Every catalog a
session creates (a notebook, ``kedro ipython``, a run) logs a warning while the marker exists.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

from statarb.storage.errors import StorageError

#: Catalog entries the alpha pipeline writes (docs/architecture.md).
ALPHA_OUTPUTS = frozenset(
    {"cointegration_results", "selection_log", "spread_series", "kalman_params", "ou_params",
     "ou_output"}
)  # fmt: skip
MARKER = "ALPHA_INCOMPLETE.json"

log = logging.getLogger(__name__)


class AlphaIncompleteError(StorageError, RuntimeError):
    """An alpha output is read while an alpha run that wrote to it has not finished."""


def marker_for(spreads_root: str | Path) -> Path:
    """The marker beside the ``spread_series`` store at ``spreads_root``."""
    return Path(str(spreads_root)).parent / MARKER


def marker_path(catalog: Any) -> Path | None:
    """:func:`marker_for` the catalog's ``spread_series`` store (``None`` when the entry is not a
    file-backed store, e.g. a MemoryDataset in tests)."""
    try:
        path = getattr(catalog.get("spread_series"), "_path", None)
    except Exception:  # noqa: BLE001 - no such entry: nothing to guard
        return None
    return None if path is None else marker_for(path)


def read_marker(path: Path) -> dict[str, Any] | None:
    """The marker's content, or ``None`` when there is none."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def unfinished(path: Path) -> str | None:
    """``"the alpha run of <start> did not finish <nodes> (<path>)"`` while the marker at
    ``path`` exists, else ``None``."""
    state = read_marker(path)
    if state is None:
        return None
    return (f"the alpha run of {state['started_at']} did not finish "
            f"{', '.join(state['pending'])} ({path})")  # fmt: skip


def require_finished(path: Path, who: str) -> None:
    """Raise :class:`AlphaIncompleteError` for ``who`` while the marker at ``path`` exists."""
    what = unfinished(path)
    if what is not None:
        raise AlphaIncompleteError(
            f"{who} may mix two alpha runs: {what}; run `kedro run --pipelines alpha` (or resume "
            "it with `--from-nodes`) first"
        )


def _write_marker(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1))
    os.replace(tmp, path)


class AlphaOutputsHook:
    """Kedro hook keeping the marker (module docstring)."""

    def __init__(self) -> None:
        self._path: Path | None = None
        self._writers: set[str] = set()
        self._marked = False
        self._running: str | None = None
        self._sequential = True

    @hook_impl
    def after_catalog_created(self, catalog: Any) -> None:
        path = marker_path(catalog)
        what = unfinished(path) if path is not None else None
        if what is not None:
            log.warning("alpha outputs may mix two runs: %s; `kedro run --pipelines alpha` "
                        "writes them whole", what)  # fmt: skip

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        self._path = marker_path(catalog)
        self._writers = {n.name for n in pipeline.nodes if set(n.outputs) & ALPHA_OUTPUTS}
        self._marked = False
        self._running = None
        runner = str(run_params.get("runner"))  # "None": Kedro's default, the SequentialRunner
        self._sequential = runner == "None" or "Sequential" in runner

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        if self._running is not None and self._sequential:
            self._finished([self._running])
        self._running = node.name
        if self._path is None or node.name in self._writers:
            return
        read = sorted(set(node.inputs) & ALPHA_OUTPUTS)
        if read:
            require_finished(self._path, f"{node.name}: {', '.join(read)}")

    @hook_impl
    def before_dataset_saved(self, dataset_name: str, node: Any) -> None:
        if self._path is None or self._marked or dataset_name not in ALPHA_OUTPUTS:
            return
        old = read_marker(self._path) or {}
        pending = sorted(set(old.get("pending", [])) | self._writers)
        started = old.get("started_at") or datetime.now(UTC).isoformat(timespec="seconds")
        _write_marker(self._path, {"started_at": started, "pending": pending})
        self._marked = True

    @hook_impl
    def after_pipeline_run(self) -> None:
        self._finished(sorted(self._writers))
        self._running = None

    def _finished(self, names: list[str]) -> None:
        done = set(names) & self._writers
        if self._path is None or not self._marked or not done:
            return
        state = read_marker(self._path)
        if state is None:
            return
        pending = [n for n in state["pending"] if n not in done]
        if pending:
            _write_marker(self._path, {**state, "pending": pending})
        else:
            self._path.unlink(missing_ok=True)
