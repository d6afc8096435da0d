"""Errors raised by ingestion: each names the file, the row (when there is one) and the rule."""

from __future__ import annotations


class IngestionError(ValueError):
    """A raw file cannot be ingested (unparseable, missing column, bad local time, bad ticker...).

    The message starts with the source file name (and row), gives the reason and ends with the
    rule, e.g. ``SYNTH_bars_20260306.csv, row 12: Open value 'x' is not a number
    (rule non_numeric_value)``. Rule names are listed in docs/ingestion.md.
    """

    def __init__(self, source_file: str, reason: str, row: int | None = None, *, rule: str) -> None:
        self.source_file = source_file
        self.row = row
        self.reason = reason
        self.rule = rule
        where = source_file if row is None else f"{source_file}, row {row}"
        super().__init__(f"{where}: {reason} (rule {rule})")
