"""Parse one vendor file (CSV or Parquet bytes) into a typed Polars frame with UTC timestamps.

Output columns: ``source_file`` (String), ``source_row`` (Int64, 1-based data row),
``symbol`` (upper case), ``local_datetime`` (naive exchange-local), ``datetime``
(``Datetime("us", "UTC")``), then the value fields of the kind (bars: open, high, low, close,
volume; ticks: price, size, side, exchange), all Float64 except side/exchange (String).

Local -> UTC follows spec §9.2: ``replace_time_zone(tz)`` then ``convert_time_zone("UTC")``;
a wall-clock time that is ambiguous (autumn DST fold) or does not exist (spring gap) is an
:class:`IngestionError` naming the file and the row.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping

import polars as pl

from .config import FileSpec
from .errors import IngestionError

UTC_US = pl.Datetime("us", "UTC")
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
    """Read the needed vendor columns with the right dtypes, or raise naming the file."""
    numeric = {src for src, dst in spec.columns.items() if dst in BAR_VALUES + TICK_VALUES}
    try:
        if spec.format == "csv":
            header = pl.read_csv(data, n_rows=0, separator=spec.csv_separator).columns
            _check_columns(header, name, spec)
            text_cols = [c for c in spec.source_columns if c not in numeric]
            overrides = {c: pl.Float64 for c in numeric} | {c: pl.String for c in text_cols}
            return pl.read_csv(
                data,
                columns=spec.source_columns,
                schema_overrides=overrides,
                separator=spec.csv_separator,
                infer_schema=False,
            )
        df = pl.read_parquet(io.BytesIO(data))
        _check_columns(df.columns, name, spec)
        df = df.select(spec.source_columns)
        return df.with_columns(pl.col(c).cast(pl.Float64, strict=True) for c in numeric)
    except IngestionError:
        raise
    except Exception as exc:  # polars/pyarrow parse errors: name the file and the reason
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise IngestionError(name, f"cannot parse {spec.format} file: {reason}") from exc


def _check_columns(present: list[str], name: str, spec: FileSpec) -> None:
    missing = [c for c in spec.source_columns if c not in present]
    if missing:
        raise IngestionError(name, f"missing column(s) {missing}; file has {present}")


def _first_bad_row(df: pl.DataFrame, mask: pl.Series) -> int:
    return int(df.filter(mask)["source_row"][0])


def _naive_timestamp(df: pl.DataFrame, name: str, spec: FileSpec) -> pl.Series:
    """Naive local timestamp (µs) from the configured column(s); raise on the first bad row."""
    if spec.datetime_column is not None:
        col = df[spec.datetime_column]
        if col.dtype == pl.String:
            ts = col.str.strptime(pl.Datetime("us"), spec.datetime_format, strict=False)
            raw = col
        elif isinstance(col.dtype, pl.Datetime):
            if col.dtype.time_zone is not None:
                # already zoned: express it as wall-clock time of the configured zone
                ts = col.dt.convert_time_zone(spec.timezone).dt.replace_time_zone(None)
            else:
                ts = col
            ts, raw = ts.cast(pl.Datetime("us")), col
        else:
            raise IngestionError(
                name, f"column {spec.datetime_column!r} has dtype {col.dtype}, expected text"
            )
    else:
        d, t = df[spec.date_column], df[spec.time_column]
        raw = pl.concat_str([d, t], separator=" ", ignore_nulls=False)
        raw = df.select(raw.alias("raw")).to_series()
        fmt = f"{spec.date_format} {spec.time_format}"
        ts = raw.str.strptime(pl.Datetime("us"), fmt, strict=False)
    bad = ts.is_null()
    if bad.any():
        row = _first_bad_row(df, bad)
        value = raw.filter(bad)[0]
        raise IngestionError(name, f"cannot parse timestamp {value!r}", row=row)
    return ts.alias("local_datetime")


def _normalise_symbols(symbol: pl.Series) -> pl.Series:
    """Strip and upper-case tickers, computed on the distinct values only (few per file)."""
    uniq = symbol.unique().drop_nulls()
    norm = uniq.str.strip_chars().str.to_uppercase()
    changed = uniq != norm
    if not changed.any():
        return symbol
    return symbol.replace(uniq.filter(changed), norm.filter(changed))


def parse_file(data: bytes, name: str, spec: FileSpec) -> pl.DataFrame:
    """Parse one raw file's bytes into the typed frame described in the module docstring.

    Raises:
        IngestionError: the file cannot be parsed, lacks a column, has an unparseable
            timestamp, or a local time that is ambiguous/non-existent in ``spec.timezone``.
    """
    df = _read_raw(data, name, spec).with_row_index("source_row", offset=1)
    df = df.with_columns(pl.col("source_row").cast(pl.Int64))
    local = _naive_timestamp(df, name, spec)
    utc = local.dt.replace_time_zone(spec.timezone, ambiguous="null", non_existent="null")
    bad = utc.is_null()
    if bad.any():
        row = _first_bad_row(df, bad)
        raise IngestionError(
            name,
            f"local time {local.filter(bad)[0]} is ambiguous or does not exist in "
            f"{spec.timezone} (daylight-saving change)",
            row=row,
        )
    df = df.rename(dict(spec.columns))
    df = df.with_columns(
        pl.lit(name, pl.String).alias("source_file"),
        _normalise_symbols(df["symbol"]),
        local,
        utc.dt.convert_time_zone("UTC").alias("datetime"),
    )
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


def parse_partitions(
    partitions: Mapping[str, Callable[[], bytes] | bytes], spec: FileSpec
) -> pl.DataFrame:
    """Parse every partition (file name -> bytes or loader) in file-name order and concatenate.

    File names sort chronologically for the dev-contract naming (``..._YYYYMMDD.ext``), so the
    concatenation is in delivery order, which the ordering rule of validation relies on.
    """
    frames = []
    for name in sorted(partitions):
        item = partitions[name]
        data = item() if callable(item) else item
        frames.append(parse_file(data, name, spec))
    if not frames:
        return pl.DataFrame(schema=output_schema(spec.kind))
    return pl.concat(frames, how="vertical")
