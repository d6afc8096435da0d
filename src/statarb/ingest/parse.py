"""Parse one vendor file (CSV or Parquet bytes) into a typed Polars frame with UTC timestamps.

Output columns: ``source_file`` (String), ``source_row`` (Int64, 1-based data row),
``symbol`` (stripped, ASCII upper-cased: :mod:`statarb.ingest.identifiers`), ``local_datetime`` (naive exchange-local), ``datetime``
(``Datetime("us", "UTC")``), then the value fields of the kind (bars: open, high, low, close,
volume; ticks: price, size, side, exchange), all Float64 except side/exchange (String).

Local -> UTC follows spec §9.2 (the result of ``replace_time_zone(tz)`` then
``convert_time_zone("UTC")``, computed per local clock hour by :func:`local_to_utc`); a
wall-clock time that is ambiguous (autumn DST fold) or does not exist (spring gap) is an
:class:`IngestionError` naming the file and the row.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping

import polars as pl

from statarb.conventions import UTC_US

from .config import FileSpec
from .errors import IngestionError
from .identifiers import normalise_series

BAR_VALUES = ("open", "high", "low", "close", "volume")
TICK_VALUES = ("price", "size")
TICK_TEXT = ("side", "exchange")


def output_schema(kind: str) -> dict[str, pl.DataType]:
    """Schema of :func:`parse_file` output for ``kind`` (``bars`` or ``ticks``)."""
    schema: dict[str, pl.DataType] = {
        "source_file": pl.String(),
        "source_row": pl.Int64(),
        "symbol": pl.String(),
        "local_datetime": pl.Datetime("us"),
        "datetime": UTC_US,
    }
    if kind == "bars":
        schema |= {c: pl.Float64() for c in BAR_VALUES}
    else:
        schema |= {c: pl.Float64() for c in TICK_VALUES}
        schema |= {c: pl.String() for c in TICK_TEXT}
    return schema


def _read_raw(data: bytes, name: str, spec: FileSpec) -> pl.DataFrame:
    """Read the needed vendor columns with the right dtypes, or raise naming the file (and the
    row of the first value that is not a number)."""
    numeric = [src for src, dst in spec.columns.items() if dst in BAR_VALUES + TICK_VALUES]
    fmt = spec.file_format(name)
    try:
        if fmt == "csv":
            sep = spec.csv_separator or ","
            header = pl.read_csv(data, n_rows=0, separator=sep).columns
            _check_columns(header, name, spec)
            text_cols = [c for c in spec.source_columns if c not in numeric]
            overrides = {c: pl.Float64 for c in numeric} | {c: pl.String for c in text_cols}
            read = {"columns": spec.source_columns, "separator": sep, "infer_schema": False}
            try:
                return pl.read_csv(data, schema_overrides=overrides, **read)
            except pl.exceptions.ComputeError:
                # a value is not a number: read as text to name its row (the slow path)
                text = pl.read_csv(
                    data, schema_overrides=dict.fromkeys(overrides, pl.String), **read
                )
                return _to_float(text, numeric, name)
        df = pl.read_parquet(io.BytesIO(data))
        _check_columns(df.columns, name, spec)
        return _to_float(df.select(spec.source_columns), numeric, name)
    except IngestionError:
        raise
    except Exception as exc:  # polars/pyarrow parse errors: name the file and the reason
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise IngestionError(
            name, f"cannot parse {fmt} file: {reason}", rule="unreadable_file"
        ) from exc


def _to_float(df: pl.DataFrame, numeric: list[str], name: str) -> pl.DataFrame:
    """Cast the ``numeric`` columns to Float64; raise naming the first value that is no number.

    Text is trimmed first (``" 10.5"`` is 10.5); empty text is null (a missing value, for the
    validation rules to quarantine); ``NaN``/``inf`` are numbers (non-finite, quarantined too).
    """
    out = []
    for c in numeric:
        col = df[c]
        if col.dtype == pl.String:
            col = col.str.strip_chars()
            col = pl.select(pl.when(col != "").then(col)).to_series().alias(c)
        if col.dtype == pl.Float64:
            out.append(col)
            continue
        cast = col.cast(pl.Float64, strict=False)
        bad = cast.is_null() & col.is_not_null()
        if bad.any():
            i = int(bad.arg_true()[0])
            raise IngestionError(
                name,
                f"{c} value {col[i]!r} is not a number",
                row=i + 1,
                rule="non_numeric_value",
            )
        out.append(cast)
    return df.with_columns(out)


def _check_columns(present: list[str], name: str, spec: FileSpec) -> None:
    missing = [c for c in spec.source_columns if c not in present]
    if missing:
        raise IngestionError(
            name, f"missing column(s) {missing}; file has {present}", rule="missing_column"
        )


def _ts_columns(spec: FileSpec) -> list[str]:
    if spec.datetime_column is not None:
        return [spec.datetime_column]
    return [spec.date_column, spec.time_column]  # type: ignore[list-item]


HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
MAX_TABLE_HOURS = 2_000_000  # about 228 years of hours: beyond that convert row by row


def _zone_convert(local_us: pl.Series, tz: str) -> pl.Series:
    """Int64 UTC microseconds of naive local Int64 microseconds; null if ambiguous/non-existent."""
    return (
        local_us.cast(pl.Datetime("us"))
        .dt.replace_time_zone(tz, ambiguous="null", non_existent="null")
        .dt.convert_time_zone("UTC")
        .cast(pl.Int64)
    )


def local_to_utc(local: pl.Series, tz: str) -> pl.Series:
    """UTC time of naive wall-clock times ``local`` in zone ``tz`` (spec §9.2).

    Same result as ``local.dt.replace_time_zone(tz, ambiguous="null", non_existent="null")
    .dt.convert_time_zone("UTC")``: a time in a daylight-saving fold or gap is null. Computed with
    one UTC offset per local clock hour: an hour whose first and last microsecond have the same
    valid offset has that offset throughout (tz database transitions are hours apart), so its
    rows are shifted with one integer subtraction; the rows of any other hour (the hour of a
    transition) are converted one by one. Polars' per-row zone conversion is the slow step this
    avoids.
    """
    phys = local.cast(pl.Datetime("us")).cast(pl.Int64)
    hour = phys // HOUR_US
    lo, hi = hour.min(), hour.max()
    if lo is None or hi - lo >= MAX_TABLE_HOURS:  # type: ignore[operator]
        out = _zone_convert(phys, tz)
    else:
        starts = pl.int_range(lo, hi + 1, eager=True, dtype=pl.Int64) * HOUR_US  # type: ignore[operator]
        off_start = starts - _zone_convert(starts, tz)
        off_end = (starts + (HOUR_US - 1)) - _zone_convert(starts + (HOUR_US - 1), tz)
        table = pl.select(
            pl.when(off_start == off_end).then(off_start).otherwise(None)
        ).to_series()  # null: a transition (or fold/gap) in that hour
        out = phys - table.gather(hour - lo)
        todo = out.is_null() & phys.is_not_null()
        if todo.any():
            idx = todo.arg_true()
            out = out.scatter(idx, _zone_convert(phys.gather(idx), tz))
    return out.cast(UTC_US).alias(local.name)


def _local_times(df: pl.DataFrame, spec: FileSpec, name: str) -> pl.Series:
    """Naive exchange-local datetime per row (null: unparseable)."""
    if spec.datetime_column is not None:
        col = df[spec.datetime_column]
        if col.dtype == pl.String:
            return col.str.strptime(pl.Datetime("us"), spec.datetime_format, strict=False)
        if isinstance(col.dtype, pl.Datetime):
            local = col
            if col.dtype.time_zone is not None:  # zoned: wall-clock time of the configured zone
                local = col.dt.convert_time_zone(spec.timezone).dt.replace_time_zone(None)
            return local.cast(pl.Datetime("us"))
        raise IngestionError(
            name,
            f"column {spec.datetime_column!r} has dtype {col.dtype}, expected text",
            rule="unexpected_dtype",
        )
    # each part with its own format, combined on the physical values (microseconds since the
    # epoch = days * 86_400_000_000 + nanoseconds since midnight // 1000): cheaper than parsing
    # the concatenated text or Polars' dt.combine
    day = df[spec.date_column].str.strptime(pl.Date, spec.date_format, strict=False)
    clock = df[spec.time_column].str.strptime(pl.Time, spec.time_format, strict=False)
    us = day.cast(pl.Int32).cast(pl.Int64) * DAY_US + clock.cast(pl.Int64) // 1000
    return us.cast(pl.Datetime("us"))


def _timestamps(df: pl.DataFrame, spec: FileSpec) -> tuple[pl.Series, pl.Series]:
    """``local_datetime`` and ``datetime`` (UTC) per row of ``df`` (which carries ``source_file``
    and ``source_row``); raise naming the file and row of the first bad timestamp."""
    name = df["source_file"][0] if df.height else "?"
    local = _local_times(df, spec, name)
    bad = local.is_null()
    if bad.any():
        i = bad.arg_true()[0]
        text = " ".join(str(df[c][i]) for c in _ts_columns(spec))
        raise IngestionError(
            df["source_file"][i],
            f"cannot parse timestamp {text!r}",
            row=df["source_row"][i],
            rule="unparseable_timestamp",
        )
    utc = local_to_utc(local, spec.timezone)
    bad = utc.is_null()
    if bad.any():
        i = bad.arg_true()[0]
        raise IngestionError(
            df["source_file"][i],
            f"local time {local[i]} is ambiguous or does not exist in "
            f"{spec.timezone} (daylight-saving change)",
            row=df["source_row"][i],
            rule="dst_transition_time",
        )
    return local.alias("local_datetime"), utc.alias("datetime")


def _read_file(data: bytes, name: str, spec: FileSpec) -> pl.DataFrame:
    """Vendor columns of one file plus ``source_file`` and ``source_row`` (1-based)."""
    df = _read_raw(data, name, spec).with_row_index("source_row", offset=1)
    return df.with_columns(
        pl.col("source_row").cast(pl.Int64), pl.lit(name, pl.String).alias("source_file")
    )


def _finish(df: pl.DataFrame, spec: FileSpec) -> pl.DataFrame:
    """Raw rows (of one or several files, see :func:`_read_file`) -> the typed output frame."""
    local, utc = _timestamps(df, spec)
    df = df.rename(dict(spec.columns))
    df = df.with_columns(normalise_series(df["symbol"]), local, utc)
    if spec.kind == "ticks":
        extra = []
        for c in TICK_TEXT:
            if c not in df.columns:
                extra.append(pl.lit(None, pl.String).alias(c))
        df = df.with_columns(extra)
        if spec.side_map:
            df = df.with_columns(
                pl.col("side").replace_strict(
                    dict(spec.side_map), default=None, return_dtype=pl.String
                )
            )
    schema = output_schema(spec.kind)
    return df.select(pl.col(c).cast(dt) for c, dt in schema.items())


def parse_file(data: bytes, name: str, spec: FileSpec) -> pl.DataFrame:
    """Parse one raw file's bytes into the typed frame described in the module docstring.

    Raises:
        IngestionError: the file cannot be parsed, lacks a column, has an unparseable
            timestamp, or a local time that is ambiguous/non-existent in ``spec.timezone``.
    """
    return _finish(_read_file(data, name, spec), spec)


def parse_partitions(
    partitions: Mapping[str, Callable[[], bytes] | bytes], spec: FileSpec
) -> pl.DataFrame:
    """Parse every partition (file name -> bytes or loader) in file-name order and concatenate.

    File names sort chronologically for the dev-contract naming (``..._YYYYMMDD.ext``), so the
    concatenation is in delivery order, which the ordering rule of validation relies on. The
    files are read one by one and converted (timestamps, symbols) together, so per-file overhead
    is paid once; files whose raw column types differ (Parquet) are converted one by one.
    Errors name the file and row as :func:`parse_file` does.
    """
    frames = []
    for name in sorted(partitions):
        item = partitions[name]
        data = item() if callable(item) else item
        frames.append(_read_file(data, name, spec))
    if not frames:
        return pl.DataFrame(schema=output_schema(spec.kind))
    if all(f.schema == frames[0].schema for f in frames):
        return _finish(pl.concat(frames, how="vertical"), spec)
    return pl.concat([_finish(f, spec) for f in frames], how="vertical")
