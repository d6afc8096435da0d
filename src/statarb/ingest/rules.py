"""The row rules of bar and tick validation (spec §8, docs/ingestion.md) as Polars expressions.

Every rule is named; a row gets the first rule it violates, in the order of :data:`RULES`. The
row rules (:func:`row_rule_code`) depend only on the row itself, its file name and the
configuration; ``duplicate`` and ``non_increasing_datetime`` compare a row with the earlier rows of
its symbol and are applied afterwards by :func:`statarb.ingest.validate.validate`.

Configuration (:class:`RowChecks`): the bounds and ticker alphabet of
:class:`~statarb.ingest.config.ValidationConfig`, the source's
:class:`~statarb.ingest.calendar.TradingCalendar` (trading days, session bounds) and its
:class:`~statarb.ingest.config.FileDateSpec` (which day a file holds).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from .calendar import TradingCalendar, utc_to_local
from .config import FileDateSpec, FileSpec, IngestionConfig, ValidationConfig
from .errors import IngestionError
from .identifiers import ticker_ok

#: rule name -> what it refuses (bars; ticks read ``price`` for OHLC and ``size`` for volume)
RULE_DOCS: dict[str, str] = {
    "invalid_symbol": "ticker empty or outside the allowed alphabet / length",
    "unknown_symbol": "ticker not in symbols.csv (never auto-created)",
    "non_finite_price": "a price is NaN, +-inf or empty",
    "negative_price": "a price is < 0",
    "zero_price": "a price is 0",
    "price_out_of_range": "a positive price is < price_min or > price_max",
    "high_lt_low": "high < low",
    "open_outside_high_low": "open < low or open > high",
    "close_outside_high_low": "close < low or close > high",
    "invalid_volume": "volume (size) is < 0, NaN, +-inf or empty",
    "volume_out_of_range": "volume (size) is > volume_max",
    "non_trading_day": "the exchange-local date is a weekend day or a holiday",
    "outside_session": "the exchange-local time is outside the regular session",
    "file_date_mismatch": "the exchange-local date is not the date in the file name",
    "duplicate": "exact copy of an earlier valid row (the first copy is kept)",
    "non_increasing_datetime": "datetime <= the latest earlier valid datetime of the symbol",
}
RULES: tuple[str, ...] = tuple(RULE_DOCS)
ROW_RULES = RULES[: RULES.index("duplicate")]
CODE = {name: i for i, name in enumerate(RULES, start=1)}  # 0 = valid
CAL_LOCAL = "_cal_local"  # naive exchange-local datetime of the row (calendar time zone)
FILE_OK = "_file_ok"  # the row's local date matches its file name


@dataclass(frozen=True)
class RowChecks:
    """Settings of the row rules for one source (see module docstring).

    ``local_is_calendar_time``: the parsed ``local_datetime`` is already wall-clock time of the
    calendar's zone (the vendor's ``timezone`` is the exchange's), so it is used as it is instead
    of converting the UTC time.
    """

    validation: ValidationConfig
    calendar: TradingCalendar
    file_date: FileDateSpec | None
    local_is_calendar_time: bool

    @classmethod
    def for_source(cls, cfg: IngestionConfig, spec: FileSpec) -> RowChecks:
        """Checks of the active source of ``cfg`` for the files described by ``spec``."""
        cal = TradingCalendar(cfg.calendar)
        return cls(
            validation=cfg.validation,
            calendar=cal,
            file_date=cfg.active.file_date,
            local_is_calendar_time=spec.timezone == cal.timezone,
        )


def _finite(col: str) -> pl.Expr:
    return pl.col(col).is_finite().fill_null(False)


def invalid_tickers(symbols: pl.Series, known: pl.Series, checks: RowChecks) -> pl.Series:
    """The distinct tickers of ``symbols`` outside the allowed alphabet/length.

    The regular expression runs on the ``known`` tickers (a few, usually all valid: symbols.csv
    passed the same rule) and on the distinct rows' tickers missing from them (a few), not on
    every row.
    """
    v = checks.validation
    other = symbols.filter(~symbols.is_in(known.implode())).drop_nulls().unique()
    candidates = pl.concat([other, known.alias(other.name)]).unique()
    ok = ticker_ok(pl.lit(candidates), v.ticker_pattern, v.ticker_max_length)
    return candidates.filter(~pl.select(ok).to_series())


def row_rule_code(kind: str, known: pl.Series, checks: RowChecks, invalid: pl.Series) -> pl.Expr:
    """UInt8 code (``CODE[rule]``) of the first row rule a row violates, 0 when it passes all.

    ``invalid``: the frame's tickers refused by the alphabet (:func:`invalid_tickers`). Needs the
    columns :data:`CAL_LOCAL` and :data:`FILE_OK` (see :func:`with_calendar_columns`).
    """
    v = checks.validation
    prices = ["open", "high", "low", "close"] if kind == "bars" else ["price"]
    qty = "volume" if kind == "bars" else "size"
    local = pl.col(CAL_LOCAL)
    bars = kind == "bars"
    checks_by_rule: dict[str, pl.Expr | None] = {
        "invalid_symbol": pl.col("symbol").is_null() | pl.col("symbol").is_in(invalid.implode()),
        "unknown_symbol": ~pl.col("symbol").is_in(known.implode()),
        "non_finite_price": ~pl.all_horizontal(_finite(c) for c in prices),
        "negative_price": pl.any_horizontal(pl.col(c) < 0 for c in prices),
        "zero_price": pl.any_horizontal(pl.col(c) == 0 for c in prices),
        "price_out_of_range": pl.any_horizontal(
            (pl.col(c) < v.price_min) | (pl.col(c) > v.price_max) for c in prices
        ),
        "high_lt_low": (pl.col("high") < pl.col("low")) if bars else None,
        "open_outside_high_low": (
            (pl.col("open") < pl.col("low")) | (pl.col("open") > pl.col("high")) if bars else None
        ),
        "close_outside_high_low": (
            (pl.col("close") < pl.col("low")) | (pl.col("close") > pl.col("high")) if bars else None
        ),
        "invalid_volume": ~_finite(qty) | (pl.col(qty) < 0),
        "volume_out_of_range": pl.col(qty) > v.volume_max,
        "non_trading_day": ~checks.calendar.trading_day(local),
        "outside_session": ~checks.calendar.in_session(local, include_close=not bars),
        "file_date_mismatch": ~pl.col(FILE_OK),
    }
    expr = None
    for rule in ROW_RULES:
        check = checks_by_rule[rule]
        if check is None:
            continue
        code = pl.lit(CODE[rule], pl.UInt8)
        expr = (pl.when(check) if expr is None else expr.when(check)).then(code)
    assert expr is not None
    return expr.otherwise(pl.lit(0, pl.UInt8)).alias("_code")


def _first_row(df: pl.DataFrame, mask: pl.Series) -> tuple[str, int]:
    i = mask.arg_true()[0]
    return str(df["source_file"][i]), int(df["source_row"][i])


def _file_tokens(files: Iterable[str], spec: FileDateSpec) -> dict[str, str]:
    """File name -> date token (first group of ``spec.pattern``), or raise naming the file."""
    pattern = re.compile(spec.pattern)
    out = {}
    for name in files:
        m = pattern.search(name.rsplit("/", 1)[-1])
        if m is None or not m.group(1):
            raise IngestionError(
                name,
                f"file name has no date matching ingestion file_date.pattern {spec.pattern!r}",
                rule="file_name_without_date",
            )
        out[name] = m.group(1)
    return out


def _file_date_ok(df: pl.DataFrame, spec: FileDateSpec | None) -> pl.Series:
    """Per row: the row's exchange-local date, formatted with ``spec.format``, equals the token
    of its file name. Computed on the distinct (file, date) pairs (a few per file)."""
    if spec is None or df.height == 0:
        return pl.Series(FILE_OK, [True] * df.height, dtype=pl.Boolean)
    day = pl.col(CAL_LOCAL).dt.date().alias("_day")
    runs = df.select("source_file", day).filter(  # rows come file by file: runs are few
        (pl.col("source_file") != pl.col("source_file").shift(1)).fill_null(True)
        | (pl.col("_day") != pl.col("_day").shift(1)).fill_null(True)
    )
    pairs = runs.unique()
    tokens = _file_tokens(pairs["source_file"].unique().to_list(), spec)
    bad = pairs.filter(
        pl.col("_day").dt.strftime(spec.format)
        != pl.col("source_file").replace_strict(tokens, return_dtype=pl.String)
    )
    if bad.height == 0:
        return pl.Series(FILE_OK, [True] * df.height, dtype=pl.Boolean)
    flagged = df.select("source_file", day).join(
        bad.with_columns(pl.lit(False).alias(FILE_OK)),
        on=["source_file", "_day"],
        how="left",
        maintain_order="left",
    )
    return flagged[FILE_OK].fill_null(True).alias(FILE_OK)


def with_calendar_columns(df: pl.DataFrame, checks: RowChecks) -> pl.DataFrame:
    """``df`` plus :data:`CAL_LOCAL` and :data:`FILE_OK`.

    Raises:
        IngestionError: a row dated outside the calendar's ``[first_day, last_day]``
            (``outside_calendar_range``), or a file name without a date token
            (``file_name_without_date``).
    """
    if checks.local_is_calendar_time:
        local = df["local_datetime"].alias(CAL_LOCAL)
    else:
        local = utc_to_local(df["datetime"], checks.calendar.timezone).alias(CAL_LOCAL)
    df = df.with_columns(local)
    outside = df.select(~checks.calendar.covers(pl.col(CAL_LOCAL)).fill_null(False)).to_series()
    if outside.any():
        name, row = _first_row(df, outside)
        day = df[CAL_LOCAL][int(outside.arg_true()[0])].date()
        raise IngestionError(
            name,
            f"date {day} is outside the trading calendar ({checks.calendar.describe()}); "
            "extend ingestion.calendars (holidays, first_day/last_day) to cover it",
            row=row,
            rule="outside_calendar_range",
        )
    return df.with_columns(_file_date_ok(df, checks.file_date))
