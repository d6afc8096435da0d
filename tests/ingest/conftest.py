"""Fixtures: the dev-contract source specs for bars and ticks."""

from __future__ import annotations

import pytest

from statarb.ingest import FileSpec


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
            "columns": {
                "sym": "symbol",
                "px": "price",
                "qty": "size",
                "side": "side",
                "venue": "exchange",
            },
            "datetime_column": "ts",
            "datetime_format": "%Y-%m-%d %H:%M:%S%.f",
            "timezone": "America/New_York",
            "side_map": {"B": "buy", "S": "sell"},
        },
    )
