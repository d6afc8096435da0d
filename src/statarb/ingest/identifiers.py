"""Ticker and currency rules (spec §9.1: ``symbol_id`` upper case, no spaces).

A ticker is normalised by stripping surrounding white space and upper-casing **ASCII** letters
only: ``aapl`` -> ``AAPL``, while ``straße`` is left as it is (Unicode upper-casing would turn it
into ``STRASSE``, a different, valid-looking ticker) and then fails the alphabet. The alphabet is
the configured ``ticker_pattern`` (default: ASCII letters and digits, with single ``.`` or ``-``
between them: ``BRK.B``, ``BF-B``) plus ``ticker_max_length``; it keeps out white space, ``_``
(the pair-id separator), path separators, quotes and SQL text, full-width and other non-ASCII
letters. Currencies are normalised the same way and must be one of the configured ISO 4217 codes.
"""

from __future__ import annotations

import polars as pl

ASCII_ONLY = r"^[\x00-\x7F]*$"


def normalise_code(expr: pl.Expr) -> pl.Expr:
    """Stripped value, upper-cased when it is pure ASCII (non-ASCII text is left unchanged)."""
    stripped = expr.str.strip_chars()
    return (
        pl.when(stripped.str.contains(ASCII_ONLY))
        .then(stripped.str.to_uppercase())
        .otherwise(stripped)
    )


def normalise_series(values: pl.Series) -> pl.Series:
    """:func:`normalise_code` on a Series, computed on its distinct values (few per file)."""
    uniq = values.unique().drop_nulls()
    norm = pl.select(normalise_code(pl.lit(uniq))).to_series()
    changed = uniq != norm
    if not changed.any():
        return values
    return values.replace(uniq.filter(changed), norm.filter(changed))


def ticker_ok(expr: pl.Expr, pattern: str, max_length: int) -> pl.Expr:
    """Boolean: a normalised ticker is present, at most ``max_length`` characters long and
    matches ``pattern``. Null tickers give False."""
    ok = expr.str.contains(pattern) & (expr.str.len_chars() <= max_length)
    return ok.fill_null(False)


def ticker_problem(value: str | None, pattern: str, max_length: int) -> str | None:
    """Why a normalised ticker is refused (``None``: it is fine), for error messages."""
    if value is None or value == "":
        return "ticker is empty"
    if len(value) > max_length:
        return f"ticker {value!r} is longer than {max_length} characters"
    ok = pl.select(pl.lit(value).str.contains(pattern)).item()
    if not ok:
        return f"ticker {value!r} is not in the allowed alphabet {pattern!r}"
    return None
