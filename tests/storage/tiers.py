"""The two tiers of the columnar store behind one test interface (Parquet partitions, HDF5 files).

Each :class:`Tier` writes, scans, lists its storage units and can damage the storage a read must
not need -- so a test proves which units (Parquet partition files) or chunks (HDF5 dataset chunks)
a range read touches: everything else is overwritten with garbage and the read must still be
exact.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import h5py
import numpy as np

from statarb.storage import hdf5_store, parquet_read, parquet_write
from statarb.storage.hdf5_format import INDEX, group_path
from statarb.storage.parquet_schemas import get_layout


def _garble(path: Path, offset: int, size: int) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(os.urandom(size))


@dataclass(frozen=True)
class Tier:
    name: str
    write: Callable
    scan: Callable
    module: ModuleType  # holds `_write_tmp`, the per-unit staging writer (fault injection)

    def units(self, root: Path) -> list[Path]:
        """Every committed data file under ``root``."""
        pattern = "data.parquet" if self.name == "parquet" else "*.h5"
        return sorted(root.rglob(pattern))

    def garble_except(self, root: Path, layout: str, days: set[dt.date]) -> int:
        """Overwrite every unit (Parquet) or chunk (HDF5) holding no row of ``days``; return how
        many were damaged."""
        lay = get_layout(layout)
        damaged = 0
        if self.name == "parquet":
            for f in self.units(root):
                day = dt.date.fromisoformat(f.parent.name.removeprefix("date="))
                if day not in days:
                    _garble(f, 0, f.stat().st_size)
                    damaged += 1
            return damaged
        for f in self.units(root):
            entity = f.stem
            spans = []  # (byte offset, size) of chunks without a wanted day
            with h5py.File(f, "r") as h:
                g = h[group_path(lay, entity)]
                idx = g[INDEX]
                day = idx["day"][()]
                wanted = np.isin(day, [(d - dt.date(1970, 1, 1)).days for d in days])
                rows = [
                    (a, b)
                    for a, b, w in zip(idx["start"][()], idx["stop"][()], wanted, strict=True)
                    if w
                ]
                for name in g:
                    ds = g[name]
                    if not isinstance(ds, h5py.Dataset):
                        continue
                    for i in range(ds.id.get_num_chunks()):
                        info = ds.id.get_chunk_info(i)
                        lo = info.chunk_offset[0]
                        hi = lo + ds.chunks[0]
                        if not any(a < hi and lo < b for a, b in rows):
                            spans.append((info.byte_offset, info.size))
            for offset, size in spans:
                _garble(f, offset, size)
            damaged += len(spans)
        return damaged


PARQUET = Tier("parquet", parquet_write.write_partitions, parquet_read.scan_store, parquet_write)
HDF5 = Tier("hdf5", hdf5_store.write_hdf5, hdf5_store.scan_hdf5, hdf5_store)
TIERS = {"parquet": PARQUET, "hdf5": HDF5}
