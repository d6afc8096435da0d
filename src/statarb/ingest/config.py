"""Typed ``ingestion`` parameters section: vendors' file layouts, calendars and validation bounds.

Validated by :class:`IngestionConfig` (a :class:`~statarb.config.strict.StrictModel`: frozen,
unknown keys refused with the closest valid name, no defaults in code -- every value lives in
``conf/base/parameters_ingestion.yml``). Registered in :data:`statarb.config.registry.SECTIONS`,
so a misspelt key stops ``kedro run`` at start-up. See docs/ingestion.md.

Layout::

    ingestion:
      source: <name>            # which entry of `sources` this run reads
      streaming: {files_per_group}  # raw files parsed and validated at a time
      validation: {...}         # magnitude bounds, ticker alphabet, currencies, action horizon
      calendars: {<name>: {...}}  # trading days and session bounds (exchange-local)
      sources:
        <name>:
          calendar: <calendar name>
          file_date: {pattern, format} | null   # the day (or year, ...) a raw file holds
          bars: {...}           # FileSpec of the bar files
          ticks: {...}          # FileSpec of the tick files
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import polars as pl
from pydantic import Field, field_validator, model_validator

from statarb.config.strict import StrictModel

BAR_FIELDS = ("symbol", "open", "high", "low", "close", "volume")
TICK_FIELDS = ("symbol", "price", "size")
TICK_OPTIONAL_FIELDS = ("side", "exchange")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
Weekday = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _check_zone(tz: str) -> str:
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {tz!r}") from None
    return tz


def _check_regex(pattern: str) -> str:
    """``pattern`` if both Python's ``re`` and Polars (Rust ``regex``) compile it."""
    try:
        re.compile(pattern)
        pl.select(pl.lit("A").str.contains(pattern))
    except (re.error, pl.exceptions.ComputeError) as exc:
        raise ValueError(f"not a regular expression ({str(exc).splitlines()[0]})") from None
    return pattern


class FileSpec(StrictModel):
    """How to read one kind of raw file of one vendor (``sources.<name>.bars`` / ``.ticks``).

    ``columns`` maps vendor column names to our field names. The timestamp is either one
    ``datetime_column`` (with ``datetime_format``) or a ``date_column`` + ``time_column`` pair
    (with ``date_format`` / ``time_format``); the keys of the other form are given as ``null``.
    Times are exchange-local wall-clock times in ``timezone``. ``file_pattern`` (fnmatch, one
    pattern or a list) selects the files of a raw folder. ``format``: ``csv``, ``parquet``, or
    ``auto`` (each file by its extension, ``.csv`` or ``.parquet``; a day delivered in both
    formats is read from the Parquet file). ``csv_separator`` is ``null`` for Parquet.
    """

    kind: ClassVar[str] = ""
    required_fields: ClassVar[tuple[str, ...]] = ()
    optional_fields: ClassVar[tuple[str, ...]] = ()

    format: Literal["csv", "parquet", "auto"]
    file_pattern: str | list[str] = Field(min_length=1)
    columns: dict[str, str]
    date_column: str | None
    time_column: str | None
    datetime_column: str | None
    date_format: str | None
    time_format: str | None
    datetime_format: str | None
    timezone: str
    csv_separator: str | None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        return _check_zone(v)

    @model_validator(mode="after")
    def _consistent(self) -> FileSpec:
        pair = (self.date_column, self.time_column, self.date_format, self.time_format)
        single = (self.datetime_column, self.datetime_format)
        given = [v is not None for v in single], [v is not None for v in pair]
        one_form = (all(given[0]) and not any(given[1])) or (all(given[1]) and not any(given[0]))
        if not one_form:
            raise ValueError(
                "give either datetime_column + datetime_format, or date_column + time_column + "
                "date_format + time_format (and null for the keys of the other form)"
            )
        targets = list(self.columns.values())
        known = (*self.required_fields, *self.optional_fields)
        unknown = sorted({t for t in targets if t not in known})
        if unknown:
            raise ValueError(f"columns maps to unknown field(s) {unknown}; fields: {list(known)}")
        missing = [f for f in self.required_fields if f not in targets]
        if missing:
            raise ValueError(f"columns lacks target field(s) {missing}")
        twice = sorted({t for t in targets if targets.count(t) > 1})
        if twice:
            raise ValueError(f"columns maps several vendor columns to {twice}")
        if (self.format != "parquet") != (self.csv_separator is not None):
            raise ValueError(
                "csv_separator is required for format csv/auto and must be null for parquet"
            )
        if self.csv_separator is not None and len(self.csv_separator) != 1:
            raise ValueError("csv_separator must be one character")
        return self

    @property
    def file_patterns(self) -> list[str]:
        """``file_pattern`` as a list."""
        return [self.file_pattern] if isinstance(self.file_pattern, str) else self.file_pattern

    def file_format(self, name: str) -> str:
        """``csv`` or ``parquet``: the configured format, or (``auto``) the file's extension."""
        if self.format != "auto":
            return self.format
        return "parquet" if name.lower().endswith(".parquet") else "csv"

    @property
    def source_columns(self) -> list[str]:
        """Vendor columns that must be present in every file."""
        cols = list(self.columns)
        cols += [c for c in (self.date_column, self.time_column, self.datetime_column) if c]
        return cols


