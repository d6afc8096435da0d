"""Per-source description of a vendor's raw files (column mapping, formats, time zone).

A source is configured in ``conf/base/parameters_ingestion.yml`` under
``ingestion.sources.<name>.<kind>`` (``kind`` in ``bars``, ``ticks``). See docs/ingestion.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

BAR_FIELDS = ("symbol", "open", "high", "low", "close", "volume")
TICK_FIELDS = ("symbol", "price", "size")
TICK_OPTIONAL_FIELDS = ("side", "exchange")


@dataclass(frozen=True)
class FileSpec:
    """How to read one kind of raw file of one vendor.

    ``columns`` maps vendor column names to our field names (``symbol``, ``open``, ... for bars;
    ``symbol``, ``price``, ``size``, ``side``, ``exchange`` for ticks). The timestamp is either a
    single ``datetime_column`` or a ``date_column`` + ``time_column`` pair, parsed with the given
    strftime formats and interpreted in ``timezone`` (exchange-local wall-clock time).
    ``file_pattern`` (fnmatch) selects the files of a raw folder that belong to this kind.
    """

    kind: Literal["bars", "ticks"]
    format: Literal["csv", "parquet"]
    columns: Mapping[str, str]
    timezone: str
    date_column: str | None = None
    time_column: str | None = None
    datetime_column: str | None = None
    date_format: str = "%Y-%m-%d"
    time_format: str = "%H:%M:%S"
    datetime_format: str = "%Y-%m-%d %H:%M:%S%.f"
    side_map: Mapping[str, str] = field(default_factory=dict)
    csv_separator: str = ","
    file_pattern: str = "*"

    def __post_init__(self) -> None:
        if self.format not in ("csv", "parquet"):
            raise ValueError(f"{self.kind}: format must be 'csv' or 'parquet', got {self.format!r}")
        has_dt = self.datetime_column is not None
        has_pair = self.date_column is not None and self.time_column is not None
        if has_dt == has_pair:
            raise ValueError(
                f"{self.kind}: give either datetime_column or both date_column and time_column"
            )
        required = BAR_FIELDS if self.kind == "bars" else TICK_FIELDS
        mapped = set(self.columns.values())
        missing = [f for f in required if f not in mapped]
        if missing:
            raise ValueError(f"{self.kind}: column mapping lacks target field(s) {missing}")

    @property
    def source_columns(self) -> list[str]:
        """Vendor columns that must be present in every file."""
        cols = list(self.columns)
        cols += [c for c in (self.date_column, self.time_column, self.datetime_column) if c]
        return cols

    @classmethod
    def from_params(cls, kind: str, params: Mapping[str, Any]) -> FileSpec:
        """Build from the YAML mapping ``ingestion.sources.<name>.<kind>``."""
        known = {f for f in cls.__dataclass_fields__ if f != "kind"}
        unknown = set(params) - known
        if unknown:
            raise ValueError(
                f"{kind}: unknown source option(s) {sorted(unknown)}; known: {sorted(known)}"
            )
        return cls(kind=kind, **dict(params))  # type: ignore[arg-type]
