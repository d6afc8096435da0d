"""Small raw files in the dev-contract format (docs/dev-contract.md), written by the tests."""

from __future__ import annotations

BAR_HEADER = "Ticker,Date,Time,Open,High,Low,Close,Volume"


def bars_csv(rows: list[tuple]) -> bytes:
    """CSV bytes of ``(ticker, date, time, o, h, l, c, v)`` rows with the vendor header."""
    lines = [BAR_HEADER] + [",".join(str(x) for x in r) for r in rows]
    return ("\n".join(lines) + "\n").encode()
