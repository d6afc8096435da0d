"""Rows to save one group of whole partitions at a time (bounded memory for big writes).

A :class:`PartitionChunks` is what a node returns instead of one frame holding every row: a
sequence of loaders, each giving the rows of one or more partitions that no other chunk touches.
:meth:`statarb.storage.columnar_dataset.ColumnarDataset.save` writes chunk after chunk -- through
the open write batch when there is one (each partition staged as a temporary file, published
with the batch), else each partition atomically at once -- so only one chunk is in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import polars as pl

__all__ = ["PartitionChunks"]


@dataclass(frozen=True)
class PartitionChunks:
    """Loaders of disjoint partition groups, written in order (module docstring).

    ``label`` names the rows in messages (e.g. ``"bars of 252 file(s)"``).
    """

    loaders: Sequence[Callable[[], pl.DataFrame]]
    label: str = "rows"

    def __iter__(self) -> Iterator[pl.DataFrame]:
        for load in self.loaders:
            yield load()

    def __len__(self) -> int:
        return len(self.loaders)
