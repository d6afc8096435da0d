"""A read-only DuckDB session over the whole store: columnar views plus the relational tables
(spec §2, §10, §9.5).

* Where things are: the project's Kedro configuration (:mod:`statarb.storage.resolver`): one
  view per columnar catalog entry (``bars``, ``bars_adjusted``, ``ticks``, ``tick_bars``,
  ``spread_series``, ``ou_output``, whatever the catalog of ``--env`` declares, on either tier)
  and the database of its ``db`` credentials.
* Columnar tier: a Parquet entry is a pyarrow dataset over its partition files (checked for
  schema version N or N-1; hive columns ``source``/``date`` typed; columns an N-1 file lacks are
  null) registered with DuckDB, which scans it with filter and projection pushdown; when some
  partition holds several batches the view shows each (symbol, day) slice at its latest batch and
  ``<name>__versions`` keeps every version. An HDF5 entry is read through the HDF5 tier's reader.
  A missing or empty store gives an empty view with the layout's columns.
* Relational tier: every spec §4 table and the project's extension tables are **copied** into the
  session through a read-only connection (a consistent snapshot taken when the session opens;
  DuckDB's ``sqlite``/``postgres`` extensions are not bundled offline). ``DELETE`` or ``DROP`` in
  the session only ever change that copy. A missing, empty or outdated database is reported
  (:func:`statarb.storage.database.check_schema`) and never migrated.
* Lock-down (DuckDB "Securing DuckDB" guide): once the views exist, ``allowed_directories`` is the
  reports folder only, ``enable_external_access = false`` and ``lock_configuration = true``. So
  ``COPY ... TO`` works into the reports folder and nowhere else (not into the store), file table
  functions (``read_text``, ``read_parquet``, ...) and ``ATTACH`` refuse every path outside it,
  extensions cannot be installed or loaded, and none of this can be switched back in the session.
  The store is read through the registered views, which need no file access by DuckDB itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.dataset as pads

from statarb.storage.alpha_state import marker_for, unfinished
from statarb.storage.parquet_schemas import get_layout
from statarb.storage.resolver import StoreRef, load_project, scan_entry

_HIVE_ARROW = {"source": pa.large_string(), "date": pa.date32(), "pair_id": pa.large_string()}


@dataclass
class StoreSession:
    """An open, locked-down DuckDB connection and what it exposes."""

    con: duckdb.DuckDBPyConnection
    parquet_views: dict[str, str] = field(default_factory=dict)  # view -> root (or "empty")
    relational: dict[str, str] = field(default_factory=dict)  # table -> "copy" | "attach"
    reports_dir: Path | None = None
    warnings: list[str] = field(default_factory=list)

    def tables(self) -> list[str]:
        """Every queryable name, sorted."""
        return sorted({*self.parquet_views, *self.relational})


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _parquet_dataset(ref: StoreRef) -> tuple[pads.Dataset | None, bool]:
    """(pyarrow dataset over the entry's files or ``None`` when empty, some file has versions)."""
    from statarb.storage.parquet_read import file_info, partition_files
    from statarb.storage.store_batches import needs_file

    lay = get_layout(ref.layout)
    files = partition_files(ref.root, lay) if Path(ref.root).is_dir() else []
    if not files:
        return None, False
    several = any(needs_file(file_info(f, lay)[1], None)[1] for f in files)
    schema = pl.DataFrame(schema=lay.read_schema).to_arrow().schema
    hive = pa.schema([(c, _HIVE_ARROW[c]) for c in lay.partition_by])
    ds = pads.dataset(
        [str(f) for f in files],
        schema=schema,
        format="parquet",
        partitioning=pads.partitioning(hive, flavor="hive"),
        partition_base_dir=str(ref.root),
    )
    return ds, several


def create_store_view(con: duckdb.DuckDBPyConnection, name: str, ref: StoreRef) -> str:
    """Create view ``name`` over the columnar entry ``ref``; return its root or ``"empty"``."""
    lay = get_layout(ref.layout)
    if ref.tier != "parquet":  # any other tier through its own reader (resolver.STORE_TYPES)
        frame = scan_entry(ref).collect()
        con.register(f"__src_{name}", frame.to_arrow())
        con.execute(f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM "__src_{name}"')
        return str(ref.root) if frame.height else "empty"
    ds, several = _parquet_dataset(ref)
    if ds is None:
        con.register(f"__src_{name}", pl.DataFrame(schema=lay.read_schema).to_arrow())
        con.execute(f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM "__src_{name}"')
        return "empty"
    con.register(f"__src_{name}", ds)
    if not several:
        con.execute(f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM "__src_{name}"')
        return str(ref.root)
    slice_cols = ", ".join(c for c in ("source", "date", lay.id_column) if c in lay.read_schema)
    con.execute(f'CREATE OR REPLACE VIEW "{name}__versions" AS SELECT * FROM "__src_{name}"')
    con.execute(
        f'CREATE OR REPLACE VIEW "{name}" AS SELECT * EXCLUDE (__v, __top) FROM ('
        f"SELECT *, coalesce(batch_id, 0) AS __v, max(coalesce(batch_id, 0)) OVER "
        f'(PARTITION BY {slice_cols}) AS __top FROM "__src_{name}") WHERE __v = __top'
    )
    return str(ref.root)


def load_relational(con: duckdb.DuckDBPyConnection, url: str, mode: str = "copy") -> dict[str, str]:
    """Copy every spec §4 and extension table of the database at ``url`` into the session
    through a read-only connection; return table -> how. Never migrates (raises
    :class:`~statarb.storage.database.SchemaNotReady` naming what to run)."""
    from statarb.storage.database import check_schema, get_engine
    from statarb.storage.schema import EXTENSION_TABLES, SPEC_TABLES
    from statarb.storage.sql_io import read_table

    if mode != "copy":
        raise ValueError(f"relational mode must be 'copy' (or 'none' to skip), got {mode!r}")
    check_schema(url)
    tables = [*SPEC_TABLES, *EXTENSION_TABLES]
    with get_engine(url, read_only=True).connect() as conn:
        for t in tables:
            arrow = read_table(conn, t).to_arrow()
            con.register(f"__rel_{t}", arrow)
            con.execute(f'CREATE OR REPLACE TABLE "{t}" AS SELECT * FROM "__rel_{t}"')
            con.unregister(f"__rel_{t}")
    return dict.fromkeys(tables, "copy")


def lock_down(con: duckdb.DuckDBPyConnection, reports_dir: Path) -> None:
    """Restrict file access to ``reports_dir`` and lock the configuration (module docstring)."""
    allowed = reports_dir.resolve().as_posix().rstrip("/") + "/"
    con.execute(f"SET allowed_directories = [{_sql_str(allowed)}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def open_store(
    project: str | Path = ".",
    db_url: str | None = None,
    relational: str = "copy",
    roots: Mapping[str, tuple[str | Path, str]] | None = None,
    *,
    env: str | None = None,
    reports_dir: str | Path | None = None,
) -> StoreSession:
    """Open a locked-down in-memory DuckDB session with every columnar view and relational table
    of the project at or above ``project`` (environment ``env``).

    ``db_url`` overrides the project's ``db`` credentials; ``roots`` (view -> (root, layout))
    replaces the catalog's columnar entries (Parquet); ``reports_dir`` defaults to the
    ``reporting.output_dir`` parameter; ``relational="none"`` skips the database.
    """
    given = roots is not None and db_url is not None and reports_dir is not None
    proj = None if given else load_project(project, env)
    if roots is not None:
        refs = {n: StoreRef(n, Path(r), lay, "parquet") for n, (r, lay) in roots.items()}
    else:
        refs = proj.stores()  # type: ignore[union-attr]
    if reports_dir is None:  # the project's reporting.output_dir (no path of its own here)
        reports_dir = proj.root / proj.params["reporting"]["output_dir"]  # type: ignore[union-attr]
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    sess = StoreSession(con, reports_dir=Path(reports_dir))
    for name, ref in refs.items():
        sess.parquet_views[name] = create_store_view(con, name, ref)
    spreads = refs.get("spread_series")
    what = unfinished(marker_for(spreads.root)) if spreads is not None else None
    if what is not None:  # a research session may look, but is told the outputs may be mixed
        sess.warnings.append(f"alpha outputs may mix two runs: {what}")
    try:
        if relational != "none":
            from statarb.storage.database import SchemaNotReady

            url = db_url or proj.db_url()  # type: ignore[union-attr]
            try:
                sess.relational = load_relational(con, url, relational)
            except SchemaNotReady as exc:  # reported, the columnar views stay usable
                sess.warnings.append(f"{exc}; relational tables not loaded")
    finally:
        lock_down(con, sess.reports_dir)
    return sess
