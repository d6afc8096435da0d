"""Reference files: ``symbols.csv`` -> ``symbols`` rows, ``corporate_actions.csv`` -> actions.

Column names of the raw files follow docs/dev-contract.md; the output columns follow the spec
§4.1 tables ``symbols`` and ``corporate_actions`` (the surrogate ``id`` is left to the database;
``corporate_actions`` is upserted on its natural key ``(symbol_id, action_type, ex_date)``).
"""

from __future__ import annotations

import datetime as dt
import json

import polars as pl

from statarb.conventions import UTC_US

from .config import ValidationConfig
from .errors import IngestionError
from .identifiers import normalise_code, ticker_problem
from .validate import ValidationResult

SYMBOL_COLUMNS = {
    "ticker": "symbol_id",
    "name": "display_name",
    "asset_class": "asset_class",
    "exchange": "exchange",
    "currency": "currency",
}
ACTION_COLUMNS = ("ticker", "action", "ex_date", "ratio", "cash_amount", "note")
ACTION_TYPES = ("split", "dividend", "rights")


def _read_csv(
    data: bytes, name: str, needed: list[str], floats: tuple[str, ...] = ()
) -> pl.DataFrame:
    try:
        header = pl.read_csv(data, n_rows=0).columns
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise IngestionError(
            name, f"cannot parse csv file: {reason}", rule="unreadable_file"
        ) from exc
    missing = [c for c in needed if c not in header]
    if missing:
        raise IngestionError(
            name, f"missing column(s) {missing}; file has {header}", rule="missing_column"
        )
    try:
        df = pl.read_csv(
            data,
            columns=needed,
            schema_overrides=dict.fromkeys(needed, pl.String),
            infer_schema=False,
        )
    except Exception as exc:
        raise IngestionError(
            name, f"cannot parse csv file: {str(exc).splitlines()[0]}", rule="unreadable_file"
        ) from exc
    df = df.with_row_index("source_row", offset=1).with_columns(pl.col("source_row").cast(pl.Int64))
    for c in floats:  # a value that is not a number names its row
        text = df[c].str.strip_chars()
        num = text.cast(pl.Float64, strict=False)
        bad = num.is_null() & text.is_not_null() & (text != "")
        if bad.any():
            i = int(bad.arg_true()[0])
            raise IngestionError(
                name,
                f"{c} value {df[c][i]!r} is not a number",
                row=int(df["source_row"][i]),
                rule="non_numeric_value",
            )
        df = df.with_columns(num.alias(c))
    return df


def _now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def parse_symbols(
    data: bytes,
    validation: ValidationConfig,
    name: str = "symbols.csv",
    now: dt.datetime | None = None,
) -> pl.DataFrame:
    """Parse ``symbols.csv`` into ``symbols`` rows (symbol_id normalised, ``updated_at`` = now).

    ``created_at`` is omitted so the store keeps the first-seen time (server default on insert).
    Tickers and currencies are normalised (strip, ASCII upper case) by
    :mod:`statarb.ingest.identifiers`.

    Raises:
        IngestionError: naming the row and the rule -- ``invalid_symbol`` (empty, or outside the
            ``ticker_pattern`` alphabet / ``ticker_max_length``), ``duplicate_symbol`` (the same
            ticker listed twice), ``unknown_currency`` (missing or not in ``currencies``).
    """
    df = _read_csv(data, name, list(SYMBOL_COLUMNS)).rename(SYMBOL_COLUMNS)
    df = df.with_columns(normalise_code(pl.col("symbol_id")), normalise_code(pl.col("currency")))
    pattern, max_len = validation.ticker_pattern, validation.ticker_max_length
    for row, ticker in zip(df["source_row"], df["symbol_id"], strict=True):
        problem = ticker_problem(ticker, pattern, max_len)
        if problem is not None:
            raise IngestionError(name, problem, row=int(row), rule="invalid_symbol")
    dup = df.filter(pl.col("symbol_id").is_duplicated())
    if dup.height:
        raise IngestionError(
            name,
            f"ticker {dup['symbol_id'][0]!r} listed more than once (rows {dup['source_row'].to_list()})",
            row=int(dup["source_row"][1]),
            rule="duplicate_symbol",
        )
    accepted = validation.currencies
    bad = df.filter(~pl.col("currency").is_in(accepted).fill_null(False))
    if bad.height:
        r = bad.row(0, named=True)
        raise IngestionError(
            name,
            f"currency {r['currency']!r} of {r['symbol_id']} is not one of the accepted "
            "ISO 4217 codes (ingestion.validation.currencies)",
            row=int(r["source_row"]),
            rule="unknown_currency",
        )
    stamp = now or _now_utc()
    return df.select(
        "symbol_id",
        "display_name",
        "asset_class",
        "exchange",
        "currency",
        pl.lit(stamp).cast(UTC_US).alias("updated_at"),
    ).sort("symbol_id")


