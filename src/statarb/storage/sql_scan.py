"""A relational table as a Polars ``LazyFrame`` whose equality filters run in the database.

``scan_table(engine, "backtest_fills").filter(pl.col("run_id") == rid).collect()`` reads only that
run's rows (through the ``(run_id, ...)`` index) instead of the whole table, so a report over one
run of a store holding hundreds of runs reads one run. It is a Polars IO source
(``polars.io.plugins.register_io_source``): Polars hands the source the projected columns and the
predicate of the query. Conjuncts of the form ``col == "text"``, ``col == True/False`` or a bare
Boolean column (``filter(pl.col("is_cointegrated"))``) are sent to SQL as ``WHERE``; the rows come
back in batches (:func:`statarb.storage.sql_io.iter_table`) and the full predicate is applied to
each batch, so the answer never depends on what could be pushed down (a predicate the translation
does not understand just reads more rows) and memory holds one batch plus the matching rows.

Polars has no SQL scan of its own (``pl.read_database`` is eager) and DuckDB's SQLite/PostgreSQL
scanners need extensions downloaded at run time, hence this small module.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import polars as pl
import sqlalchemy as sa
from polars.io.plugins import register_io_source

from statarb.storage.io_source import pushed_down
from statarb.storage.sql_read import iter_table, polars_schema


def string_equalities(predicate: pl.Expr | None) -> dict[str, str | bool]:
    """``{column: value}`` of the top-level ``col == "value"`` and ``col == True/False``
    conjuncts of ``predicate``, a bare column meaning ``col == True`` (read from its JSON
    serialisation; anything else contributes nothing)."""
    if predicate is None:
        return {}
    try:
        tree = json.loads(predicate.meta.serialize(format="json"))
    except Exception:  # noqa: BLE001 - serialisation is an optimisation only
        return {}
    out: dict[str, str | bool] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict) and isinstance(node.get("Column"), str):
            out[node["Column"]] = True
            return
        b = node.get("BinaryExpr") if isinstance(node, dict) else None
        if b is None:
            return
        if b["op"] == "And":
            walk(b["left"])
            walk(b["right"])
        elif b["op"] == "Eq":
            for col, lit in ((b["left"], b["right"]), (b["right"], b["left"])):
                name = col.get("Column") if isinstance(col, dict) else None
                value = lit.get("Literal", {}).get("Scalar", {}) if isinstance(lit, dict) else {}
                if isinstance(name, str) and isinstance(value, dict):
                    for kind in ("String", "Boolean"):
                        if kind in value:
                            out[name] = value[kind]

    walk(tree)
    return out


def scan_table(engine: Callable[[], sa.Engine], table: str) -> pl.LazyFrame:
    """``table`` as a LazyFrame with the spec dtypes (see the module docstring); ``engine`` is
    called when the query runs."""
    schema = polars_schema(table)

    def source(
        with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, _batch: int
    ) -> Iterator[pl.DataFrame]:
        eq = {
            k: v
            for k, v in string_equalities(predicate).items()
            if k in schema and isinstance(v, bool) == (schema[k] == pl.Boolean)
        }
        cols = list(schema) if with_columns is None else list(with_columns)
        if predicate is not None:
            cols += [c for c in predicate.meta.root_names() if c in schema and c not in cols]
        where = sa.and_(*(sa.column(k) == sa.bindparam(f"eq_{k}") for k in eq)) if eq else None
        batches = iter_table(engine(), table, where=where,
                             params={f"eq_{k}": v for k, v in eq.items()}, columns=cols)  # fmt: skip
        yield from pushed_down(batches, predicate, with_columns, n_rows)

    return register_io_source(source, schema=schema)
