"""Errors raised by ingestion: each names the file (and row, when there is one) and the reason."""

from __future__ import annotations


class IngestionError(ValueError):
    """A raw file cannot be ingested (unparseable, missing column, bad local time, ...).

    The message always starts with the source file name so the operator knows what to fix.
    """

    def __init__(self, source_file: str, reason: str, row: int | None = None) -> None:
        self.source_file = source_file
        self.row = row
        self.reason = reason
        where = source_file if row is None else f"{source_file}, row {row}"
        super().__init__(f"{where}: {reason}")
