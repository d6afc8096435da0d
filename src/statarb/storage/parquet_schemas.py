"""Polars schemas and on-disk layouts of the columnar tier (storage spec §5, §7.1, §9.3).

Every time-series entity stored as Parquet has one :class:`Layout`: its exact Polars schema, which
columns are required or optional, its key (unique per row), its hive partition columns and its sort
order. ``SCHEMA_VERSION`` is written into every file's Parquet key-value metadata under
``statarb.schema_version`` (with ``statarb.layout`` = the layout name); readers accept the current
version and the previous one (spec §9.3 "support read path for at least N-1").

Schema evolution rule: a new ``SCHEMA_VERSION`` may only *add optional columns*. A file of version
N-1 therefore reads under the current schema with the missing optional columns as nulls. Renaming,
removing or re-typing a column needs a rewrite of the affected partitions (a migration), not a
reader shim.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from statarb.conventions import UTC_US

SCHEMA_VERSION: int = 2
"""Current columnar schema version, stored as ``statarb.schema_version`` in every file.

History: 1 = the spec §5 columns; 2 = bars and ticks gain the optional ``batch_id`` (Int64) of
versioned reprocessing (spec §9.3 "append with version or batch_id"; ``storage_batches``)."""

READABLE_SCHEMA_VERSIONS: frozenset[int] = frozenset({SCHEMA_VERSION, SCHEMA_VERSION - 1})
"""Versions the reader accepts: current and previous (spec §9.3, N-1)."""

META_SCHEMA_VERSION = "statarb.schema_version"
META_LAYOUT = "statarb.layout"
META_BATCHES = "statarb.batch_ids"
"""JSON list of the distinct ``batch_id`` values a file holds (``null`` = unversioned rows)."""
BATCH_COLUMN = "batch_id"


# ---- spec §5.1 bars --------------------------------------------------------------------------
BARS: pl.Schema = pl.Schema(
    {
        "symbol": pl.String,
        "datetime": UTC_US,
        "open": pl.Float64,
        "high": pl.Float64,
        "low": pl.Float64,
        "close": pl.Float64,
        "volume": pl.Float64,
        "adj_factor": pl.Float64,
        "outlier_flag": pl.Int8,
        "missing_filled": pl.Boolean,
        "batch_id": pl.Int64,
    }
)

# ---- spec §5.2 ticks -------------------------------------------------------------------------
TICKS: pl.Schema = pl.Schema(
    {
        "symbol": pl.String,
        "datetime": UTC_US,
        "price": pl.Float64,
        "size": pl.Float64,
        "side": pl.String,
        "exchange": pl.String,
        "batch_id": pl.Int64,
    }
)

# ---- spec §5.3 spread & alpha time series ----------------------------------------------------
SPREAD_SERIES: pl.Schema = pl.Schema(
    {
        "pair_id": pl.String,
        "datetime": UTC_US,
        "spread": pl.Float64,
        "beta": pl.Float64,
        "z_score": pl.Float64,
        "kalman_state": pl.String,
    }
)

# ---- spec §5.4 OU / threshold output ---------------------------------------------------------
OU_OUTPUT: pl.Schema = pl.Schema(
    {
        "pair_id": pl.String,
        "window_end": UTC_US,
        "theta": pl.Float64,
        "mu": pl.Float64,
        "sigma": pl.Float64,
        "entry_upper": pl.Float64,
        "entry_lower": pl.Float64,
        "exit_threshold": pl.Float64,
    }
)

# Hive partition column dtypes as they come back on load.
HIVE_DTYPES: dict[str, pl.DataType] = {
    "source": pl.String(),
    "date": pl.Date(),
    "pair_id": pl.String(),
}


@dataclass(frozen=True)
class Layout:
    """How one entity is stored: schema, key, partitioning and order.

    Attributes:
        name: Layout name (``bars``, ``ticks``, ``spread_series``, ``ou_output``); also the value
            of the ``statarb.layout`` file metadata and of the Kedro dataset's ``layout`` argument.
        schema: Exact Polars schema of a stored file (all columns, optional ones included).
        optional: Columns a written frame may omit; they are stored as typed nulls.
        key: Columns unique per row (spec §5 constraints). For bars/ticks the key is unique per
            ``source`` (two sources may both hold a bar for the same symbol and time).
        partition_by: Hive partition columns, outermost first. ``date`` is derived from the UTC
            calendar date of ``time_column``; ``source`` is given by the writer; ``pair_id`` is a
            schema column.
        sort_by: Row order inside every file.
        time_column: The column range filters (``start``/``end``) apply to.
        id_column: The entity column of the key (``symbol`` or ``pair_id``).
    """

    name: str
    schema: pl.Schema
    optional: frozenset[str]
    key: tuple[str, ...]
    partition_by: tuple[str, ...]
    sort_by: tuple[str, ...]
    time_column: str
    id_column: str

    @property
    def versioned(self) -> bool:
        """True when rows carry a ``batch_id`` (versioned reprocessing, schema version 2)."""
        return BATCH_COLUMN in self.schema

    @property
    def required(self) -> tuple[str, ...]:
        """Columns every written frame must carry, in schema order."""
        return tuple(c for c in self.schema.names() if c not in self.optional)

    @property
    def hive_only(self) -> tuple[str, ...]:
        """Partition columns that are not schema columns (they exist only as directory names)."""
        return tuple(c for c in self.partition_by if c not in self.schema)

    @property
    def hive_schema(self) -> dict[str, pl.DataType]:
        """Dtypes of the partition columns as parsed from directory names."""
        return {c: HIVE_DTYPES[c] for c in self.partition_by}

    @property
    def read_schema(self) -> pl.Schema:
        """Schema of a loaded frame: the file schema followed by the hive-only columns."""
        cols = dict(self.schema)
        for c in self.hive_only:
            cols[c] = HIVE_DTYPES[c]
        return pl.Schema(cols)


BARS_LAYOUT = Layout(
    name="bars",
    schema=BARS,
    optional=frozenset({"outlier_flag", "missing_filled", "batch_id"}),
    key=("symbol", "datetime"),
    partition_by=("source", "date"),
    sort_by=("symbol", "datetime"),
    time_column="datetime",
    id_column="symbol",
)

TICKS_LAYOUT = Layout(
    name="ticks",
    schema=TICKS,
    optional=frozenset({"side", "exchange", "batch_id"}),
    key=("symbol", "datetime"),
    partition_by=("source", "date"),
    sort_by=("symbol", "datetime"),
    time_column="datetime",
    id_column="symbol",
)

SPREAD_SERIES_LAYOUT = Layout(
    name="spread_series",
    schema=SPREAD_SERIES,
    optional=frozenset({"z_score", "kalman_state"}),
    key=("pair_id", "datetime"),
    partition_by=("pair_id",),
    sort_by=("pair_id", "datetime"),
    time_column="datetime",
    id_column="pair_id",
)

OU_OUTPUT_LAYOUT = Layout(
    name="ou_output",
    schema=OU_OUTPUT,
    optional=frozenset(),
    key=("pair_id", "window_end"),
    partition_by=("pair_id",),
    sort_by=("pair_id", "window_end"),
    time_column="window_end",
    id_column="pair_id",
)

LAYOUTS: dict[str, Layout] = {
    lay.name: lay for lay in (BARS_LAYOUT, TICKS_LAYOUT, SPREAD_SERIES_LAYOUT, OU_OUTPUT_LAYOUT)
}


def get_layout(layout: str | Layout) -> Layout:
    """Return the :class:`Layout` for a name (``bars``, ``ticks``, ``spread_series``,
    ``ou_output``) or pass a ``Layout`` through."""
    if isinstance(layout, Layout):
        return layout
    try:
        return LAYOUTS[layout]
    except KeyError:
        raise ValueError(
            f"unknown columnar layout {layout!r}; expected one of {sorted(LAYOUTS)}"
        ) from None
