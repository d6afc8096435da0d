"""Relational tables -> Polars frames: typed, ordered, batched reads (the read half of
:mod:`statarb.storage.sql_io`, which re-exports these names).

Rows come in :data:`READ_ORDER` or else the natural key (nulls first on both back-ends), with the
spec dtypes (TIMESTAMP -> ``Datetime("us", "UTC")``); results are streamed in batches
(``yield_per``), so a table of millions of rows is never held as Python objects at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import polars as pl
import sqlalchemy as sa

from statarb.conventions import UTC_US
from statarb.storage.errors import SchemaMismatch
from statarb.storage.schema import NATURAL_KEYS, get_table

__all__ = ["READ_ORDER", "iter_table", "polars_schema", "read_table"]

#: Row order of :func:`read_table` where it differs from the natural key: events in event-loop
#: order (spec §4.3), corporate actions in ex-date order (spec §4.1). Nulls sort first everywhere.
READ_ORDER: dict[str, tuple[str, ...]] = {
    "corporate_actions": ("symbol_id", "ex_date", "action_type"),
    "backtest_signals": ("run_id", "signal_ts", "id"),
    "backtest_fills": ("run_id", "fill_ts", "id"),
}


def _lookup(table: str) -> sa.Table:
    try:
        return get_table(table)
    except KeyError as exc:
        raise SchemaMismatch(table, str(exc.args[0])) from None


def _polars_dtype(col: sa.Column) -> pl.DataType:
    t = col.type
    if isinstance(t, sa.Boolean):
        return pl.Boolean()
    if isinstance(t, sa.DateTime):
        return UTC_US
    if isinstance(t, sa.Date):
        return pl.Date()
    if isinstance(t, sa.Integer):
        return pl.Int64()
    if isinstance(t, sa.Float):
        return pl.Float64()
    return pl.String()


def polars_schema(table: str) -> dict[str, pl.DataType]:
    """Polars schema of ``table`` (spec dtypes; TIMESTAMP -> ``Datetime("us", "UTC")``)."""
    return {c.name: _polars_dtype(c) for c in _lookup(table).columns}


def iter_table(
    conn: sa.Connection | sa.Engine,
    table: str,
    where: str | sa.ColumnElement[bool] | None = None,
    params: Mapping[str, Any] | None = None,
    columns: Sequence[str] | None = None,
    batch_rows: int = 200_000,
) -> Iterator[pl.DataFrame]:
    """:func:`read_table` in frames of at most ``batch_rows`` rows, in the same order: the result
    is streamed (``yield_per``: a server-side cursor on PostgreSQL), so at most one batch of rows
    is ever held as Python objects, whatever the size of the table."""
    t = _lookup(table)
    cols = list(columns) if columns is not None else list(t.c.keys())
    unknown = [c for c in cols if c not in t.c]
    if unknown:
        raise SchemaMismatch(
            table, f"unknown column(s) {unknown}; table columns: {list(t.c.keys())}"
        )
    order = READ_ORDER.get(table, NATURAL_KEYS[table])
    stmt = sa.select(*(t.c[c] for c in cols)).order_by(*(t.c[c].asc().nulls_first() for c in order))
    if where is not None:
        stmt = stmt.where(sa.text(where) if isinstance(where, str) else where)
    target = {c: _polars_dtype(t.c[c]) for c in cols}
    naive = {c: (d.base_type() if isinstance(d, pl.Datetime) else d) for c, d in target.items()}
    naive = {c: (pl.Datetime("us") if d == pl.Datetime else d) for c, d in naive.items()}

    def frame(rows: Sequence[Any]) -> pl.DataFrame:
        out = pl.DataFrame(rows, schema=naive, orient="row")
        return out.with_columns(
            pl.col(c).dt.replace_time_zone("UTC")
            for c, d in target.items()
            if isinstance(d, pl.Datetime)
        )

    def run(c: sa.Connection) -> Iterator[pl.DataFrame]:
        res = c.execution_options(yield_per=batch_rows).execute(stmt, dict(params or {}))
        empty = True
        for part in res.partitions():
            empty = False
            yield frame(part)
        if empty:
            yield frame([])

    if isinstance(conn, sa.Engine):
        with conn.connect() as c:
            yield from run(c)
    else:
        yield from run(conn)


def read_table(
    conn: sa.Connection | sa.Engine,
    table: str,
    where: str | sa.ColumnElement[bool] | None = None,
    params: Mapping[str, Any] | None = None,
    columns: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Load ``table`` (optionally filtered) as a Polars frame with the spec dtypes.

    ``where`` is an SQL condition (text with ``:name`` placeholders bound from ``params``, or a
    SQLAlchemy expression). Rows come ordered by :data:`READ_ORDER` or else the natural key (nulls
    first on both back-ends); timestamps are
    ``Datetime("us", "UTC")``, booleans ``Boolean``, REAL ``Float64``, INTEGER ``Int64``.
    Read in batches (:func:`iter_table`), so the rows are never all Python objects at once.
    """
    frames = list(iter_table(conn, table, where, params, columns))
    return frames[0] if len(frames) == 1 else pl.concat(frames, rechunk=True)
