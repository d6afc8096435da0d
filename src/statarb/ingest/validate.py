"""Row-level validation of parsed bars/ticks (spec §8) with quarantine instead of dropping.

Each row gets at most one ``rule``: the first of :data:`statarb.ingest.rules.RULES` that applies.
The row rules (ticker, prices, volume, calendar, file date; :mod:`statarb.ingest.rules`) come
first, then the two rules that compare a row with the earlier *valid* rows of its symbol:

=============================  =======================================================
``duplicate``                  exact copy (all fields) of an earlier valid row: the first copy is kept
``non_increasing_datetime``    datetime <= the latest earlier valid datetime of the same symbol
=============================  =======================================================

"Earlier" means delivery order: file-name order, then row order. Only valid rows count as
"earlier", so a bad row never causes a neighbouring good one to be quarantined (a bar misdated
into the next day is ``file_date_mismatch`` and does not push the next day's bars out of order).
The ordering rule makes ``(symbol, datetime)`` unique and strictly increasing per symbol among the
valid rows, which the columnar store requires (spec §5.1/§8). Nothing valid is dropped:
``valid`` + ``quarantine`` partition the input rows exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from .rules import (
    CAL_LOCAL,
    CODE,
    FILE_OK,
    RULES,
    RowChecks,
    invalid_tickers,
    row_rule_code,
    with_calendar_columns,
)

__all__ = ["RULES", "RowChecks", "ValidationResult", "validate"]


@dataclass(frozen=True)
class ValidationResult:
    """Valid rows (input columns) and quarantined rows (``rule`` first, then input columns)."""

    valid: pl.DataFrame
    quarantine: pl.DataFrame

    def counts(self) -> dict[str, int]:
        """Number of quarantined rows per rule (only rules that fired)."""
        if self.quarantine.height == 0:
            return {}
        vc = self.quarantine.group_by("rule").len()
        return {r: int(n) for r, n in sorted(zip(vc["rule"], vc["len"], strict=True))}


DUPLICATE = CODE["duplicate"]
NON_INCREASING = CODE["non_increasing_datetime"]


def _mark_duplicates(work: pl.DataFrame, value_cols: list[str]) -> pl.DataFrame:
    """Set ``duplicate`` on valid rows that exactly copy an earlier valid row.

    An exact copy of an earlier row has ``datetime <=`` the running maximum of its symbol
    (``_cand``), so only those (few) candidate keys are compared field by field, among the rows
    that passed the row rules.
    """
    keys = work.filter(pl.col("_cand") & (pl.col("_code") == 0)).select("symbol", "datetime")
    if keys.height == 0:
        return work
    keys = keys.unique()
    shared = (
        work.filter((pl.col("_code") == 0) & pl.col("datetime").is_in(keys["datetime"].implode()))
        .join(keys, on=["symbol", "datetime"], how="semi")
        .sort("_i")
    )
    dup_i = shared.filter(~pl.struct(value_cols).is_first_distinct())["_i"]
    if dup_i.len() == 0:
        return work
    return work.with_columns(
        pl.when(pl.col("_i").is_in(dup_i.implode()))
        .then(pl.lit(DUPLICATE, pl.UInt8))
        .otherwise(pl.col("_code"))
        .alias("_code")
    )


def _mark_non_increasing(work: pl.DataFrame) -> pl.DataFrame:
    """Set ``non_increasing_datetime`` on valid rows not later than every earlier valid row of
    their symbol."""
    if work.filter(pl.col("_cand") & (pl.col("_code") == 0)).height == 0:
        return work
    prev_ok = (
        pl.when(pl.col("_code") == 0)
        .then(pl.col("datetime"))
        .cum_max()
        .forward_fill()
        .shift(1)
        .over("symbol")
    )
    return work.with_columns(
        pl.when((pl.col("_code") == 0) & pl.col("_cand") & (pl.col("datetime") <= prev_ok))
        .then(pl.lit(NON_INCREASING, pl.UInt8))
        .otherwise(pl.col("_code"))
        .alias("_code")
    )


def validate(
    df: pl.DataFrame, kind: str, known_symbols: Iterable[str], checks: RowChecks
) -> ValidationResult:
    """Split parsed rows (output of :func:`statarb.ingest.parse.parse_partitions`) into valid and
    quarantined rows, by the rules of the module docstring and :mod:`statarb.ingest.rules`.

    ``df`` must be in delivery order (as :func:`parse_partitions` returns it). The duplicate rule
    compares every field except ``source_file``/``source_row``/``local_datetime``.

    Raises:
        IngestionError: a row outside the calendar's date range or a file name without its
            date (see :func:`statarb.ingest.rules.with_calendar_columns`).
    """
    if kind not in ("bars", "ticks"):
        raise ValueError(f"kind must be 'bars' or 'ticks', got {kind!r}")
    known = pl.Series("known", sorted({str(s) for s in known_symbols}), dtype=pl.String)
    cols = df.columns
    value_cols = [c for c in cols if c not in ("source_file", "source_row", "local_datetime")]
    prev_all = pl.col("datetime").cum_max().shift(1).over("symbol")
    work = with_calendar_columns(df, checks).with_row_index("_i")
    invalid = invalid_tickers(df["symbol"], known, checks)
    work = work.with_columns(
        row_rule_code(kind, known, checks, invalid),
        (pl.col("datetime") <= prev_all).fill_null(False).alias("_cand"),
    ).drop(CAL_LOCAL, FILE_OK)
    work = _mark_non_increasing(_mark_duplicates(work, value_cols))
    valid = work.filter(pl.col("_code") == 0).select(cols)
    names = pl.Series(["", *RULES])
    bad = work.filter(pl.col("_code") != 0)
    rule = pl.Series("rule", names.gather(bad["_code"].cast(pl.Int64)), dtype=pl.String)
    quarantine = bad.select(cols).insert_column(0, rule)
    return ValidationResult(valid=valid, quarantine=quarantine)
