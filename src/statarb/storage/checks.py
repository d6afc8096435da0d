"""Every CHECK rule of the relational tier, stated once (spec §4, identifier rules §9.1 / §8).

One :class:`Check` per rule holds its three faces: the SQL of the database constraint
(:meth:`Check.constraint`, placed in its table by :mod:`statarb.storage.schema`), the sentence
error messages quote (:data:`CHECK_RULES`) and the Polars twin that ``sql_io`` evaluates before a
write so the error can name the offending row (:data:`PY_CHECKS`; like SQL, a null result
passes). Enumerations come from :mod:`statarb.conventions`. The migrations keep a frozen copy of
the SQL as it was when they were written (Alembic's rule: a revision never changes).

Constraint names follow ``ck_<table>_<name>`` (:data:`statarb.storage.schema.NAMING_CONVENTION`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement

from statarb.conventions import DIRECTIONS, SIDES, pair_id_expr

#: ``corporate_actions.action_type`` values (spec §4.1).
ACTION_TYPES: tuple[str, ...] = ("split", "dividend", "rights")


class CodepointLess(ColumnElement[bool]):
    """``left < right`` compared by code point (PostgreSQL collation "C", SQLite BINARY)."""

    type = sa.Boolean()
    inherit_cache = True

    def __init__(self, left: str, right: str) -> None:
        self.left = left
        self.right = right


@compiles(CodepointLess)
def _cpless_default(element: CodepointLess, compiler: Any, **kw: Any) -> str:
    return f"{element.left} < {element.right}"


@compiles(CodepointLess, "postgresql")
def _cpless_pg(element: CodepointLess, compiler: Any, **kw: Any) -> str:
    return f'{element.left} < {element.right} COLLATE "C"'


def _in(values: Sequence[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


@dataclass(frozen=True)
class Check:
    """One CHECK rule: where it lives, its SQL, its sentence and its Polars twin."""

    table: str
    name: str
    sql: str | ColumnElement[bool]
    rule: str
    columns: tuple[str, ...]
    expr: pl.Expr

    @property
    def constraint_name(self) -> str:
        """The database name of the constraint (``ck_<table>_<name>``)."""
        return f"ck_{self.table}_{self.name}"

    def constraint(self) -> sa.CheckConstraint:
        """The SQLAlchemy constraint for the table definition."""
        return sa.CheckConstraint(self.sql, name=self.name)


_col = pl.col
CHECKS: tuple[Check, ...] = (
    Check(
        "symbols", "symbol_id_format",
        "symbol_id = upper(symbol_id) AND symbol_id NOT LIKE '% %' AND symbol_id <> ''",
        "symbol_id upper case, non-empty, without spaces", ("symbol_id",),
        (_col("symbol_id") == _col("symbol_id").str.to_uppercase())
        & ~_col("symbol_id").str.contains(" ", literal=True) & (_col("symbol_id") != ""),
    ),
    Check(
        "corporate_actions", "action_type", f"action_type IN {_in(ACTION_TYPES)}",
        f"action_type in {_in(ACTION_TYPES)}", ("action_type",),
        _col("action_type").is_in(list(ACTION_TYPES)),
    ),
    Check(
        "corporate_actions", "ratio_positive", "ratio IS NULL OR ratio > 0",
        "ratio > 0 when not null", ("ratio",), _col("ratio") > 0,
    ),
    Check(
        "corporate_actions", "cash_amount_nonnegative", "cash_amount IS NULL OR cash_amount >= 0",
        "cash_amount >= 0 when not null", ("cash_amount",), _col("cash_amount") >= 0,
    ),
    Check(
        "pair_universe", "symbol_order", CodepointLess("symbol_a", "symbol_b"),
        "symbol_a < symbol_b", ("symbol_a", "symbol_b"),
        _col("symbol_a") < _col("symbol_b"),  # UTF-8 byte order = code point order
    ),
    Check(
        "pair_universe", "pair_id_format", "pair_id = symbol_a || '_' || symbol_b",
        "pair_id = symbol_a || '_' || symbol_b", ("pair_id", "symbol_a", "symbol_b"),
        _col("pair_id") == pair_id_expr("symbol_a", "symbol_b"),
    ),
    Check(
        "backtest_signals", "direction", f"direction IN {_in(DIRECTIONS)}",
        f"direction in {_in(DIRECTIONS)}", ("direction",), _col("direction").is_in(DIRECTIONS),
    ),
    Check(
        "backtest_fills", "side", f"side IN {_in(SIDES)}", f"side in {_in(SIDES)}", ("side",),
        _col("side").is_in(SIDES),
    ),
    Check(
        "backtest_fills", "quantity_nonnegative", "quantity >= 0", "quantity >= 0",
        ("quantity",), _col("quantity") >= 0,
    ),
    Check(
        "backtest_fills", "price_nonnegative", "price >= 0", "price >= 0", ("price",),
        _col("price") >= 0,
    ),
    Check(
        "backtest_fills", "commission_nonnegative", "commission IS NULL OR commission >= 0",
        "commission >= 0 when not null", ("commission",), _col("commission") >= 0,
    ),
    Check(
        "bar_partition_index", "row_range", "row_stop > row_start AND row_start >= 0",
        "row_stop > row_start >= 0", ("row_start", "row_stop"),
        (_col("row_stop") > _col("row_start")) & (_col("row_start") >= 0),
    ),
)  # fmt: skip


def table_checks(table: str) -> list[sa.CheckConstraint]:
    """The CHECK constraints of ``table``, for its ``sa.Table`` definition."""
    return [c.constraint() for c in CHECKS if c.table == table]


#: Human-readable rule of every named CHECK constraint (used in error messages).
CHECK_RULES: dict[str, str] = {c.constraint_name: c.rule for c in CHECKS}

#: Python twin of every CHECK constraint: (columns it needs, Polars expression true when the row
#: passes). Like SQL, a null result passes; the database constraint remains the backstop.
PY_CHECKS: dict[str, tuple[tuple[str, ...], pl.Expr]] = {
    c.constraint_name: (c.columns, c.expr) for c in CHECKS
}
