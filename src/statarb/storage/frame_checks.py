"""Validation of a time-series frame before it is written to the columnar tier (spec §5, §8).

:func:`validate_frame` checks a Polars frame against a :class:`~.parquet_schemas.Layout` and
returns it conformed to the stored schema (schema column order, absent optional columns added as
typed nulls). Every failure raises :class:`FrameValidationError`, whose message names the layout,
the column, the rule and the offending rows (row number in the written frame and key values, the
first few, with the total count).

Dtype policy (strict): every column must already have exactly the layout's dtype. Nothing is cast
implicitly, not even losslessly (``Float32 -> Float64``, ``Int64 -> Float64`` volume,
``Datetime("ns", "UTC") -> Datetime("us", "UTC")``): a wrong dtype usually means the producer
parsed something differently from what the next reader assumes, and we want that found at the
writer. The error message shows the cast to apply.

Rules (spec §5 constraints, §8 validation table, §9.1 identifiers):

* structure: missing required column, unknown column, wrong dtype, naive datetime, non-UTC
  datetime;
* keys: null in a key column, duplicate key within the write, ``symbol`` not upper case / blank /
  containing whitespace, ``pair_id`` not matching ``[A-Z0-9][A-Z0-9._-]*`` (it becomes a
  directory name);
* bars: ``open/high/low/close/volume`` null, NaN or infinite ("non-finite") or negative;
  ``high < low``; ``adj_factor`` non-finite or ``<= 0``; ``outlier_flag`` not in {0, 1} (null
  allowed: not assessed); ``missing_filled`` may be null;
* ticks: ``price``/``size`` non-finite or negative; ``side`` not in {``buy``, ``sell``} (null
  allowed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from statarb.conventions import SIDES
from statarb.storage.errors import StorageError
from statarb.storage.parquet_schemas import Layout, get_layout

MAX_EXAMPLES = 5
ROW_NR = _ROW = "__row_nr"
PAIR_ID_PATTERN = r"^[A-Z0-9][A-Z0-9._\-]*$"


@dataclass(frozen=True)
class Violation:
    """One broken rule: where, what, how many rows and the first few of them."""

    layout: str
    column: str
    rule: str
    count: int = 0
    examples: str = ""

    def __str__(self) -> str:
        where = f"[{self.layout}] column {self.column!r}: {self.rule}"
        if self.count:
            where += f" ({self.count} row(s); first {min(self.count, MAX_EXAMPLES)}: "
            where += f"{self.examples})"
        return where


class FrameValidationError(StorageError, ValueError):
    """A frame broke one or more rules of its layout; ``violations`` lists them all."""

    def __init__(self, layout: str, violations: list[Violation]) -> None:
        self.layout = layout
        self.violations = violations
        lines = "\n  ".join(str(v) for v in violations)
        super().__init__(f"invalid frame for layout {layout!r}:\n  {lines}")


def _dtype_hint(col: str, expected: pl.DataType, actual: pl.DataType) -> str:
    """The expression that fixes a wrong dtype, shown in the error message."""
    if isinstance(actual, pl.Datetime) and isinstance(expected, pl.Datetime):
        if actual.time_zone is None:
            return (
                f"naive datetime {actual} (expected {expected}); stored times are UTC: use "
                f"pl.col({col!r}).dt.replace_time_zone(<exchange tz>).dt.convert_time_zone('UTC')"
            )
        if actual.time_zone != "UTC":
            return (
                f"non-UTC datetime {actual} (expected {expected}); use "
                f"pl.col({col!r}).dt.convert_time_zone('UTC')"
            )
    return (
        f"wrong dtype: expected {expected}, got {actual}; cast explicitly, e.g. "
        f"pl.col({col!r}).cast({expected!r}), if that is what you mean"
    )


def _structure(df: pl.DataFrame, lay: Layout) -> list[Violation]:
    out: list[Violation] = []
    for col in lay.required:
        if col not in df.columns:
            out.append(Violation(lay.name, col, "missing required column"))
    for col in df.columns:
        if col not in lay.schema:
            out.append(
                Violation(lay.name, col, f"unknown column (layout columns: {lay.schema.names()})")
            )
    for col, expected in lay.schema.items():
        if col in df.columns and df.schema[col] != expected:
            out.append(Violation(lay.name, col, _dtype_hint(col, expected, df.schema[col])))
    return out


def _fmt(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.date) else repr(value)


def _examples(bad: pl.DataFrame, cols: list[str]) -> str:
    parts = []
    for row in bad.head(MAX_EXAMPLES).iter_rows(named=True):
        vals = ", ".join(f"{c}={_fmt(row[c])}" for c in cols if c != _ROW)
        parts.append(f"row {row[_ROW]} ({vals})")
    return "; ".join(parts)


def _check(
    df: pl.DataFrame, lay: Layout, column: str, rule: str, bad_mask: pl.Expr, extra: list[str]
) -> Violation | None:
    bad = df.filter(bad_mask.fill_null(False))
    if bad.height == 0:
        return None
    cols = [_ROW, *lay.key, *[c for c in extra if c not in lay.key]]
    return Violation(lay.name, column, rule, bad.height, _examples(bad, cols))


def _non_finite(col: str) -> pl.Expr:
    return pl.col(col).is_null() | ~pl.col(col).is_finite()


Check = tuple[str, str, pl.Expr, list[str]]


def _id_check(lay: Layout) -> Check:
    idc = lay.id_column
    if idc == "symbol":
        rule = "symbol must be upper case, non-empty, without whitespace (spec §9.1)"
        mask = (
            (pl.col(idc).str.to_uppercase() != pl.col(idc))
            | pl.col(idc).str.contains(r"\s")
            | (pl.col(idc).str.len_chars() == 0)
        )
    else:
        rule = f"pair_id must match {PAIR_ID_PATTERN} (spec §9.1; it names a directory)"
        mask = ~pl.col(idc).str.contains(PAIR_ID_PATTERN)
    return (idc, rule, pl.col(idc).is_not_null() & mask, [idc])


def _row_checks(df: pl.DataFrame, lay: Layout) -> list[Check]:
    """Rules decided row by row from values (everything except the identifier and key rules)."""
    checks: list[Check] = []
    for col in lay.key:
        checks.append((col, "null in key column", pl.col(col).is_null(), [col]))
    if lay.name == "bars":
        for col in ("open", "high", "low", "close", "volume"):
            checks.append((col, "non-finite value (null, NaN or inf)", _non_finite(col), [col]))
            checks.append((col, "negative value", pl.col(col) < 0, [col]))
        checks.append(("high", "high < low", pl.col("high") < pl.col("low"), ["high", "low"]))
        checks.append(("adj_factor", "non-finite adj_factor", _non_finite("adj_factor"), []))
        checks.append(("adj_factor", "adj_factor <= 0", pl.col("adj_factor") <= 0, []))
        if "outlier_flag" in df.columns:
            checks.append(
                (
                    "outlier_flag",
                    "outlier_flag not in {0, 1}",
                    pl.col("outlier_flag").is_not_null() & ~pl.col("outlier_flag").is_in([0, 1]),
                    ["outlier_flag"],
                )
            )
    elif lay.name == "ticks":
        for col in ("price", "size"):
            checks.append((col, "non-finite value (null, NaN or inf)", _non_finite(col), [col]))
            checks.append((col, "negative value", pl.col(col) < 0, [col]))
        if "side" in df.columns:
            checks.append(
                (
                    "side",
                    "side not in {'buy', 'sell'} (spec §5.2)",
                    pl.col("side").is_not_null() & ~pl.col("side").is_in(SIDES),
                    ["side"],
                )
            )
    return checks


def strictly_increasing(cols: list[str] | tuple[str, ...]) -> pl.Expr:
    """Per row: is the tuple ``cols`` strictly greater (lexicographically) than the previous row's?

    True on the first row. A frame where this holds on every row is sorted by ``cols`` and has no
    two rows with the same ``cols`` values (keys must be non-null).
    """
    expr: pl.Expr | None = None
    for col in reversed(cols):
        c, p = pl.col(col), pl.col(col).shift(1)
        expr = (c > p) if expr is None else (c > p) | ((c == p) & expr)
    assert expr is not None
    return expr.fill_null(True)


def has_duplicate_key(df: pl.DataFrame, key: list[str] | tuple[str, ...]) -> bool:
    """Whether two rows of ``df`` share the values of ``key`` (non-null key columns).

    Cheap paths first: a frame strictly increasing on ``key`` has none; otherwise rows whose
    combined 64-bit key hash repeats are the only candidates, compared exactly.
    """
    key = list(key)
    if df.height < 2 or df.select(strictly_increasing(key).all()).item():
        return False
    h = pl.col(key[0]).hash(seed=1)
    for i, col in enumerate(key[1:], start=2):
        h = h ^ pl.col(col).hash(seed=i)
    cand = df.select(key).filter(h.is_duplicated())
    return cand.height > 0 and bool(cand.select(pl.struct(key).is_duplicated().any()).item())


def duplicate_violation(df: pl.DataFrame, lay: Layout) -> Violation | None:
    """The 'duplicate key within the write' violation of ``df``, if any.

    Rows are numbered by the ``__row_nr`` column when ``df`` carries one (a subset or reordering
    of the written frame), else by position in ``df``.
    """
    dup = pl.struct(list(lay.key)).is_duplicated()
    indexed = df if _ROW in df.columns else df.with_row_index(_ROW)
    return _check(indexed, lay, ", ".join(lay.key), "duplicate key within the write", dup, [])


def _values(df: pl.DataFrame, lay: Layout, check_duplicates: bool = True) -> list[Violation]:
    """Every broken value rule with its examples (key nulls, identifier, values, duplicates).

    One lazy pass computes whether each row rule fires anywhere, the identifier rule is evaluated
    on the distinct identifiers only, and rows are collected (for the message) only for the rules
    that fired.
    """
    checks = _row_checks(df, lay)
    fired = (
        df.lazy()
        .select(m.fill_null(False).any().alias(str(i)) for i, (_, _, m, _) in enumerate(checks))
        .collect()
        .row(0)
    )
    todo = [c for c, f in zip(checks, fired, strict=True) if f]
    id_check = _id_check(lay)
    idc = pl.col(lay.id_column)
    ids = (
        df.lazy().select(idc.filter(idc.ne_missing(idc.shift(1))).unique()).collect()
    )  # run starts
    if ids.select(id_check[2].fill_null(False).any()).item():
        n_key = sum(1 for c in todo if c[1] == "null in key column")
        todo.insert(n_key, id_check)  # reported after key nulls, before value rules
    out: list[Violation] = []
    if todo:
        indexed = df.with_row_index(_ROW)
        out = [v for c, r, m, x in todo if (v := _check(indexed, lay, c, r, m, x)) is not None]
    if check_duplicates and has_duplicate_key(df, lay.key):
        v = duplicate_violation(df, lay)
        if v is not None:
            out.append(v)
    return out


def validate_frame(
    df: pl.DataFrame, layout: str | Layout, *, check_duplicates: bool = True
) -> pl.DataFrame:
    """Check ``df`` against ``layout`` and return it conformed to the stored schema.

    The returned frame has exactly the layout's columns in schema order; optional columns the
    frame did not carry are added as typed nulls. Raises :class:`FrameValidationError` listing
    every broken rule (structure rules first; value rules are only checked on a well-formed
    frame). See the module docstring for the rules. ``check_duplicates=False`` leaves the
    duplicate-key rule to a caller that checks it on its own (the store does so on sorted data,
    with :func:`strictly_increasing`, and reports it with :func:`duplicate_violation`).
    """
    lay = get_layout(layout)
    if not isinstance(df, pl.DataFrame):
        raise TypeError(f"[{lay.name}] expected a polars DataFrame, got {type(df).__name__}")
    problems = _structure(df, lay)
    if problems:
        raise FrameValidationError(lay.name, problems)
    problems = _values(df, lay, check_duplicates)
    if problems:
        raise FrameValidationError(lay.name, problems)
    return df.select(
        pl.col(c) if c in df.columns else pl.lit(None, dtype=dt).alias(c)
        for c, dt in lay.schema.items()
    )
