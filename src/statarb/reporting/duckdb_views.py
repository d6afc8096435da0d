"""A DuckDB session over the whole store: Parquet views plus the relational tables (spec §2, §10).

* Columnar tier: one view per entity (``bars``, ``bars_adjusted``, ``ticks``, ``spread_series``,
  ``ou_output``) = ``read_parquet('<root>/**/data.parquet', hive_partitioning = true,
  union_by_name = true)`` with the partition columns typed (``source`` VARCHAR, ``date`` DATE). A
  missing or empty root gives an empty view with the layout's columns. Timestamps are
  ``TIMESTAMP WITH TIME ZONE`` and the session time zone is UTC.
* Relational tier: DuckDB's ``sqlite`` / ``postgres`` extensions are *not bundled* with the wheel and
  cannot be downloaded offline, so by default every spec §4 table is **copied** into the DuckDB
  session through SQLAlchemy (:func:`statarb.storage.sql_io.read_table`, Arrow, zero parsing):
  a consistent snapshot taken when the session opens, with naive UTC timestamps converted to
  ``TIMESTAMP WITH TIME ZONE`` like the Parquet side. ``relational="attach"`` instead ATTACHes the
  database live (read-only) when the extension is already installed locally; ``"auto"`` tries
  that first and falls back to the copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import sqlalchemy as sa

from statarb.storage.parquet_schemas import get_layout

# view name -> (store root relative to the data root's parent, layout)
PARQUET_VIEWS: dict[str, tuple[str, str]] = {
    "bars": ("data/bars", "bars"),
    "bars_adjusted": ("data/bars_adjusted", "bars"),
    "ticks": ("data/ticks", "ticks"),
    "spread_series": ("data/alpha/spreads", "spread_series"),
    "ou_output": ("data/alpha/ou", "ou_output"),
}
_HIVE_TYPES = {"source": "VARCHAR", "date": "DATE", "pair_id": "VARCHAR"}


@dataclass
class StoreSession:
    """An open DuckDB connection and what it exposes."""

    con: duckdb.DuckDBPyConnection
    parquet_views: dict[str, str] = field(default_factory=dict)  # view -> root (or "empty")
    relational: dict[str, str] = field(default_factory=dict)  # table -> "copy" | "attach"

    def tables(self) -> list[str]:
        """Every queryable name, sorted."""
        return sorted({*self.parquet_views, *self.relational})


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def parquet_roots(project_root: str | Path = ".") -> dict[str, tuple[Path, str]]:
    """View -> (absolute store root, layout) under ``project_root`` (paths of ``catalog.yml``)."""
    root = Path(project_root)
    return {v: (root / rel, lay) for v, (rel, lay) in PARQUET_VIEWS.items()}


def create_parquet_view(con: duckdb.DuckDBPyConnection, name: str, root: Path, layout: str) -> str:
    """Create view ``name`` over the store at ``root``; return the root or ``"empty"``."""
    lay = get_layout(layout)
    files = list(Path(root).glob("**/data.parquet")) if Path(root).is_dir() else []
    if not files:
        empty = pl.DataFrame(schema=lay.read_schema).to_arrow()
        con.register(f"__empty_{name}", empty)
        con.execute(f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM "__empty_{name}"')
        return "empty"
    hive_types = ", ".join(f"{c}: {_HIVE_TYPES[c]}" for c in lay.partition_by)
    glob = (Path(root).resolve() / "**" / "data.parquet").as_posix()
    con.execute(
        f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM read_parquet({_sql_str(glob)}, '
        f"hive_partitioning = true, union_by_name = true, hive_types = {{{hive_types}}})"
    )
    return str(root)


def _try_attach(con: duckdb.DuckDBPyConnection, url: str, tables: list[str]) -> bool:
    parsed = sa.make_url(url)
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite" and parsed.database:
            con.execute("LOAD sqlite")
            target, kind = str(Path(parsed.database).resolve()), "SQLITE"
        elif backend == "postgresql":
            con.execute("LOAD postgres")
            target = " ".join(
                f"{k}={v}"
                for k, v in {
                    "host": parsed.host,
                    "port": parsed.port,
                    "user": parsed.username,
                    "password": parsed.password,
                    "dbname": parsed.database,
                }.items()
                if v
            )
            kind = "POSTGRES"
        else:
            return False
        con.execute(f"ATTACH {_sql_str(target)} AS reldb (TYPE {kind}, READ_ONLY)")
    except duckdb.Error:
        return False
    for t in tables:
        con.execute(f'CREATE OR REPLACE VIEW "{t}" AS SELECT * FROM reldb."{t}"')
    return True


def load_relational(con: duckdb.DuckDBPyConnection, url: str, mode: str = "copy") -> dict[str, str]:
    """Expose every spec §4 table and the extension tables (``selection_log``) of the database at
    ``url``; return table -> how."""
    from statarb.storage.database import ensure_schema, get_engine
    from statarb.storage.schema import EXTENSION_TABLES, SPEC_TABLES
    from statarb.storage.sql_io import read_table

    if mode not in ("copy", "attach", "auto"):
        raise ValueError(f"relational mode must be copy, attach or auto, got {mode!r}")
    tables = list(SPEC_TABLES + EXTENSION_TABLES)
    if mode in ("attach", "auto") and _try_attach(con, url, tables):
        return dict.fromkeys(tables, "attach")
    if mode == "attach":
        raise RuntimeError(
            "DuckDB sqlite/postgres extension not installed (offline); use relational='copy'"
        )
    parsed = sa.make_url(url)
    db_file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if db_file not in (None, "", ":memory:") and not Path(db_file).exists():
        raise FileNotFoundError(
            f"no SQLite database at {parsed.database} (run the pipelines first or pass --db-url)"
        )
    ensure_schema(url)
    eng = get_engine(url)
    with eng.connect() as conn:
        for t in tables:
            arrow = read_table(conn, t).to_arrow()
            con.register(f"__rel_{t}", arrow)
            con.execute(f'CREATE OR REPLACE TABLE "{t}" AS SELECT * FROM "__rel_{t}"')
            con.unregister(f"__rel_{t}")
    return dict.fromkeys(tables, "copy")


def open_store(
    project_root: str | Path = ".",
    db_url: str | None = None,
    relational: str = "copy",
    roots: Mapping[str, tuple[str | Path, str]] | None = None,
) -> StoreSession:
    """Open an in-memory DuckDB session with every Parquet view and relational table.

    ``roots`` overrides the Parquet locations (view -> (root, layout)); ``db_url=None`` uses
    :func:`statarb.storage.database.resolve_db_url`; ``relational="none"`` skips the database.
    """
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    sess = StoreSession(con)
    for name, (root, layout) in (roots or parquet_roots(project_root)).items():
        sess.parquet_views[name] = create_parquet_view(con, name, Path(root), layout)
    if relational != "none":
        if db_url is None:
            from statarb.storage.database import resolve_db_url

            db_url = resolve_db_url()
        sess.relational = load_relational(con, db_url, relational)
    return sess