class BarFileSpec(FileSpec):
    """:class:`FileSpec` of bar files (fields ``symbol, open, high, low, close, volume``)."""

    kind: ClassVar[str] = "bars"
    required_fields: ClassVar[tuple[str, ...]] = BAR_FIELDS


class TickFileSpec(FileSpec):
    """:class:`FileSpec` of tick files; ``side_map`` maps vendor side codes to ``buy``/``sell``
    (other codes become null)."""

    kind: ClassVar[str] = "ticks"
    required_fields: ClassVar[tuple[str, ...]] = TICK_FIELDS
    optional_fields: ClassVar[tuple[str, ...]] = TICK_OPTIONAL_FIELDS

    side_map: dict[str, Literal["buy", "sell"]]


class FileDateSpec(StrictModel):
    """The period a raw file holds, read from its name: ``pattern`` (a regular expression whose
    first group is the token) and ``format`` (strftime). A row belongs to its file when its
    exchange-local session date, formatted with ``format``, equals the token (``%Y%m%d``: the
    day; ``%Y``: the year)."""

    pattern: str
    format: str = Field(min_length=2)

    @field_validator("pattern")
    @classmethod
    def _one_group(cls, v: str) -> str:
        if re.compile(_check_regex(v)).groups < 1:
            raise ValueError("needs one capturing group: the date token")
        return v


class CalendarConfig(StrictModel):
    """Trading days and regular session of an exchange, in its local ``timezone``.

    A day is a trading day when it is in ``[first_day, last_day]``, not a ``weekend`` day and not
    in ``holidays``. The session is ``[session_open, session_close)`` for bar open times
    (``[session_open, session_close]`` for ticks), with ``session_close`` replaced by the time
    in ``early_closes`` on those days. Rows dated outside ``[first_day, last_day]`` fail the run
    (the list of holidays does not reach there).
    """

    timezone: str
    session_open: dt.time
    session_close: dt.time
    weekend: list[Weekday]
    first_day: dt.date
    last_day: dt.date
    holidays: list[dt.date]
    early_closes: dict[dt.date, dt.time]

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        return _check_zone(v)

    @model_validator(mode="after")
    def _consistent(self) -> CalendarConfig:
        if self.session_open >= self.session_close:
            raise ValueError("session_open must be before session_close")
        if self.first_day > self.last_day:
            raise ValueError("first_day must not be after last_day")
        for day, close in self.early_closes.items():
            if not self.session_open < close <= self.session_close:
                raise ValueError(f"early close {close} on {day} is not inside the session")
        listed = [*self.holidays, *self.early_closes]
        outside = [d for d in listed if not self.first_day <= d <= self.last_day]
        if outside:
            raise ValueError(f"dates outside [first_day, last_day]: {outside[:3]}")
        both = sorted(set(self.holidays) & set(self.early_closes))
        if both:
            raise ValueError(f"dates both holiday and early close: {both[:3]}")
        return self


