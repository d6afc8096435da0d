"""Exceptions of the storage layer and the pre-write checks that raise them.

Every message names the table and, where known, the 0-based frame row, its key and the rule, e.g.
``pair_universe: row 3 (pair_id='MSFT_AAPL'): rule symbol_a < symbol_b violated``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

import polars as pl
import sqlalchemy as sa


class StorageError(Exception):
    """Base class of every error raised by ``statarb.storage``."""


class SchemaMismatch(StorageError, TypeError):
    """A frame does not fit a table: unknown/missing column, wrong dtype, naive or non-UTC time."""

    def __init__(self, table: str, message: str, column: str | None = None) -> None:
        self.table = table
        self.column = column
        where = f"{table}.{column}" if column else table
        super().__init__(f"{where}: {message}")


class IntegrityViolation(StorageError, ValueError):
    """A write breaks a constraint (CHECK, NOT NULL, foreign key, unique/duplicate key).

    Attributes: ``table``, ``key`` (the offending row's key, or ``None``), ``rule`` (readable rule),
    ``constraint`` (database constraint name, when one applies) and ``row`` (0-based frame row).
    """

    def __init__(
        self,
        table: str,
        rule: str,
        key: str | None = None,
        constraint: str | None = None,
        row: int | None = None,
        detail: str | None = None,
    ) -> None:
        self.table = table
        self.rule = rule
        self.key = key
        self.constraint = constraint
        self.row = row
        parts = [table + ":"]
        if row is not None:
            parts.append(f"row {row}" + (f" ({key})" if key else "") + ":")
        elif key:
            parts.append(f"{key}:")
        parts.append(f"rule {rule} violated")
        if constraint:
            parts.append(f"[constraint {constraint}]")
        msg = " ".join(parts)
        if detail:
            msg += f"; {detail}"
        super().__init__(msg)


# ---- pre-write validation (raises the exceptions above) ------------------------------------------
# Kept beside the exceptions so ``sql_io`` stays about moving data; every check is vectorised.

_FK_CHUNK = 2000


def _fmt(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return repr(value.isoformat(sep=" ") + "Z")  # frames reach here as naive UTC
    if isinstance(value, dt.date):
        return repr(value.isoformat())
    return repr(value)


def _key_desc(frame: pl.DataFrame, row: int, key: Sequence[str]) -> str | None:
    cols = [c for c in key if c in frame.columns]
    if not cols:
        return None
    return ", ".join(f"{c}={_fmt(frame[c][row])}" for c in cols)


def check_frame_rules(table: sa.Table, frame: pl.DataFrame, key: Sequence[str]) -> None:
    """NOT NULL and every CHECK rule of ``table`` (:data:`~statarb.storage.schema.PY_CHECKS`).

    ``frame`` is already normalised by ``sql_io`` (naive UTC timestamps, NaN -> null). Raises
    :class:`IntegrityViolation` naming the first offending 0-based row, its key and the rule.
    """
    from statarb.storage.schema import CHECK_RULES, PY_CHECKS

    for col in table.columns:
        if col.name not in frame.columns or col.nullable:
            continue
        if col.primary_key and col.autoincrement is True:
            continue  # a null id means "let the database assign one"
        nulls = frame[col.name].is_null()
        if nulls.any():
            row = int(nulls.arg_true()[0])
            raise IntegrityViolation(
                table.name,
                f"{col.name} NOT NULL (null or NaN given)",
                key=_key_desc(frame, row, key),
                row=row,
                detail=f"{int(nulls.sum())} row(s) affected",
            )
    names = {c.name for c in table.constraints if isinstance(c, sa.CheckConstraint)}
    for name in sorted(names & PY_CHECKS.keys()):
        cols, expr = PY_CHECKS[name]
        if not all(c in frame.columns for c in cols):
            continue  # columns not written: the stored values are not touched by this write
        ok = frame.select(expr.fill_null(True).alias("ok"))["ok"]
        if not ok.all():
            row = int((~ok).arg_true()[0])
            values = ", ".join(f"{c}={_fmt(frame[c][row])}" for c in cols)
            raise IntegrityViolation(
                table.name,
                CHECK_RULES[name],
                key=_key_desc(frame, row, key),
                constraint=name,
                row=row,
                detail=f"values {values}; {int((~ok).sum())} row(s) affected",
            )


def check_unique_keys(table: sa.Table, frame: pl.DataFrame, key: Sequence[str]) -> None:
    """Reject two rows of one write with the same natural key (nulls compare equal)."""
    if not all(c in frame.columns for c in key):
        return
    sub = frame.with_row_index("__row")
    if tuple(key) == ("id",):
        sub = sub.filter(pl.col("id").is_not_null())
    dup = sub.filter(pl.struct(list(key)).is_duplicated())
    if dup.height:
        first = dup.filter(pl.struct(list(key)) == dup.select(pl.struct(list(key)))[0, 0])
        rows = first["__row"].to_list()
        raise IntegrityViolation(
            table.name,
            f"unique key ({', '.join(key)}) - duplicate key inside one write",
            key=_key_desc(frame, rows[0], key),
            row=rows[0],
            detail=f"rows {rows[:10]} share this key; {dup.height} rows involved in duplicates",
        )


def check_foreign_keys(
    conn: sa.Connection, table: sa.Table, frame: pl.DataFrame, key: Sequence[str]
) -> None:
    """Every non-null foreign-key value of ``frame`` must exist in its parent table (as seen by
    ``conn``, i.e. including rows written earlier in the same transaction)."""
    for fk in sorted(table.foreign_key_constraints, key=lambda f: str(f.name)):
        (col,) = fk.column_keys
        if col not in frame.columns:
            continue
        (elem,) = fk.elements
        parent = elem.column
        values = frame[col].drop_nulls().unique().to_list()
        found: set[Any] = set()
        for i in range(0, len(values), _FK_CHUNK):
            chunk = values[i : i + _FK_CHUNK]
            found.update(conn.execute(sa.select(parent).where(parent.in_(chunk))).scalars())
        missing = [v for v in values if v not in found]
        if missing:
            bad = frame[col].is_in(missing)
            row = int(bad.arg_true()[0])
            raise IntegrityViolation(
                table.name,
                f"{col} must exist in {parent.table.name}.{parent.name}",
                key=_key_desc(frame, row, key),
                constraint=str(fk.name),
                row=row,
                detail=f"unknown {col} value(s) {sorted(missing, key=str)[:5]}",
            )


_SQLITE_MSG = re.compile(r"(CHECK|UNIQUE|NOT NULL|FOREIGN KEY) constraint failed(?::\s*(.*))?")


def _describe_constraint(table: sa.Table, name: str | None) -> str | None:
    from statarb.storage.schema import CHECK_RULES, metadata

    if name is None:
        return None
    if name in CHECK_RULES:
        return CHECK_RULES[name]
    for t in metadata.tables.values():
        for c in t.constraints:
            if c.name != name:
                continue
            cols = ", ".join(c.columns.keys()) if hasattr(c, "columns") else ""
            if isinstance(c, sa.ForeignKeyConstraint):
                (elem,) = c.elements
                return f"{cols} must exist in {elem.target_fullname}"
            if isinstance(c, sa.PrimaryKeyConstraint):
                return f"primary key ({cols}) unique"
            if isinstance(c, sa.UniqueConstraint):
                return f"unique ({cols})"
    return None


def translate_integrity_error(table: sa.Table, exc: sa.exc.IntegrityError) -> IntegrityViolation:
    """Turn a database ``IntegrityError`` (the backstop) into :class:`IntegrityViolation`."""
    orig = exc.orig
    first_line = str(orig).strip().splitlines()[0] if str(orig).strip() else repr(orig)
    name: str | None = None
    rule: str | None = None
    diag = getattr(orig, "diag", None)
    if diag is not None:  # psycopg: structured diagnostics
        name = diag.constraint_name
        if diag.sqlstate == "23502" and diag.column_name:
            rule = f"{diag.column_name} NOT NULL"
    else:  # sqlite3: parse the message
        m = _SQLITE_MSG.search(first_line)
        if m:
            kind, what = m.group(1), (m.group(2) or "").strip()
            if kind == "CHECK":
                name = what or None
            elif kind == "UNIQUE":
                cols = [w.split(".")[-1] for w in what.split(",")]
                for c in table.constraints:
                    if (
                        isinstance(c, sa.UniqueConstraint | sa.PrimaryKeyConstraint)
                        and list(c.columns.keys()) == cols
                    ):
                        name = str(c.name)
                rule = rule or f"unique ({', '.join(cols)})"
            elif kind == "NOT NULL":
                rule = f"{what.split('.')[-1]} NOT NULL"
            else:
                rule = "foreign key must reference an existing parent row"
    rule = _describe_constraint(table, name) or rule or "database integrity constraint"
    return IntegrityViolation(table.name, rule, constraint=name, detail=f"database: {first_line}")
