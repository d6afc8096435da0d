"""Staging of validated bar/tick rows on disk while a delivery is streamed (bounded memory).

The ``ingest_bars`` / ``ingest_ticks`` nodes validate the raw files group by group
(docs/ingestion.md, "Streaming"); each group's valid rows and quarantined rows are written here,
not kept in memory, and published together at the end of the run:

``<staging>/<kind>/valid/date=<UTC date>/g<group>.parquet``
    the group's valid store rows of that UTC day (a store partition's rows, split once per group)
``<staging>/<kind>/quarantine/g<group>.parquet``
    the group's quarantined rows (``rule`` first)

:meth:`StagedSeries.store_chunks` gives the store rows one UTC day at a time
(:class:`~statarb.storage.frame_chunks.PartitionChunks`: the ``bars``/``ticks`` dataset writes
each partition through the write batch ``ingestion``) and :meth:`StagedSeries.quarantine` a lazy
scan of the quarantine files (the quarantine dataset streams it to its file). The staging folder
is removed when the batch is published or aborted, when any ``ingest_*`` node fails, by
:class:`CleanStagingHook` when a Kedro run fails, and -- left by a killed process -- when the
next run opens it.

Catalog entry (``conf/base/catalog_ingestion.yml``)::

    ingestion_staging:
      type: statarb.ingest.staging.StagingDataset
      path: data/02_intermediate/ingestion_staging
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from kedro.framework.hooks import hook_impl
from kedro.io import AbstractDataset, DatasetError

from statarb.storage.frame_chunks import PartitionChunks

__all__ = ["CleanStagingHook", "StagedSeries", "StagingArea", "StagingDataset", "cleanup_all"]

log = logging.getLogger(__name__)

#: quarantine rules of rows that passed every row rule (candidates of a later exact copy)
ORDER_RULES = ("duplicate", "non_increasing_datetime")
STAGE_COMPRESSION = "lz4"  # temporary files: fast to write and read back
_OPEN: dict[Path, StagingArea] = {}


def _group_file(g: int) -> str:
    return f"g{g:06d}.parquet"


class StagingArea:
    """The staging folder of one ingestion run (module docstring); open it with :func:`open_area`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def series(self, kind: str) -> SeriesStager:
        """A fresh stager for ``kind`` (``bars``/``ticks``): earlier content of it removed."""
        folder = self.root / kind
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return SeriesStager(kind, folder)

    def cleanup(self) -> None:
        """Remove the staging folder and forget it (idempotent)."""
        shutil.rmtree(self.root, ignore_errors=True)
        _OPEN.pop(self.root, None)


def open_area(root: Path) -> StagingArea:
    """The staging area at ``root``: the one this process opened (a second node of the run), or a
    new one after removing what a killed process left there."""
    root = Path(root)
    if root in _OPEN:
        return _OPEN[root]
    if root.exists():
        log.warning("ingestion staging %s left by an earlier run: removing it", root)
        shutil.rmtree(root)
    area = StagingArea(root)
    _OPEN[root] = area
    return area


def cleanup_all() -> None:
    """Remove every staging area this process opened."""
    for area in list(_OPEN.values()):
        area.cleanup()


