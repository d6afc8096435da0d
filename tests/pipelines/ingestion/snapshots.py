"""Snapshots of everything a run can change: every file under data/ and every relational row."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from statarb.storage.database import ensure_schema, get_engine
from statarb.storage.schema import EXTENSION_TABLES, SPEC_TABLES
from statarb.storage.sql_io import read_table


def file_bytes(root: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every file under ``root`` (raw input files excluded)."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "01_raw" not in p.parts
    }


def table_rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every relational table (all columns, timestamps included)."""
    ensure_schema(url)
    engine: sa.Engine = get_engine(url)
    return {t: read_table(engine, t).rows() for t in (*SPEC_TABLES, *EXTENSION_TABLES)}