class SourceConfig(StrictModel):
    """One vendor: which calendar its exchange follows, how file names carry the date, and the
    layouts of its bar and tick files."""

    calendar: str
    file_date: FileDateSpec | None
    bars: BarFileSpec
    ticks: TickFileSpec


class ValidationConfig(StrictModel):
    """Bounds and alphabets of the validation rules (docs/ingestion.md, "Validation rules").

    ``price_min``/``price_max``: a positive price outside is ``price_out_of_range``;
    ``volume_max``: a bar volume or tick size above is ``volume_out_of_range``;
    ``ticker_pattern`` (regular expression, applied to the stripped, ASCII-upper-cased ticker)
    and ``ticker_max_length``: tickers failing either are ``invalid_symbol``;
    ``currencies``: accepted ``symbols.currency`` codes; ``max_ex_date_days_after_last_bar``:
    a corporate action whose ex-date is later than the last bar of the run by more days is held
    in quarantine (``ex_date_beyond_data``).
    """

    price_min: float = Field(gt=0)
    price_max: float = Field(gt=0)
    volume_max: float = Field(gt=0)
    ticker_pattern: str
    ticker_max_length: int = Field(ge=1)
    currencies: list[str] = Field(min_length=1)
    max_ex_date_days_after_last_bar: int = Field(ge=0)

    @field_validator("ticker_pattern")
    @classmethod
    def _regex(cls, v: str) -> str:
        return _check_regex(v)

    @field_validator("currencies")
    @classmethod
    def _iso_codes(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if not re.fullmatch(r"[A-Z]{3}", c)]
        if bad:
            raise ValueError(f"not ISO 4217 alphabetic codes: {bad}")
        return v

    @model_validator(mode="after")
    def _bounds(self) -> ValidationConfig:
        if self.price_min >= self.price_max:
            raise ValueError("price_min must be below price_max")
        return self


class StreamingConfig(StrictModel):
    """How the raw bar/tick files are streamed (docs/ingestion.md, "Streaming"):
    ``files_per_group`` files are parsed and validated at a time, their rows staged to disk."""

    files_per_group: int = Field(ge=1)


class IngestionConfig(StrictModel):
    """The whole ``ingestion`` parameters section (module docstring)."""

    source: str
    streaming: StreamingConfig
    validation: ValidationConfig
    calendars: dict[str, CalendarConfig]
    sources: dict[str, SourceConfig]

    @model_validator(mode="after")
    def _references(self) -> IngestionConfig:
        if self.source not in self.sources:
            raise ValueError(
                f"source {self.source!r} is not an entry of sources ({sorted(self.sources)})"
            )
        for name, src in self.sources.items():
            if src.calendar not in self.calendars:
                raise ValueError(
                    f"sources.{name}.calendar {src.calendar!r} is not an entry of calendars "
                    f"({sorted(self.calendars)})"
                )
        return self

    @property
    def active(self) -> SourceConfig:
        """The configuration of the source this run reads (``sources[source]``)."""
        return self.sources[self.source]

    @property
    def calendar(self) -> CalendarConfig:
        """The calendar of the active source."""
        return self.calendars[self.active.calendar]


def ingestion_config(params: Mapping[str, Any] | IngestionConfig) -> IngestionConfig:
    """Validate the ``ingestion`` parameters mapping (or pass a validated one through)."""
    return IngestionConfig.from_params(params, "ingestion")
