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


def _ts_columns(spec: FileSpec) -> list[str]:
    if spec.datetime_column is not None:
        return [spec.datetime_column]
    return [spec.date_column, spec.time_column]  # type: ignore[list-item]


def _convert(keys: pl.DataFrame, name: str, spec: FileSpec) -> pl.DataFrame:
    """``keys`` (timestamp column(s)) plus ``raw`` (text shown in errors), ``local``, ``utc``."""
    cols = _ts_columns(spec)
    if spec.datetime_column is not None:
        col = keys[spec.datetime_column]
        if col.dtype == pl.String:
            local = col.str.strptime(pl.Datetime("us"), spec.datetime_format, strict=False)
        elif isinstance(col.dtype, pl.Datetime):
            local = col
            if col.dtype.time_zone is not None:  # zoned: wall-clock time of the configured zone
                local = col.dt.convert_time_zone(spec.timezone).dt.replace_time_zone(None)
            local = local.cast(pl.Datetime("us"))
        else:
            raise IngestionError(
                name, f"column {spec.datetime_column!r} has dtype {col.dtype}, expected text"
            )
        raw = col.cast(pl.String)
    else:
        raw = keys.select(pl.concat_str(cols, separator=" ")).to_series()
        fmt = f"{spec.date_format} {spec.time_format}"
        local = raw.str.strptime(pl.Datetime("us"), fmt, strict=False)
    utc = local.dt.replace_time_zone(spec.timezone, ambiguous="null", non_existent="null")
    return keys.with_columns(
        raw.alias("_raw"),
        local.alias("local_datetime"),
        utc.dt.convert_time_zone("UTC").alias("datetime"),
    ).select([*cols, "_raw", "local_datetime", "datetime"])


def _first_row(df: pl.DataFrame, key: pl.DataFrame) -> int:
    return int(df.join(key, on=list(key.columns), how="semi", nulls_equal=True)["source_row"].min())


def _timestamps(df: pl.DataFrame, name: str, spec: FileSpec) -> pl.DataFrame:
    """``local_datetime`` and ``datetime`` (UTC) per row; raise naming the first bad row.

    Text timestamps repeat a lot in bar files (390 distinct times a day), so they are converted
    once per distinct value and joined back; near-unique ones (ticks) are converted directly.
    """
    cols = _ts_columns(spec)
    keys = df.select(cols)
    use = keys
    if all(keys.schema[c] == pl.String for c in cols):
        uniq = keys.unique()
        if uniq.height * 4 <= keys.height:
            use = uniq
    conv = _convert(use, name, spec)
    bad = conv.filter(pl.col("local_datetime").is_null())
    if bad.height:
        row = _first_row(df, bad.select(cols))
        value = df.filter(pl.col("source_row") == row).select(cols).row(0)
        text = " ".join(str(v) for v in value)
        raise IngestionError(name, f"cannot parse timestamp {text!r}", row=row)
    bad = conv.filter(pl.col("datetime").is_null())
    if bad.height:
        row = _first_row(df, bad.select(cols))
        local = conv.join(df.filter(pl.col("source_row") == row).select(cols), on=cols, how="semi")
        raise IngestionError(
            name,
            f"local time {local['local_datetime'][0]} is ambiguous or does not exist in "
            f"{spec.timezone} (daylight-saving change)",
            row=row,
        )
    if use is not keys:
        conv = keys.join(conv, on=cols, how="left", maintain_order="left")
    return conv.select("local_datetime", "datetime")


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
    ts = _timestamps(df, name, spec)
    df = df.rename(dict(spec.columns))
    df = df.with_columns(
        pl.lit(name, pl.String).alias("source_file"),
        _normalise_symbols(df["symbol"]),
        ts["local_datetime"],
        ts["datetime"],
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
