"""Row-level validation of parsed bars/ticks (spec §8) with quarantine instead of dropping.

Each row gets at most one ``rule`` (the first that applies, in this precedence):

=========================  ===========================================================
``unknown_symbol``         symbol not in the ``symbols`` reference (never auto-created)
``non_finite_price``       a price (bars: open/high/low/close; ticks: price) is NaN, ±inf or null
``negative_price``         a price is < 0
``high_lt_low``            bars only: high < low
``invalid_volume``         volume (bars) / size (ticks) is negative, NaN, ±inf or null
``duplicate``              exact copy (all fields) of an earlier valid row: the first copy is kept
``non_increasing_datetime``  datetime <= the latest earlier valid datetime of the same symbol
=========================  ===========================================================

"Earlier" means delivery order: file-name order, then row order. The ordering rule makes
``(symbol, datetime)`` unique and strictly increasing per symbol among the valid rows, which the
columnar store requires (spec §5.1/§8). Nothing valid is dropped: ``valid`` + ``quarantine``
partition the input rows exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

RULES = (
    "unknown_symbol",
    "non_finite_price",
    "negative_price",
    "high_lt_low",
    "invalid_volume",
    "duplicate",
    "non_increasing_datetime",
)


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


def _finite(col: str) -> pl.Expr:
    return pl.col(col).is_finite().fill_null(False)


def _row_rule_code(kind: str, known: pl.Series) -> pl.Expr:
    """UInt8 index into RULES + 1 of the first row rule violated (0 = none); fast integer path."""
    prices = ["open", "high", "low", "close"] if kind == "bars" else ["price"]
    qty = "volume" if kind == "bars" else "size"
    checks = [
        ~pl.col("symbol").is_in(known.implode()),
        ~pl.all_horizontal(_finite(c) for c in prices),
        pl.any_horizontal(pl.col(c) < 0 for c in prices),
        (pl.col("high") < pl.col("low")) if kind == "bars" else None,
        ~_finite(qty) | (pl.col(qty) < 0),
    ]
    expr = None
    for code, check in enumerate(checks, start=1):
        if check is None:
            continue
        expr = (pl.when(check) if expr is None else expr.when(check)).then(pl.lit(code, pl.UInt8))
    return expr.otherwise(pl.lit(0, pl.UInt8)).alias("_code")


DUPLICATE = RULES.index("duplicate") + 1
NON_INCREASING = RULES.index("non_increasing_datetime") + 1


def validate(df: pl.DataFrame, kind: str, known_symbols: Iterable[str]) -> ValidationResult:
    """Split parsed rows (output of :func:`statarb.ingest.parse.parse_file`) into valid/quarantine.

    ``df`` must be in delivery order (as :func:`parse_partitions` returns it). The duplicate rule
    compares every field except ``source_file``/``source_row``/``local_datetime``.

    Implementation: an exact copy of an earlier row has ``datetime <=`` the running maximum of
    its symbol, so only those (few) candidate keys are compared field by field; row rules
    depend on values only, so an exact copy gets the same row-rule verdict as its first copy.
    """
    if kind not in ("bars", "ticks"):
        raise ValueError(f"kind must be 'bars' or 'ticks', got {kind!r}")
    known = pl.Series("known", sorted({str(s) for s in known_symbols}), dtype=pl.String)
    cols = df.columns
    value_cols = [c for c in cols if c not in ("source_file", "source_row", "local_datetime")]
    prev_all = pl.col("datetime").cum_max().shift(1).over("symbol")
    work = df.with_row_index("_i").with_columns(
        _row_rule_code(kind, known),
        (pl.col("datetime") <= prev_all).fill_null(False).alias("_cand"),
    )
    keys = work.filter(pl.col("_cand")).select("symbol", "datetime").unique()
    if keys.height:
        shared = (
            work.filter(pl.col("datetime").is_in(keys["datetime"].unique().implode()))
            .join(keys, on=["symbol", "datetime"], how="semi")
            .sort("_i")
        )
        dup_i = shared.filter(~pl.struct(value_cols).is_first_distinct())["_i"]
        if dup_i.len():
            work = work.with_columns(
                pl.when((pl.col("_code") == 0) & pl.col("_i").is_in(dup_i.implode()))
                .then(pl.lit(DUPLICATE, pl.UInt8))
                .otherwise(pl.col("_code"))
                .alias("_code")
            )
    left = work.filter(pl.col("_cand") & (pl.col("_code") == 0)).height if keys.height else 0
    if left:
        # latest datetime among earlier rows of the symbol that passed every other rule
        prev_ok = (
            pl.when(pl.col("_code") == 0)
            .then(pl.col("datetime"))
            .cum_max()
            .forward_fill()
            .shift(1)
            .over("symbol")
        )
        work = work.with_columns(
            pl.when((pl.col("_code") == 0) & pl.col("_cand") & (pl.col("datetime") <= prev_ok))
            .then(pl.lit(NON_INCREASING, pl.UInt8))
            .otherwise(pl.col("_code"))
            .alias("_code")
        )
    valid = work.filter(pl.col("_code") == 0).select(cols)
    names = pl.Series(["", *RULES])
    bad = work.filter(pl.col("_code") != 0)
    rule = pl.Series("rule", names.gather(bad["_code"].cast(pl.Int64)), dtype=pl.String)
    quarantine = bad.select(cols).insert_column(0, rule)
    return ValidationResult(valid=valid, quarantine=quarantine)
