"""Real daily index data shipped inside the ``arch`` package -> raw vendor-style files.

``arch==8.0.0`` (PyPI, K. Sheppard's ARCH toolbox) ships two real daily OHLCV files of US equity
indices, loaded here with :mod:`importlib.resources` (no network):

===========  ====================================  =========================
ticker       file in the package                   index
===========  ====================================  =========================
``SPX``      ``arch/data/sp500/sp500.csv.gz``      S&P 500
``IXIC``     ``arch/data/nasdaq/nasdaq.csv.gz``    NASDAQ Composite
===========  ====================================  =========================

Vendor layout: ``Date,Open,High,Low,Close,Adj Close,Volume`` with US dates ``M/D/YYYY`` (one row
per NYSE trading day, 1999-01-04 .. 2018-12-31, 5,031 rows each, identical calendars).

:func:`raw_bar_files` turns them into the dev-contract raw bar layout
(``Ticker,Date,Time,Open,High,Low,Close,Volume``; ``Date`` ISO, ``Time`` = the exchange-local bar
**open** time 09:30:00 America/New_York), one file per calendar year named
``ARCH_bars_<YYYY>.csv`` so that file-name order is delivery order (docs/ingestion.md). The
ingestion source ``arch_daily`` (``conf/arch_daily/parameters_ingestion.yml``) reads them and
converts the local open time to UTC (14:30 UTC in winter, 13:30 UTC in summer). Index levels have
no corporate actions, so ``corporate_actions.csv`` is written with its header only; a file whose
``Adj Close`` differs from ``Close`` is refused, because it would need corporate actions.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

SESSION_OPEN = "09:30:00"
FILE_PREFIX = "ARCH"
VENDOR_COLUMNS = ("Date", "Open", "High", "Low", "Close", "Adj Close", "Volume")
PRICE_COLUMNS = ("Open", "High", "Low", "Close", "Adj Close")
RAW_BAR_COLUMNS = ("Ticker", "Date", "Time", "Open", "High", "Low", "Close", "Volume")
SYMBOL_FILE_COLUMNS = ("ticker", "name", "asset_class", "exchange", "currency", "sector")
ACTION_FILE_COLUMNS = ("ticker", "action", "ex_date", "ratio", "cash_amount", "note")
STALE_TICKS_PLACEHOLDER = f"{FILE_PREFIX}_ticks_none.parquet"  # written by earlier versions
ADJ_CLOSE_RTOL = 1e-12


class ArchDataError(ValueError):
    """A packaged file is missing or violates a rule; the message names file, row and rule."""


@dataclass(frozen=True)
class ArchSeries:
    """One daily series of the ``arch`` package and the symbol it becomes."""

    ticker: str
    package: str  # sub-package of arch.data holding the file
    filename: str
    name: str
    exchange: str  # symbols.exchange: the index provider (no venue lists an index level)

    @property
    def resource(self) -> str:
        """Path of the file inside the installed ``arch`` package (used in messages)."""
        return f"arch/data/{self.package}/{self.filename}"


ARCH_SERIES: tuple[ArchSeries, ...] = (
    ArchSeries("IXIC", "nasdaq", "nasdaq.csv.gz", "NASDAQ Composite Index", "XNAS"),
    ArchSeries("SPX", "sp500", "sp500.csv.gz", "S&P 500 Index", "SPDJI"),
)


def arch_available() -> bool:
    """True if the ``arch`` package (which holds the data files) is importable."""
    return importlib.util.find_spec("arch") is not None


def series_by_ticker(tickers: Sequence[str] | None = None) -> list[ArchSeries]:
    """The :data:`ARCH_SERIES` entries for ``tickers`` (all if ``None``), in the given order."""
    known = {s.ticker: s for s in ARCH_SERIES}
    if tickers is None:
        return list(ARCH_SERIES)
    unknown = [t for t in tickers if t.upper() not in known]
    if unknown:
        raise ArchDataError(f"unknown arch ticker(s) {unknown}; known: {sorted(known)}")
    return [known[t.upper()] for t in tickers]


def read_packaged_bytes(series: ArchSeries) -> bytes:
    """The (gzip-compressed) bytes of ``series`` from the installed ``arch`` package."""
    if not arch_available():
        raise ArchDataError(
            f"{series.resource}: package 'arch' is not installed (pip install arch==8.0.0)"
        )
    res = importlib.resources.files(f"arch.data.{series.package}").joinpath(series.filename)
    if not res.is_file():
        raise ArchDataError(f"{series.resource}: file not found in the installed arch package")
    return res.read_bytes()


def _fail(name: str, row: int, rule: str, detail: str) -> ArchDataError:
    return ArchDataError(f"{name}, row {row}: rule {rule}: {detail}")


def parse_vendor_daily(data: bytes, name: str, ticker: str) -> pl.DataFrame:
    """Parse one vendor file (CSV, optionally gzip-compressed) strictly.

    Returns ``symbol, date (Date), open, high, low, close, adj_close, volume`` (Float64 values),
    one row per trading day in file order. Rows are 1-based data rows (header excluded).

    Raises:
        ArchDataError: missing column; ``Date`` not ``M/D/YYYY``; non-numeric, non-finite or
            non-positive price; negative volume; dates not strictly increasing; ``Adj Close``
            different from ``Close`` (an index level has no corporate actions).
    """
    try:
        raw = pl.read_csv(data, infer_schema=False)
    except Exception as exc:
        raise ArchDataError(f"{name}: cannot parse csv: {str(exc).splitlines()[0]}") from exc
    missing = [c for c in VENDOR_COLUMNS if c not in raw.columns]
    if missing:
        raise ArchDataError(f"{name}: missing column(s) {missing}; file has {raw.columns}")
    df = raw.select(VENDOR_COLUMNS).with_row_index("row", offset=1)
    parsed = df.select(
        "row",
        pl.col("Date"),
        pl.col("Date").str.strptime(pl.Date, "%m/%d/%Y", strict=False).alias("date"),
        *[
            pl.col(c).str.strip_chars().cast(pl.Float64, strict=False).alias(c)
            for c in (*PRICE_COLUMNS, "Volume")
        ],
    )
    bad = parsed.filter(pl.col("date").is_null())
    if bad.height:
        r = bad.row(0, named=True)
        raise _fail(name, r["row"], "date_format", f"Date {r['Date']!r} is not M/D/YYYY")
    for col in (*PRICE_COLUMNS, "Volume"):
        bad = parsed.filter(pl.col(col).is_null() | ~pl.col(col).is_finite())
        if bad.height:
            row = int(bad["row"][0])
            text = df.filter(pl.col("row") == row)[col][0]
            raise _fail(name, row, "non_numeric", f"{col} {text!r} is not a finite number")
    bad = parsed.filter(pl.any_horizontal(pl.col(c) <= 0 for c in PRICE_COLUMNS))
    if bad.height:
        raise _fail(name, int(bad["row"][0]), "non_positive_price", "an index level is <= 0")
    bad = parsed.filter(pl.col("Volume") < 0)
    if bad.height:
        raise _fail(name, int(bad["row"][0]), "negative_volume", "Volume < 0")
    bad = parsed.filter(pl.col("date") <= pl.col("date").shift(1))
    if bad.height:
        r = bad.row(0, named=True)
        raise _fail(name, r["row"], "non_increasing_date", f"{r['date']} not after the row above")
    diff = (pl.col("Adj Close") - pl.col("Close")).abs() > ADJ_CLOSE_RTOL * pl.col("Close")
    bad = parsed.filter(diff)
    if bad.height:
        r = bad.row(0, named=True)
        raise _fail(
            name,
            r["row"],
            "adj_close_differs",
            f"Adj Close {r['Adj Close']} != Close {r['Close']}: the series would need corporate "
            "actions, which this adapter does not derive",
        )
    return parsed.select(
        pl.lit(ticker, pl.String).alias("symbol"),
        "date",
        pl.col("Open").alias("open"),
        pl.col("High").alias("high"),
        pl.col("Low").alias("low"),
        pl.col("Close").alias("close"),
        pl.col("Adj Close").alias("adj_close"),
        pl.col("Volume").alias("volume"),
    )


def load_arch_daily(
    tickers: Sequence[str] | None = None, start: date | None = None, end: date | None = None
) -> pl.DataFrame:
    """Long frame of the packaged daily bars (:func:`parse_vendor_daily` columns), sorted by
    ``symbol, date``, restricted to ``start <= date <= end`` (inclusive, either optional)."""
    frames = []
    for s in series_by_ticker(tickers):
        frames.append(parse_vendor_daily(read_packaged_bytes(s), s.resource, s.ticker))
    out = pl.concat(frames)
    if start is not None:
        out = out.filter(pl.col("date") >= start)
    if end is not None:
        out = out.filter(pl.col("date") <= end)
    if out.height == 0:
        raise ArchDataError(f"no arch bars between {start} and {end}")
    return out.sort("symbol", "date")


def calendar_mismatch(bars: pl.DataFrame) -> pl.DataFrame:
    """Dates on which some but not all symbols have a bar: ``date, present`` (list of symbols)."""
    n = bars["symbol"].n_unique()
    return (
        bars.group_by("date")
        .agg(pl.col("symbol").sort().alias("present"))
        .filter(pl.col("present").list.len() < n)
        .sort("date")
    )


def raw_bar_files(bars: pl.DataFrame, prefix: str = FILE_PREFIX) -> dict[str, bytes]:
    """Dev-contract raw bar CSVs, one per calendar year: ``{prefix}_bars_<YYYY>.csv`` -> bytes.

    Rows are sorted by date then ticker; ``Time`` is the session open 09:30:00 (exchange local),
    prices are written with the shortest text that round-trips the Float64 value.
    """
    out = bars.sort("date", "symbol").select(
        pl.col("symbol").alias("Ticker"),
        pl.col("date").dt.strftime("%Y-%m-%d").alias("Date"),
        pl.lit(SESSION_OPEN).alias("Time"),
        pl.col("open").alias("Open"),
        pl.col("high").alias("High"),
        pl.col("low").alias("Low"),
        pl.col("close").alias("Close"),
        pl.col("volume").alias("Volume"),
        pl.col("date").dt.year().alias("_year"),
    )
    files = {}
    for (year,), part in out.partition_by("_year", as_dict=True, maintain_order=True).items():
        files[f"{prefix}_bars_{year}.csv"] = part.select(RAW_BAR_COLUMNS).write_csv().encode()
    return files


def symbols_file(tickers: Sequence[str] | None = None) -> bytes:
    """``symbols.csv`` (dev-contract columns) for the chosen series: asset class ``index``."""
    rows = [
        (s.ticker, s.name, "index", s.exchange, "USD", "US Equity Index")
        for s in series_by_ticker(tickers)
    ]
    return pl.DataFrame(rows, schema=list(SYMBOL_FILE_COLUMNS), orient="row").write_csv().encode()


def corporate_actions_file() -> bytes:
    """``corporate_actions.csv`` with its header only (index levels have no corporate actions)."""
    return (",".join(ACTION_FILE_COLUMNS) + "\n").encode()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_raw_dataset(
    out: str | Path,
    tickers: Sequence[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    prefix: str = FILE_PREFIX,
) -> dict[str, Any]:
    """Write ``symbols.csv``, ``corporate_actions.csv`` and ``bars/<prefix>_bars_<YYYY>.csv`` under
    ``out`` (each file replaced atomically; the data set has no ticks). Bar files of an earlier run that this run does not
    produce (e.g. a narrower ``start``/``end``) are removed, so ingestion never reads stale years.

    Returns a summary: ``files`` (paths written), ``removed``, ``rows`` per symbol, ``first`` and
    ``last`` date, ``calendar_mismatch`` (dates not shared by all symbols, as ISO strings).

    Raises:
        ArchDataError: ``arch`` not installed, a packaged file breaks a rule, or no bars in range.
    """
    bars = load_arch_daily(tickers, start, end)
    root = Path(out)
    bar_dir = root / "bars"
    bar_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in (
        ("symbols.csv", symbols_file(tickers)),
        ("corporate_actions.csv", corporate_actions_file()),
    ):
        _write_atomic(root / name, data)
        written.append(root / name)
    # no ticks in this data set: ingestion treats raw ticks as optional (no placeholder file)
    stale = root / "ticks" / STALE_TICKS_PLACEHOLDER
    if stale.exists():
        stale.unlink()
    files = raw_bar_files(bars, prefix)
    removed = []
    for old in sorted(bar_dir.glob(f"{prefix}_bars_*.csv")):
        if old.name not in files:
            old.unlink()
            removed.append(old)
    for name, data in files.items():
        _write_atomic(bar_dir / name, data)
        written.append(bar_dir / name)
    counts = bars.group_by("symbol").len().sort("symbol")
    return {
        "files": written,
        "removed": removed,
        "rows": dict(counts.iter_rows()),
        "first": bars["date"].min(),
        "last": bars["date"].max(),
        "calendar_mismatch": [d.isoformat() for d in calendar_mismatch(bars)["date"].to_list()],
    }
