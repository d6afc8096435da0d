"""Helpers that write small raw files in the dev-contract format (docs/dev-contract.md)."""

from __future__ import annotations

import pytest

from statarb.ingest import FileSpec

BAR_HEADER = "Ticker,Date,Time,Open,High,Low,Close,Volume"


def bars_csv(rows: list[tuple]) -> bytes:
    """CSV bytes of ``(ticker, date, time, o, h, l, c, v)`` rows with the vendor header."""
    lines = [BAR_HEADER] + [",".join(str(x) for x in r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def bar_spec() -> FileSpec:
    return FileSpec.from_params(
        "bars",
        {
            "format": "csv",
            "columns": {
                "Ticker": "symbol",
                "Open": "open",
                "High": "high",
                "Low": "low",
                "Close": "close",
                "Volume": "volume",
            },
            "date_column": "Date",
            "time_column": "Time",
            "timezone": "America/New_York",
        },
    )


@pytest.fixture
def tick_spec() -> FileSpec:
    return FileSpec.from_params(
        "ticks",
        {
            "format": "parquet",
            "columns": {"sym": "symbol", "px": "price", "qty": "size", "side": "side", "venue": "exchange"},
            "datetime_column": "ts",
            "datetime_format": "%Y-%m-%d %H:%M:%S%.f",
            "timezone": "America/New_York",
            "side_map": {"B": "buy", "S": "sell"},
        },
    )
