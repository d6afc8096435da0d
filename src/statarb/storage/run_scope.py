"""The scope of a run's derived outputs, and the removal of stored rows a new run does not cover.

The alpha stage recomputes its outputs from the configuration (universe, schedule, funnel).
Upserts alone would keep every row an earlier configuration wrote and this run does not
rewrite: narrow the universe to one sector and the other sectors' ``cointegration_results``
stay; change the schedule and old test times interleave with the new ones in the backtest's
as-of gate; drop a pair from the selection and its spreads and OU fits stay; change the OU
window and two fits share a ``window_end``. Two tools remove them:

* a node wraps the first output it yields in :class:`Scoped` (``{column: values}`` that this run
  covers); the dataset then deletes, in the same transaction as that first write (Parquet: before
  it), every stored row outside the scope -- a row is outside when one of the scope columns it
  has holds a value not listed;
* ``save_args.replace_by: pair_id`` (SQL tables whose every entity a run writes whole, in one
  save): a save deletes the stored rows of the entities it writes whose key it does not write.

Rows the run rewrites keep their ids and ``keep_if_unchanged`` stamps (:mod:`.sql_io`), so an
identical rerun still changes no row. There is no library for this: Kedro datasets only save what
they are given; SQLAlchemy's ``delete`` is the building block (``DELETE ... WHERE [NOT] EXISTS``
against temporary tables typed like the table's columns, so both dialects compare stored values).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from statarb.storage.parquet_read import _children
from statarb.storage.parquet_schemas import get_layout
from statarb.storage.schema import NATURAL_KEYS
from statarb.storage.sql_read import _lookup

Scope = Mapping[str, Sequence[Any] | pl.Series]


@dataclass(frozen=True)
class Scoped:
    """A node output ``data`` that also states its run's ``scope``: the dataset saving it first
    removes the stored rows outside the scope (module docstring)."""

    data: pl.DataFrame
    scope: Scope

    def __post_init__(self) -> None:
        if not self.scope:
            raise ValueError("Scoped: the scope names no column")


def unscoped(x: Any) -> Any:
    """``x.data`` for a :class:`Scoped` output, else ``x``."""
    return x.data if isinstance(x, Scoped) else x


def _values(v: Sequence[Any] | pl.Series) -> list[Any]:
    s = v if isinstance(v, pl.Series) else pl.Series(list(v))
    return s.unique().drop_nulls().to_list()


def _temp(conn: sa.Connection, t: sa.Table, cols: Sequence[str], rows: list[dict]) -> sa.Table:
    """A temporary table of ``rows`` with ``t``'s columns ``cols`` (same types), keyed by them."""
    tmp = sa.Table(
        f"scope_{uuid.uuid4().hex[:12]}",
        sa.MetaData(),
        *(sa.Column(c, t.c[c].type, primary_key=True) for c in cols),
        prefixes=["TEMPORARY"],
    )
    tmp.create(conn)
    for lo in range(0, len(rows), 10_000):
        conn.execute(tmp.insert(), rows[lo : lo + 10_000])
    return tmp


def prune_table(conn: sa.Connection, table: str, scope: Scope) -> int:
    """Delete the rows of ``table`` outside ``scope``; return the number deleted. Runs in the
    caller's transaction. Scope columns the table lacks are ignored; a table with none of them
    is left alone (0)."""
    t = _lookup(table)
    cols = [c for c in scope if c in t.c]
    if not cols:
        return 0
    temps = [_temp(conn, t, [c], [{c: v} for v in _values(scope[c])]) for c in cols]
    outside = [~sa.exists().where(tmp.c[c] == t.c[c]) for tmp, c in zip(temps, cols, strict=True)]
    deleted = conn.execute(sa.delete(t).where(sa.or_(*outside))).rowcount or 0
    for tmp in temps:
        tmp.drop(conn)
    return int(deleted)


def replace_entities(conn: sa.Connection, table: str, frame: pl.DataFrame, by: str) -> int:
    """Delete the stored rows of ``table`` whose ``by`` value occurs in ``frame`` but whose
    natural key does not (``frame`` holds those entities whole); return the number deleted."""
    t = _lookup(table)
    key = [c for c in NATURAL_KEYS[table] if c != by]
    if frame.height == 0:
        return 0
    ents = _temp(conn, t, [by], [{by: v} for v in _values(frame[by])])
    keys = _temp(conn, t, [by, *key], frame.select(by, *key).unique().to_dicts())
    same = sa.and_(*(keys.c[c] == t.c[c] for c in (by, *key)))
    stale = sa.and_(sa.exists().where(ents.c[by] == t.c[by]), ~sa.exists().where(same))
    deleted = conn.execute(sa.delete(t).where(stale)).rowcount or 0
    ents.drop(conn)
    keys.drop(conn)
    return int(deleted)


def prune_partitions(root: str | Path, layout: str, scope: Scope) -> int:
    """Remove the entity partitions (``pair_id=<id>`` folders) of a Parquet store whose id is
    not in ``scope[<id column>]``; return the number removed. A store whose layout is not
    partitioned by its id column, or a scope without that column, is left alone (0)."""
    lay = get_layout(layout)
    col = lay.id_column
    if col not in scope or not lay.partition_by or lay.partition_by[0] != col:
        return 0
    keep = {str(v) for v in _values(scope[col])}
    removed = 0
    for value, path in _children(Path(root), col, None):
        if value not in keep:
            shutil.rmtree(path)
            removed += 1
    return removed


def describe(scope: Scope) -> str:
    """``98 pair_id x 63 test_ts`` (for log lines)."""
    return " x ".join(f"{len(_values(v))} {k}" for k, v in scope.items())
