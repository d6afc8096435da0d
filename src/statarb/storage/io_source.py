"""What a Polars IO plugin source (``polars.io.plugins.register_io_source``) must do with the
predicate, projection and row limit that Polars pushes down to it, shared by the SQL
(:mod:`statarb.storage.sql_scan`) and HDF5 (:mod:`statarb.storage.hdf5_store`) scans."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import polars as pl


def pushed_down(
    frames: Iterable[pl.DataFrame],
    predicate: pl.Expr | None,
    columns: Sequence[str] | None,
    n_rows: int | None,
) -> Iterator[pl.DataFrame]:
    """The batches ``frames`` read, filtered by ``predicate``, reduced to ``columns`` and cut
    after ``n_rows`` rows in all; ``frames`` is not read further once the limit is reached."""
    left = n_rows
    for df in frames:
        if predicate is not None:
            df = df.filter(predicate)
        if columns is not None:
            df = df.select(columns)
        if left is not None:
            df = df.head(left)
            left -= df.height
        yield df
        if left is not None and left <= 0:
            return