class SeriesStager:
    """Writes one kind's groups to the staging folder and finds earlier rows by key."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind = kind
        self.folder = folder
        self.groups = 0
        self._days: set[str] = set()
        self._quarantine: list[Path] = []

    def stage(self, valid: pl.DataFrame, quarantine: pl.DataFrame) -> None:
        """Write one group's valid store rows (split by UTC day) and quarantined rows."""
        name = _group_file(self.groups)
        self.groups += 1
        if valid.height:
            days = valid.with_columns(pl.col("datetime").dt.date().alias("_day"))
            for (day,), part in days.partition_by(
                "_day", as_dict=True, maintain_order=True
            ).items():
                folder = self.folder / "valid" / f"date={day.isoformat()}"
                folder.mkdir(parents=True, exist_ok=True)
                part.drop("_day").write_parquet(folder / name, compression=STAGE_COMPRESSION)
                self._days.add(day.isoformat())
        if quarantine.height:
            folder = self.folder / "quarantine"
            folder.mkdir(parents=True, exist_ok=True)
            quarantine.write_parquet(folder / name, compression=STAGE_COMPRESSION)
            self._quarantine.append(folder / name)

    def prior_rows(self, keys: pl.DataFrame) -> pl.DataFrame:
        """Staged rows with these ``(symbol, datetime)`` keys that passed the row rules: valid
        rows (read from the keys' UTC days only) and rows quarantined as duplicate/out of order.
        Called only for the rare rows of a group not later than their symbol's earlier rows."""
        days = sorted({d.isoformat() for d in keys["datetime"].dt.date().to_list()} & self._days)
        files = [
            str(f)
            for d in days
            for f in sorted((self.folder / "valid" / f"date={d}").glob("g*.parquet"))
        ]
        lo, hi = keys["datetime"].min(), keys["datetime"].max()
        frames = []
        in_range = pl.col("datetime").is_between(lo, hi)
        on = ["symbol", "datetime"]
        if files:
            scan = pl.scan_parquet(files).filter(in_range)
            frames.append(scan.join(keys.lazy(), on=on, how="semi").collect())
        if self._quarantine:
            scan = pl.scan_parquet([str(f) for f in self._quarantine])
            scan = scan.filter(in_range & pl.col("rule").is_in(ORDER_RULES))
            frames.append(scan.join(keys.lazy(), on=on, how="semi").collect())
        return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()

    def finish(
        self, quarantine_schema: dict[str, pl.DataType], last_datetime: dt.datetime | None
    ) -> StagedSeries:
        """The handle passed on to the publishing node (``last_datetime``: latest valid row)."""
        return StagedSeries(
            kind=self.kind,
            last_datetime=last_datetime,
            folder=self.folder,
            days=tuple(sorted(self._days)),
            quarantine_files=tuple(self._quarantine),
            quarantine_schema=dict(quarantine_schema),
        )


@dataclass(frozen=True)
class StagedSeries:
    """What ``ingest_bars``/``ingest_ticks`` staged: store rows per UTC day, quarantine files."""

    kind: str
    last_datetime: dt.datetime | None
    folder: Path
    days: tuple[str, ...]
    quarantine_files: tuple[Path, ...]
    quarantine_schema: dict[str, pl.DataType]

    def _day(self, day: str, extra: tuple[pl.Expr, ...]) -> pl.DataFrame:
        files = sorted((self.folder / "valid" / f"date={day}").glob("g*.parquet"))
        return pl.read_parquet([str(f) for f in files]).with_columns(*extra)

    def store_chunks(self, extra: tuple[pl.Expr, ...] = ()) -> PartitionChunks:
        """The valid rows, one UTC day (one store partition) per chunk, in day order, with the
        ``extra`` constant columns (``adj_factor``, ``source``)."""
        loaders = [lambda d=d: self._day(d, extra) for d in self.days]
        return PartitionChunks(loaders, label=f"{self.kind} of {len(self.days)} day(s)")

    def quarantine(self) -> pl.LazyFrame | pl.DataFrame:
        """Every quarantined row in delivery order: a lazy scan of the staged files (an empty
        frame of the quarantine schema when there is none)."""
        if not self.quarantine_files:
            return pl.DataFrame(schema=self.quarantine_schema)
        return pl.scan_parquet([str(f) for f in self.quarantine_files])

    def read_valid(self) -> pl.DataFrame:
        """Every staged valid row in (day, delivery) order -- for tests and small deliveries."""
        frames = [self._day(d, ()) for d in self.days]
        return pl.concat(frames) if frames else pl.DataFrame()

    def read_quarantine(self) -> pl.DataFrame:
        """Every quarantined row -- for tests and small deliveries."""
        q = self.quarantine()
        return q.collect() if isinstance(q, pl.LazyFrame) else q


class StagingDataset(AbstractDataset[None, StagingArea]):
    """Catalog handle of the staging folder: ``load()`` opens it (:func:`open_area`); it is
    removed when the write batch that publishes its rows closes (module docstring)."""

    def __init__(self, path: str, metadata: dict[str, Any] | None = None) -> None:
        self._path = Path(path)
        self.metadata = metadata

    def load(self) -> StagingArea:
        return open_area(self._path)

    def save(self, data: None) -> None:
        raise DatasetError(f"StagingDataset({self._path}) is opened by loading it")

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}


class CleanStagingHook:
    """Kedro hook: a failed run removes every staging folder it opened."""

    @hook_impl
    def on_pipeline_error(self, error: Exception, run_params: Any, pipeline: Any, catalog: Any):
        cleanup_all()
