"""Optional missing-bar fill within sessions (spec §5.1 note on ``missing_filled``).

Per symbol and exchange-local session, the bar grid runs from the symbol's first to its last bar
of that session in steps of ``every``; a missing grid point gets ``open = high = low = close`` =
the previous bar's close (forward fill), ``volume = 0`` and ``missing_filled = True``. Nothing is
filled before a symbol's first bar or after its last bar of a session, and never across sessions
(no overnight carry). Existing bars get ``missing_filled = False``.
"""

from __future__ import annotations

import polars as pl

from .adjust import session_date


def fill_missing_bars(
    bars: pl.DataFrame, every: str = "1m", tz: str = "America/New_York"
) -> pl.DataFrame:
    """Return ``bars`` plus forward-filled missing bars and the Boolean ``missing_filled``."""
    cols = bars.columns
    df = bars.with_columns(session_date(tz)).sort("symbol", "session_date", "datetime")
    up = df.upsample(
        "datetime", every=every, group_by=["symbol", "session_date"], maintain_order=True
    )
    filled = pl.col("close").is_null()
    carry = [
        c for c in cols if c not in ("symbol", "datetime", "open", "high", "low", "close", "volume")
    ]
    prev_close = pl.col("close").forward_fill()
    up = up.with_columns(filled.alias("missing_filled")).with_columns(
        *[pl.col(c).forward_fill() for c in carry if c != "outlier_flag"],
        *[
            pl.when(pl.col("missing_filled")).then(prev_close).otherwise(pl.col(c)).alias(c)
            for c in ("open", "high", "low", "close")
        ],
        pl.col("volume").fill_null(0.0),
        *([pl.col("outlier_flag").fill_null(0)] if "outlier_flag" in cols else []),
    )
    return up.select([*cols, "missing_filled"]).sort("symbol", "datetime")
