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

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

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

__all__ = ["RULES", "Carry", "RowChecks", "ValidationResult", "validate"]

UTC = pl.Datetime("us", "UTC")
LAST_ALL = "_last_all"  # latest datetime of the symbol's rows in earlier groups
LAST_VALID = "_last_valid"  # ... of its valid rows in earlier groups

#: earlier groups' rows passing the row rules with the given (symbol, datetime) keys
PriorRows = Callable[[pl.DataFrame], pl.DataFrame]


@dataclass
class Carry:
    """Per-symbol state carried from one group of files to the next (one row per symbol)."""

    state: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={"symbol": pl.String, LAST_ALL: UTC, LAST_VALID: UTC}
        )
    )

    def update(self, work: pl.DataFrame) -> None:
        """Fold a validated group (``symbol``, ``datetime``, final ``_code``) into the state."""
        dt_col = pl.col("datetime")
        group = work.group_by("symbol").agg(
            dt_col.max().alias(LAST_ALL),
            dt_col.filter(pl.col("_code") == 0).max().alias(LAST_VALID),
        )
        both = pl.concat([self.state, group.cast(self.state.schema)], how="vertical")
        self.state = both.group_by("symbol").agg(pl.col(LAST_ALL).max(), pl.col(LAST_VALID).max())

    @property
    def last_valid(self) -> dt.datetime | None:
        """Latest valid datetime of all groups so far (None without a valid row)."""
        return self.state[LAST_VALID].max()


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


def _mark_duplicates(
    work: pl.DataFrame, value_cols: list[str], prior: PriorRows | None
) -> pl.DataFrame:
    """Set ``duplicate`` on valid rows that exactly copy an earlier valid row.

    An exact copy of an earlier row has ``datetime <=`` the running maximum of its symbol
    (``_cand``), so only those (few) candidate keys are compared field by field, among the rows
    that passed the row rules -- of this group, and of earlier groups (``prior``, placed first).
    """
    keys = work.filter(pl.col("_cand") & (pl.col("_code") == 0)).select("symbol", "datetime")
    if keys.height == 0:
        return work
    keys = keys.unique()
    shared = (
        work.filter((pl.col("_code") == 0) & pl.col("datetime").is_in(keys["datetime"].implode()))
        .join(keys, on=["symbol", "datetime"], how="semi")
        .select(*value_cols, pl.col("_i").cast(pl.Int64))
    )
    cross = work.filter(
        pl.col("_cand") & (pl.col("_code") == 0) & (pl.col("datetime") <= pl.col(LAST_ALL))
    )
    if prior is not None and cross.height:  # keys an earlier group may hold
        earlier = prior(cross.select("symbol", "datetime").unique().sort("symbol", "datetime"))
        if earlier.height:
            earlier = earlier.select(value_cols).cast(dict(shared.select(value_cols).schema))
            shared = pl.concat([earlier.with_columns(pl.lit(-1, pl.Int64).alias("_i")), shared])
    shared = shared.sort("_i", maintain_order=True)
    dup_i = shared.filter(~pl.struct(value_cols).is_first_distinct() & (pl.col("_i") >= 0))["_i"]
    dup_i = dup_i.cast(pl.UInt32)
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
    their symbol (of this group, or ``LAST_VALID`` of earlier groups)."""
    if work.filter(pl.col("_cand") & (pl.col("_code") == 0)).height == 0:
        return work
    prev_ok = pl.max_horizontal(
        pl.when(pl.col("_code") == 0)
        .then(pl.col("datetime"))
        .cum_max()
        .forward_fill()
        .shift(1)
        .over("symbol"),
        pl.col(LAST_VALID),
    )
    return work.with_columns(
        pl.when((pl.col("_code") == 0) & pl.col("_cand") & (pl.col("datetime") <= prev_ok))
        .then(pl.lit(NON_INCREASING, pl.UInt8))
        .otherwise(pl.col("_code"))
        .alias("_code")
    )


def validate(
    df: pl.DataFrame,
    kind: str,
    known_symbols: Iterable[str],
    checks: RowChecks,
    carry: Carry | None = None,
    prior: PriorRows | None = None,
) -> ValidationResult:
    """Split parsed rows (output of :func:`statarb.ingest.parse.parse_partitions`) into valid and
    quarantined rows, by the rules of the module docstring and :mod:`statarb.ingest.rules`.

    ``df`` must be in delivery order (as :func:`parse_partitions` returns it). The duplicate rule
    compares every field except ``source_file``/``source_row``/``local_datetime``.

    ``carry`` (streaming): the state of the earlier groups of the delivery, updated in place;
    ``prior``: returns the earlier groups' rows (``value columns``) that passed the row rules,
    for given ``(symbol, datetime)`` keys (module docstring). Without them ``df`` is the whole
    delivery.

    Raises:
        IngestionError: a row outside the calendar's date range or a file name without its
            date (see :func:`statarb.ingest.rules.with_calendar_columns`).
    """
    if kind not in ("bars", "ticks"):
        raise ValueError(f"kind must be 'bars' or 'ticks', got {kind!r}")
    known = pl.Series("known", sorted({str(s) for s in known_symbols}), dtype=pl.String)
    cols = df.columns
    value_cols = [c for c in cols if c not in ("source_file", "source_row", "local_datetime")]
    prev_all = pl.max_horizontal(
        pl.col("datetime").cum_max().shift(1).over("symbol"), pl.col(LAST_ALL)
    )
    work = with_calendar_columns(df, checks).with_row_index("_i")
    if carry is not None and carry.state.height:  # one join of the group with the state
        work = work.join(carry.state, on="symbol", how="left", maintain_order="left")
    else:
        work = work.with_columns(
            pl.lit(None, UTC).alias(LAST_ALL), pl.lit(None, UTC).alias(LAST_VALID)
        )
    invalid = invalid_tickers(df["symbol"], known, checks)
    work = work.with_columns(
        row_rule_code(kind, known, checks, invalid),
        (pl.col("datetime") <= prev_all).fill_null(False).alias("_cand"),
    ).drop(CAL_LOCAL, FILE_OK)
    work = _mark_non_increasing(_mark_duplicates(work, value_cols, prior))
    if carry is not None:
        carry.update(work.select("symbol", "datetime", "_code"))
    valid = work.filter(pl.col("_code") == 0).select(cols)
    names = pl.Series(["", *RULES])
    bad = work.filter(pl.col("_code") != 0)
    rule = pl.Series("rule", names.gather(bad["_code"].cast(pl.Int64)), dtype=pl.String)
    quarantine = bad.select(cols).insert_column(0, rule)
    return ValidationResult(valid=valid, quarantine=quarantine)
