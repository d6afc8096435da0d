"""Small raw files in the dev-contract format (docs/dev-contract.md), written by the tests."""

from __future__ import annotations

BAR_HEADER = "Ticker,Date,Time,Open,High,Low,Close,Volume"


def bars_csv(rows: list[tuple]) -> bytes:
    """CSV bytes of ``(ticker, date, time, o, h, l, c, v)`` rows with the vendor header."""
    lines = [BAR_HEADER] + [",".join(str(x) for x in r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


#: dtypes of a Parquet bar file of the dev-contract vendor: the CSV's text columns as text
PARQUET_BAR_SCHEMA = {
    "Ticker": "String",
    "Date": "String",
    "Time": "String",
    "Open": "Float64",
    "High": "Float64",
    "Low": "Float64",
    "Close": "Float64",
    "Volume": "Int64",
}


def csv_day_to_parquet(data: bytes) -> bytes:
    """The Parquet twin of a CSV bar file: same columns and rows, ``Ticker``/``Date``/``Time``
    exactly the CSV text, prices Float64 and volume Int64 (read as the CSV reader reads them)."""
    import io

    import polars as pl

    schema = {c: getattr(pl, t) for c, t in PARQUET_BAR_SCHEMA.items()}
    frame = pl.read_csv(io.BytesIO(data), schema_overrides=schema, infer_schema=False)
    buf = io.BytesIO()
    frame.write_parquet(buf)
    return buf.getvalue()
