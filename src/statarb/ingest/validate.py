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


def _row_rules(kind: str, known: pl.Series) -> pl.Expr:
    prices = ["open", "high", "low", "close"] if kind == "bars" else ["price"]
    qty = "volume" if kind == "bars" else "size"
    expr = pl.when(~pl.col("symbol").is_in(known.implode())).then(pl.lit("unknown_symbol"))
    expr = expr.when(~pl.all_horizontal(_finite(c) for c in prices)).then(
        pl.lit("non_finite_price")
    )
    expr = expr.when(pl.any_horizontal(pl.col(c) < 0 for c in prices)).then(
        pl.lit("negative_price")
    )
    if kind == "bars":
        expr = expr.when(pl.col("high") < pl.col("low")).then(pl.lit("high_lt_low"))
    expr = expr.when(~_finite(qty) | (pl.col(qty) < 0)).then(pl.lit("invalid_volume"))
    return expr.otherwise(pl.lit(None, pl.String)).alias("rule")


def validate(df: pl.DataFrame, kind: str, known_symbols: Iterable[str]) -> ValidationResult:
    """Split parsed rows (output of :func:`statarb.ingest.parse.parse_file`) into valid/quarantine.

    ``df`` must be in delivery order (as :func:`parse_partitions` returns it). The duplicate rule
    compares every field except ``source_file``/``source_row``/``local_datetime``.
    """
    if kind not in ("bars", "ticks"):
        raise ValueError(f"kind must be 'bars' or 'ticks', got {kind!r}")
    known = pl.Series("known", sorted({str(s) for s in known_symbols}), dtype=pl.String)
    cols = df.columns
    value_cols = [c for c in cols if c not in ("source_file", "source_row", "local_datetime")]
    tagged = df.with_columns(_row_rules(kind, known))
    bad1 = tagged.filter(pl.col("rule").is_not_null())
    ok = tagged.filter(pl.col("rule").is_null())
    # exact duplicates among rows that passed the row rules: keep the first copy
    ok = ok.with_columns(
        pl.when(~pl.struct(value_cols).is_first_distinct())
        .then(pl.lit("duplicate"))
        .otherwise(pl.lit(None, pl.String))
        .alias("rule")
    )
    bad2 = ok.filter(pl.col("rule").is_not_null())
    ok = ok.filter(pl.col("rule").is_null())
    # strictly increasing datetime per symbol, in delivery order, against earlier valid rows
    prev_max = pl.col("datetime").cum_max().shift(1).over("symbol")
    ok = ok.with_columns(
        pl.when(pl.col("datetime") <= prev_max)
        .then(pl.lit("non_increasing_datetime"))
        .otherwise(pl.lit(None, pl.String))
        .alias("rule")
    )
    bad3 = ok.filter(pl.col("rule").is_not_null())
    valid = ok.filter(pl.col("rule").is_null()).select(cols)
    quarantine = pl.concat([bad1, bad2, bad3]).select(["rule", *cols])
    quarantine = quarantine.sort("source_file", "source_row")
    return ValidationResult(valid=valid, quarantine=quarantine)