def parse_corporate_actions(
    data: bytes,
    known_symbols: list[str] | pl.Series,
    validation: ValidationConfig,
    last_bar_date: dt.date | None,
    name: str = "corporate_actions.csv",
    now: dt.datetime | None = None,
) -> ValidationResult:
    """Parse ``corporate_actions.csv`` into ``corporate_actions`` rows plus quarantined rows.

    ``ex_date`` is an exchange-local ``Date``; ``recorded_at`` = now (UTC; a rerun keeps the stored
    value of an unchanged row, see the ``corporate_actions`` catalog entry). Quarantine rules, in
    this order: ``unknown_symbol``, ``unknown_action`` (not split/dividend/rights),
    ``invalid_ratio`` (split without finite ratio > 0), ``invalid_cash_amount`` (dividend without
    finite amount >= 0), ``ex_date_beyond_data`` (ex-date later than ``last_bar_date``, the last
    exchange-local session date of the run's valid bars, by more than
    ``validation.max_ex_date_days_after_last_bar`` days; every action when there is no valid bar:
    the action is held until the data reaches it), ``duplicate`` (same
    ``(symbol_id, action_type, ex_date)`` as an earlier row).

    Raises:
        IngestionError: unparseable file, ``ex_date`` or number (names the row).
    """
    df = _read_csv(data, name, list(ACTION_COLUMNS), floats=("ratio", "cash_amount"))
    ex = df["ex_date"].str.strip_chars().str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    if ex.is_null().any():
        row = int(df.filter(ex.is_null())["source_row"][0])
        raise IngestionError(
            name, "ex_date is not a YYYY-MM-DD date", row=row, rule="unparseable_ex_date"
        )
    known = pl.Series(list(known_symbols), dtype=pl.String)
    stamp = now or _now_utc()
    df = df.with_columns(
        normalise_code(pl.col("ticker")).alias("symbol_id"),
        pl.col("action").str.strip_chars().str.to_lowercase().alias("action_type"),
        ex.alias("ex_date"),
        pl.lit(stamp).cast(UTC_US).alias("recorded_at"),
        pl.struct(note=pl.col("note"), source_file=pl.lit(name), source_row=pl.col("source_row"))
        .map_elements(lambda s: json.dumps(s, sort_keys=True), return_dtype=pl.String)
        .alias("metadata_json"),
    )
    ratio_ok = pl.col("ratio").is_finite().fill_null(False) & (pl.col("ratio") > 0)
    cash_ok = pl.col("cash_amount").is_finite().fill_null(False) & (pl.col("cash_amount") >= 0)
    if last_bar_date is None:
        beyond = pl.lit(True)
    else:
        horizon = last_bar_date + dt.timedelta(days=validation.max_ex_date_days_after_last_bar)
        beyond = pl.col("ex_date") > pl.lit(horizon)
    rule = (
        pl.when(~pl.col("symbol_id").is_in(known.implode()).fill_null(False))
        .then(pl.lit("unknown_symbol"))
        .when(~pl.col("action_type").is_in(list(ACTION_TYPES)).fill_null(False))
        .then(pl.lit("unknown_action"))
        .when((pl.col("action_type") == "split") & ~ratio_ok)
        .then(pl.lit("invalid_ratio"))
        .when((pl.col("action_type") == "dividend") & ~cash_ok)
        .then(pl.lit("invalid_cash_amount"))
        .when(beyond)
        .then(pl.lit("ex_date_beyond_data"))
        .otherwise(pl.lit(None, pl.String))
    )
    df = df.with_columns(rule.alias("rule"))
    key_dup = ~pl.struct("symbol_id", "action_type", "ex_date").is_first_distinct()
    ok = df.filter(pl.col("rule").is_null())
    ok = ok.with_columns(
        pl.when(key_dup).then(pl.lit("duplicate")).otherwise(pl.col("rule")).alias("rule")
    )
    out_cols = [
        "symbol_id",
        "action_type",
        "ex_date",
        "recorded_at",
        "ratio",
        "cash_amount",
        "metadata_json",
    ]
    valid = ok.filter(pl.col("rule").is_null()).select(out_cols).sort("symbol_id", "ex_date")
    q_cols = ["rule", "source_row", *ACTION_COLUMNS]
    quarantine = pl.concat(
        [df.filter(pl.col("rule").is_not_null()), ok.filter(pl.col("rule").is_not_null())]
    )
    quarantine = quarantine.with_columns(
        pl.col("ex_date").cast(pl.String), pl.lit(name).alias("source_file")
    )
    quarantine = quarantine.select(["rule", "source_file", *q_cols[1:]]).sort("source_row")
    return ValidationResult(valid=valid, quarantine=quarantine)
