"""SQLite bulk writes: one compiled statement, rows as driver-ready tuples.

SQLAlchemy's Core ``executemany`` on SQLite turns every row into a dict and runs each value
through its type's bind processor (``DateTime`` -> ISO string); with Polars ``to_dicts`` in
front, that costs ~4x a plain ``sqlite3`` ``executemany`` of tuples
(``benchmarks/bench_sql_io.py``). Here the conversion is done column-wise in Polars, in the
formats SQLAlchemy's SQLite dialect stores (``DATETIME``: ``YYYY-MM-DD HH:MM:SS.ffffff``;
``DATE``: ``YYYY-MM-DD``; Python's ``bool`` binds as 0/1 as it is), and the statement
SQLAlchemy compiled is executed through the DBAPI cursor of the caller's transaction
(``Connection.exec_driver_sql``). A statement with a bind that is not a column of the frame is
left to the caller (``False``). ``tests/storage/test_sql_bulk_sqlite.py`` checks that both
paths store the same values and storage classes.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import sqlalchemy as sa

__all__ = ["driver_values", "execute_many"]

#: SQLAlchemy's SQLite ``DATETIME`` / ``DATE`` storage formats (sqlalchemy.dialects.sqlite.base)
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S%.6f"
DATE_FORMAT = "%Y-%m-%d"


def driver_values(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with every column as the Python type ``sqlite3`` binds as SQLAlchemy would:
    timestamps (naive UTC) and dates as strings; the rest unchanged."""
    out = []
    for name, dtype in df.schema.items():
        c = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            c = c.dt.strftime(DATETIME_FORMAT)
        elif dtype == pl.Date:
            c = c.dt.strftime(DATE_FORMAT)
        out.append(c)
    return df.select(out)


def execute_many(conn: sa.Connection, stmt: Any, df: pl.DataFrame, rows_per_call: int) -> bool:
    """Execute ``stmt`` over the rows of ``df`` (bind names = column names, each possibly
    repeated) in slices of ``rows_per_call``, each converted by :func:`driver_values` as it is
    sent; ``False`` (nothing executed) when a bind is not a column of ``df``."""
    compiled = stmt.compile(dialect=conn.dialect, column_keys=list(df.columns))
    names = list(compiled.positiontup or [])
    if not names or any(n not in df.columns for n in names):
        return False
    sql = str(compiled)
    unique = list(dict.fromkeys(names))
    # a bind may appear several times (keep_if_unchanged compares it in WHERE and SET)
    order = [pl.col(n).alias(f"_{i}") for i, n in enumerate(names)]
    for part in df.select(unique).iter_slices(rows_per_call):
        conn.exec_driver_sql(sql, driver_values(part).select(order).rows())
    return True
