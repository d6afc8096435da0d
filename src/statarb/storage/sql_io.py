"""Polars frames <-> relational tables: validated upserts and typed reads.

:func:`write_frame` runs inside the caller's transaction (pass a ``Connection`` from
``engine.begin()``). Before touching the database it checks, in Python and vectorised, everything the
database would reject, so the error names the table, the 0-based frame row, its key and the rule:
column names and dtypes, UTC-aware timestamps, NOT NULL, every CHECK constraint
(:data:`statarb.storage.schema.PY_CHECKS`), duplicate keys within the write and foreign-key
existence. A database ``IntegrityError`` that still occurs is translated to
:class:`~statarb.storage.errors.IntegrityViolation` (table, constraint, rule).

Upsert = ``INSERT ... ON CONFLICT (natural key) DO UPDATE`` (SQLite >= 3.24 and PostgreSQL share
the syntax). Tables whose natural key has no unique constraint (``corporate_actions``,
``kalman_params``, ``ou_params``) are matched on the key in Python (nulls equal) and updated by id;
ids of existing rows never change. ``symbols`` keeps ``created_at`` and bumps ``updated_at`` only when
a metadata column changes.

``keep_if_unchanged`` (upsert only; set per catalog entry through ``save_args``) names columns --
typically ``created_at``/``recorded_at`` stamped by the writer -- whose stored value is kept when every
other written column of the row equals the stored one (``IS NOT DISTINCT FROM``: nulls equal). Identical
inputs then leave identical rows, timestamps included; a row whose values change gets the new stamp.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, Literal

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from statarb.storage import sql_bulk_sqlite
from statarb.storage.access import translate_access_error
from statarb.storage.errors import (
    SchemaMismatch,
    check_foreign_keys,
    check_frame_rules,
    check_unique_keys,
    translate_integrity_error,
)
from statarb.storage.schema import NATURAL_KEYS, utcnow
from statarb.storage.sql_read import (  # noqa: F401  (re-exported: the read half of this module)
    READ_ORDER,
    _lookup,
    _polars_dtype,
    iter_table,
    polars_schema,
    read_table,
)

__all__ = ["iter_table", "polars_schema", "read_table", "write_frame"]

_UPSERT_BY_CONSTRAINT_EXCLUDED = {"corporate_actions", "kalman_params", "ou_params"}
_CHUNK = 500
_COPY_MIN = 2000  # rows from which PostgreSQL writes go through COPY
_EXEC_ROWS = 50_000  # rows per executemany / per COPY block


def _to_polars(df: Any, table: str) -> pl.DataFrame:
    if isinstance(df, pl.LazyFrame):
        return df.collect()
    if isinstance(df, pl.DataFrame):
        return df
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a project dependency
        pd = None
    if pd is not None and isinstance(df, pd.DataFrame):
        return pl.from_pandas(df)
    raise SchemaMismatch(table, f"expected a Polars or pandas DataFrame, got {type(df).__name__}")


def _normalise_column(s: pl.Series, col: sa.Column, table: str) -> pl.Expr:
    """Expression converting frame column ``s`` to the write dtype of ``col``, or raise."""
    name, dtype, want = col.name, s.dtype, _polars_dtype(col)
    e = pl.col(name)
    if dtype == pl.Null:
        return e.cast(want.base_type() if isinstance(want, pl.Datetime) else want)
    if isinstance(want, pl.Datetime):
        if not isinstance(dtype, pl.Datetime):
            raise SchemaMismatch(table, f"expected Datetime('us', 'UTC'), got {dtype}", name)
        if dtype.time_zone is None:
            raise SchemaMismatch(
                table,
                "naive datetime; make it UTC-aware (e.g. .dt.replace_time_zone('UTC'))",
                name,
            )
        if dtype.time_zone not in ("UTC", "Etc/UTC", "+00:00"):
            raise SchemaMismatch(
                table,
                f"datetime in time zone {dtype.time_zone!r}, expected UTC "
                "(convert with .dt.convert_time_zone('UTC'))",
                name,
            )
        return e.dt.convert_time_zone("UTC").dt.replace_time_zone(None).dt.cast_time_unit("us")
    ok = {
        pl.Boolean: dtype == pl.Boolean,
        pl.Date: dtype == pl.Date,
        pl.Int64: dtype.is_integer(),
        pl.Float64: dtype.is_float() or dtype.is_integer(),
        pl.String: dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum),
    }[want.base_type()]
    if not ok:
        raise SchemaMismatch(table, f"expected {want} (SQL {col.type}), got {dtype}", name)
    e = e.cast(want)
    if want == pl.Float64:
        e = pl.when(e.is_nan()).then(None).otherwise(e)  # NaN -> NULL on both back-ends
    return e.alias(name)


def _prepare(table: sa.Table, df: pl.DataFrame) -> pl.DataFrame:
    """Check columns and dtypes; return the frame with naive-UTC timestamps and NaN -> null."""
    name = table.name
    unknown = [c for c in df.columns if c not in table.c]
    if unknown:
        raise SchemaMismatch(
            name, f"unknown column(s) {unknown}; table columns: {list(table.c.keys())}"
        )
    required = [
        c.name
        for c in table.columns
        if not c.nullable
        and c.server_default is None
        and not (c.primary_key and c.autoincrement is True)
        and c.name not in df.columns
    ]
    if required:
        raise SchemaMismatch(name, f"missing NOT NULL column(s) {required}")
    return df.select(_normalise_column(df[c], table.c[c], name) for c in df.columns)


def _dialect_insert(conn: sa.Connection, table: sa.Table) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def _has_serial_id(table: sa.Table) -> bool:
    return "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement is True


def _execute_many(conn: sa.Connection, stmt: Any, df: pl.DataFrame) -> None:
    """``stmt`` executed over the rows of ``df`` in slices of :data:`_EXEC_ROWS` (one
    executemany each, all in the caller's transaction), so a write of millions of rows never
    holds them all as Python dicts. SQLite: :func:`.sql_bulk_sqlite.execute_many` (tuples
    converted column-wise, ~3x faster)."""
    if conn.dialect.name == "sqlite" and sql_bulk_sqlite.execute_many(conn, stmt, df, _EXEC_ROWS):
        return
    for part in df.iter_slices(_EXEC_ROWS):
        conn.execute(stmt, part.to_dicts())


def _defaulted(table: sa.Table, df: pl.DataFrame) -> list[str]:
    return [c for c in df.columns if table.c[c].server_default is not None]


def _with_default_binds(ins: Any, table: sa.Table, df: pl.DataFrame) -> Any:
    """VALUES with ``COALESCE(:p_col, <server default>)`` for server-defaulted columns, so a null
    in the frame means "use the default" (an explicit NULL would otherwise override it)."""
    defaulted = _defaulted(table, df)
    return ins.values(
        {
            c: sa.func.coalesce(sa.bindparam(f"p_{c}", type_=table.c[c].type), utcnow())
            if c in defaulted
            else sa.bindparam(f"p_{c}", type_=table.c[c].type)
            for c in df.columns
        }
    )


def _pg_stage(conn: sa.Connection, table: sa.Table, df: pl.DataFrame) -> sa.Select:
    """COPY ``df`` into a temporary table (dropped at commit); return a SELECT of its columns."""
    tmp = f"_stage_{table.name}_{uuid.uuid4().hex[:8]}"
    cols = ", ".join(f'"{c}"' for c in df.columns)
    conn.exec_driver_sql(
        f'CREATE TEMP TABLE "{tmp}" ON COMMIT DROP AS '
        f'SELECT {cols} FROM "{table.name}" WITH NO DATA'
    )
    # Polars writes floats in shortest round-trip form, timestamps as ISO-8601 with microseconds;
    # one CSV block per slice, so the payload never holds the whole frame as text
    raw = conn.connection.dbapi_connection
    sql = f"COPY \"{tmp}\" ({cols}) FROM STDIN (FORMAT csv, NULL '\\N')"
    with raw.cursor() as cur, cur.copy(sql) as copy:
        for part in df.iter_slices(_EXEC_ROWS):
            payload = part.write_csv(include_header=False, null_value=r"\N",
                                     quote_style="non_numeric")  # fmt: skip
            copy.write(payload.encode())
    return sa.select(*(sa.column(c) for c in df.columns)).select_from(sa.table(tmp))


def _write_insert(
    conn: sa.Connection,
    table: sa.Table,
    df: pl.DataFrame,
    key: Sequence[str] | None = None,
    set_: Callable[[Any], dict[str, Any]] | None = None,
) -> None:
    """INSERT ``df`` (``key`` given: ``ON CONFLICT (key) DO UPDATE SET set_(excluded)`` or DO
    NOTHING). Large frames on PostgreSQL go through COPY into a temporary table and one
    ``INSERT ... SELECT`` (~10x faster than executemany); otherwise Core executemany."""
    if df.height == 0:
        return
    ins = _dialect_insert(conn, table)
    defaulted = _defaulted(table, df)
    staged = conn.dialect.name == "postgresql" and df.height >= _COPY_MIN and not defaulted
    if staged:
        ins = ins.from_select(list(df.columns), _pg_stage(conn, table, df))
    elif defaulted:
        ins = _with_default_binds(ins, table, df)
    if key is not None:
        updates = set_(ins.excluded) if set_ is not None else {}
        if updates:
            ins = ins.on_conflict_do_update(index_elements=list(key), set_=updates)
        else:
            ins = ins.on_conflict_do_nothing(index_elements=list(key))
    if staged:
        conn.execute(ins)
    elif defaulted:
        _execute_many(conn, ins, df.rename({c: f"p_{c}" for c in df.columns}))
    else:
        _execute_many(conn, ins, df)


def _insert(conn: sa.Connection, table: sa.Table, df: pl.DataFrame) -> None:
    _write_insert(conn, table, df)


def _kept(
    table: sa.Table, compare: Sequence[str], keep: Sequence[str], new: Callable[[str], Any]
) -> dict[str, Any]:
    """SET clauses keeping the stored ``keep`` columns when every ``compare`` column of the row
    equals its new value ``new(col)`` (an ``excluded`` column or a bind parameter)."""
    unchanged = sa.and_(sa.true(), *(table.c[c].is_not_distinct_from(new(c)) for c in compare))
    return {c: sa.case((unchanged, table.c[c]), else_=new(c)) for c in keep}


def _upsert_on_conflict(
    conn: sa.Connection,
    table: sa.Table,
    df: pl.DataFrame,
    key: Sequence[str],
    keep: Sequence[str] = (),
) -> None:
    update_cols = [c for c in df.columns if c not in key and c != "id"]
    if table.name == "symbols":  # keep created_at; bump updated_at only on a real change
        update_cols = [c for c in update_cols if c not in ("created_at", "updated_at")]

        def set_(exc: Any) -> dict[str, Any]:
            out: dict[str, Any] = {c: exc[c] for c in update_cols}
            if update_cols:
                changed = sa.or_(*(table.c[c].is_distinct_from(exc[c]) for c in update_cols))
                out["updated_at"] = sa.case((changed, utcnow()), else_=table.c.updated_at)
            return out

    else:
        keep = [c for c in keep if c in update_cols]
        compare = [c for c in update_cols if c not in keep]

        def set_(exc: Any) -> dict[str, Any]:
            out: dict[str, Any] = {c: exc[c] for c in compare}
            return out | _kept(table, compare, keep, lambda c: exc[c])

    _write_insert(conn, table, df, key, set_)


def _existing_ids(
    conn: sa.Connection, table: sa.Table, df: pl.DataFrame, key: Sequence[str]
) -> pl.DataFrame:
    """(key..., id) of stored rows whose first key column occurs in ``df``."""
    first = key[0]
    values = df[first].drop_nulls().unique().to_list()
    schema = {c: _polars_dtype(table.c[c]) for c in key}
    schema = {c: (d.base_type() if isinstance(d, pl.Datetime) else d) for c, d in schema.items()}
    schema["__id"] = pl.Int64()
    out = []
    cols = [table.c[c] for c in key] + [table.c.id]
    for i in range(0, len(values), _CHUNK):
        chunk = values[i : i + _CHUNK]
        out.extend(conn.execute(sa.select(*cols).where(table.c[first].in_(chunk))).all())
    found = pl.DataFrame(out, schema=schema, orient="row")
    dup = found.filter(found.select(key).is_duplicated())
    if dup.height:
        raise SchemaMismatch(
            table.name,
            f"stored rows duplicate the natural key {tuple(key)}: {dup.head(3).to_dicts()}; "
            "remove the duplicates before upserting",
        )
    return found


def _upsert_by_match(
    conn: sa.Connection,
    table: sa.Table,
    df: pl.DataFrame,
    key: Sequence[str],
    keep: Sequence[str] = (),
) -> None:
    found = _existing_ids(conn, table, df, key)
    joined = df.join(found, on=list(key), how="left", nulls_equal=True, maintain_order="left")
    matched = joined.filter(pl.col("__id").is_not_null())
    new = joined.filter(pl.col("__id").is_null()).drop("__id")
    update_cols = [c for c in df.columns if c not in key and c != "id"]
    if matched.height and update_cols:
        keep = [c for c in keep if c in update_cols]
        compare = [c for c in update_cols if c not in keep]

        def bind(c: str) -> Any:
            return sa.bindparam(f"p_{c}", type_=table.c[c].type)

        values = {c: bind(c) for c in compare} | _kept(table, compare, keep, bind)
        stmt = sa.update(table).where(table.c.id == sa.bindparam("p___id")).values(values)
        rows = matched.select(["__id", *update_cols])
        _execute_many(conn, stmt, rows.rename({c: f"p_{c}" for c in rows.columns}))
    _insert_split_ids(conn, table, new)


def _insert_split_ids(conn: sa.Connection, table: sa.Table, df: pl.DataFrame) -> None:
    """Insert ``df``; rows with a null ``id`` get database-assigned ids."""
    if "id" in df.columns and _has_serial_id(table):
        _insert(conn, table, df.filter(pl.col("id").is_null()).drop("id"))
        explicit = df.filter(pl.col("id").is_not_null())
        _insert(conn, table, explicit)
        if explicit.height:
            _resync_sequence(conn, table)
    else:
        _insert(conn, table, df)


def _resync_sequence(conn: sa.Connection, table: sa.Table) -> None:
    """After explicit ids on PostgreSQL, move the SERIAL sequence past ``max(id)``."""
    if conn.dialect.name != "postgresql":
        return  # SQLite's rowid allocator always uses max(rowid) + 1
    conn.execute(
        sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"(SELECT COALESCE(MAX(id), 0) FROM {table.name}) + 1, false)"
        )
    )


def write_frame(
    conn: sa.Connection | sa.Engine,
    table: str,
    df: pl.DataFrame | pl.LazyFrame | Any,
    mode: Literal["upsert", "insert"] = "upsert",
    keep_if_unchanged: Sequence[str] = (),
) -> int:
    """Validate ``df`` against ``table`` and write it; return the number of frame rows written.

    ``conn`` should be a ``Connection`` inside the caller's transaction (nothing is committed
    here); an ``Engine`` is accepted for convenience and gets its own transaction. ``mode="upsert"``
    inserts new keys and updates existing ones (:data:`~statarb.storage.schema.NATURAL_KEYS`);
    ``mode="insert"`` only inserts. ``keep_if_unchanged``: columns whose stored value an upsert
    keeps when the row's other written columns are unchanged (module docstring). Raises
    :class:`SchemaMismatch` or :class:`IntegrityViolation`.
    """
    if isinstance(conn, sa.Engine):
        with conn.begin() as c:
            return write_frame(c, table, df, mode, keep_if_unchanged)
    if mode not in ("upsert", "insert"):
        raise ValueError(f"{table}: mode must be 'upsert' or 'insert', got {mode!r}")
    t = _lookup(table)
    keep = list(keep_if_unchanged)
    bad_keep = [c for c in keep if c not in t.c or c in NATURAL_KEYS[table] or c == "id"]
    if bad_keep or (keep and mode != "upsert"):
        raise SchemaMismatch(
            table,
            f"keep_if_unchanged {keep} must name non-key columns of the table and needs "
            f"mode 'upsert' (got mode {mode!r}; not allowed: {bad_keep})",
        )
    frame = _prepare(t, _to_polars(df, table))
    if frame.height == 0:
        return 0
    key = NATURAL_KEYS[table]
    check_frame_rules(t, frame, key)
    check_unique_keys(t, frame, key)
    check_foreign_keys(conn, t, frame, key)
    try:
        with conn.begin_nested():  # a failed write leaves the caller's transaction usable
            if mode == "insert" or not all(c in frame.columns for c in key):
                _insert_split_ids(conn, t, frame)
            elif table in _UPSERT_BY_CONSTRAINT_EXCLUDED:
                _upsert_by_match(conn, t, frame, key, keep)
            elif key == ("id",):
                _insert(conn, t, frame.filter(pl.col("id").is_null()).drop("id"))
                _upsert_on_conflict(conn, t, frame.filter(pl.col("id").is_not_null()), key)
                _resync_sequence(conn, t)
            elif "id" in frame.columns and _has_serial_id(t):
                new_ids = frame.filter(pl.col("id").is_null()).drop("id")
                _upsert_on_conflict(conn, t, new_ids, key, keep)
                _upsert_on_conflict(conn, t, frame.filter(pl.col("id").is_not_null()), key, keep)
                _resync_sequence(conn, t)
            else:
                _upsert_on_conflict(conn, t, frame, key, keep)
    except sa.exc.IntegrityError as exc:
        raise translate_integrity_error(t, exc) from exc
    except sa.exc.DBAPIError as exc:  # a role or connection that may not write this table
        denied = translate_access_error(table, conn, exc)
        if denied is None:
            raise
        raise denied from exc
    return frame.height
