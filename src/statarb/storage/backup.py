"""``statarb backup DEST`` / ``statarb restore SRC`` (spec §9.4, "Backups & Retention").

Layout of a destination::

    DEST/objects/<aa>/<sha256>            every file ever backed up, stored once by content
    DEST/sets/<UTC stamp>/manifest.json   one backup set: file -> sha256, size; DB entry
    DEST/sets/<UTC stamp>/db.sqlite       SQLite online backup (or db.pgdump: pg_dump custom)
    DEST/corporate_actions.parquet        every corporate_actions row ever backed up

What is backed up comes from the project's Kedro catalog (:mod:`statarb.storage.resolver`):
every file or folder entry under the project root -- the columnar stores partition by partition
(Parquet files, HDF5 symbol files), raw vendor files, run-id and report JSON, the equity copies
-- plus the database of the ``db`` credentials (:mod:`.backup_db`). Temporary files of
interrupted writes are skipped.

* Incremental by partition: a file whose size and modification time equal the previous set's is
  not read again; a file whose content (SHA-256) is already in ``objects/`` is not copied again.
  A second backup of an unchanged store copies no partition; after one partition changes it
  copies exactly that one.
* Retention: the newest ``storage.backup.keep_last`` sets are kept; older sets and the objects
  no kept set refers to are deleted. ``corporate_actions.parquet`` is never pruned: it is the
  union of every row seen, so the full history of corporate actions survives retention (spec
  §9.4 "keep full history for re-adjustment").
* Restore: into a project whose stores and database are empty (``--force`` overwrites); every
  file is checked against its checksum and the database against its revision and row counts.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from statarb.storage import backup_db
from statarb.storage.backup_db import BackupError
from statarb.storage.resolver import Project

FORMAT = 1
_SKIP_PARTS = (".tmp-", ".equity_tmp_", ".restore-tmp")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def project_files(project: Project) -> dict[str, Path]:
    """Project-relative POSIX path -> absolute path of every file the catalog entries hold."""
    out: dict[str, Path] = {}
    for target in project.file_entries().values():
        if not target.exists():
            continue
        try:
            target.resolve().relative_to(project.root)
        except ValueError:  # outside the project: not ours to back up
            continue
        files = (
            [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file())
        )
        for f in files:
            if any(part in f.as_posix() for part in _SKIP_PARTS):
                continue
            out[f.resolve().relative_to(project.root).as_posix()] = f
    return dict(sorted(out.items()))


def _sets(dest: Path) -> list[Path]:
    folder = dest / "sets"
    return (
        sorted(p for p in folder.iterdir() if (p / "manifest.json").is_file())
        if folder.is_dir()
        else []
    )


def _manifest(set_dir: Path) -> dict[str, Any]:
    return json.loads((set_dir / "manifest.json").read_text())


def _object(dest: Path, digest: str) -> Path:
    return dest / "objects" / digest[:2] / digest


def _copy_atomic(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f"{dst.name}.tmp-{uuid.uuid4().hex}")
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def _keep_corporate_actions(dest: Path, url: str) -> int:
    """Add the database's corporate_actions rows to the never-pruned history; return its size."""
    from statarb.storage.database import get_engine
    from statarb.storage.sql_io import read_table

    rows = read_table(get_engine(url, read_only=True), "corporate_actions")
    path = dest / "corporate_actions.parquet"
    if path.is_file():
        rows = pl.concat([pl.read_parquet(path), rows], how="vertical")
    rows = rows.unique(maintain_order=True).sort("symbol_id", "ex_date", "action_type")
    tmp = path.with_name(path.name + f".tmp-{uuid.uuid4().hex}")
    rows.write_parquet(tmp)
    os.replace(tmp, path)
    return rows.height


def backup(project: Project, dest: str | Path, keep_last: int, db_url: str | None = None) -> dict:
    """Write a new backup set of ``project`` under ``dest``; prune to ``keep_last`` sets.

    Returns the set's manifest with ``copied`` (files copied into ``objects/``), ``reused``
    (already there) and ``pruned`` (sets removed).
    """
    from statarb.storage.database import check_schema

    if keep_last < 1:
        raise BackupError(f"keep_last must be >= 1, got {keep_last}")
    dest = Path(dest).resolve()
    url = db_url or project.db_url()
    check_schema(url)
    previous = _manifest(_sets(dest)[-1])["files"] if _sets(dest) else {}
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    set_dir = dest / "sets" / stamp
    staging = dest / "sets" / f".{stamp}.tmp-{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    copied = reused = 0
    files: dict[str, dict[str, Any]] = {}
    try:
        for rel, path in project_files(project).items():
            st = path.stat()
            old = previous.get(rel)
            if old and old["size"] == st.st_size and old["mtime_ns"] == st.st_mtime_ns:
                digest = old["sha256"]
            else:
                digest = _sha256(path)
            obj = _object(dest, digest)
            if obj.is_file():
                reused += 1
            else:
                _copy_atomic(path, obj)
                copied += 1
            files[rel] = {"sha256": digest, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        db = backup_db.dump(url, staging)
        db["sha256"] = _sha256(staging / db["file"])
        n_actions = _keep_corporate_actions(dest, url)
        manifest = {
            "format": FORMAT,
            "created_at": stamp,
            "env": project.env,
            "files": files,
            "db": db,
            "copied": copied,
            "reused": reused,
            "corporate_actions_history": n_actions,
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
        os.replace(staging, set_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    manifest["pruned"] = prune(dest, keep_last)
    return manifest


def prune(dest: Path, keep_last: int) -> list[str]:
    """Delete all but the newest ``keep_last`` sets and the objects no kept set refers to."""
    sets = _sets(dest)
    gone = sets[: max(0, len(sets) - keep_last)]
    for s in gone:
        shutil.rmtree(s)
    used = {f["sha256"] for s in _sets(dest) for f in _manifest(s)["files"].values()}
    for obj in (dest / "objects").glob("*/*") if (dest / "objects").is_dir() else []:
        if obj.name not in used:
            obj.unlink()
    return [s.name for s in gone]


def find_set(src: str | Path, name: str | None = None) -> Path:
    """The set folder ``name`` (default: newest) of destination ``src``, or ``src`` itself."""
    src = Path(src).resolve()
    if (src / "manifest.json").is_file():
        return src
    sets = _sets(src)
    if name is not None:
        sets = [s for s in sets if s.name == name]
    if not sets:
        raise BackupError(f"no backup set{' ' + name if name else ''} under {src}")
    return sets[-1]


def restore(
    project: Project, src: str | Path, name: str | None = None, force: bool = False,
    db_url: str | None = None,
) -> dict:  # fmt: skip
    """Restore a backup set into ``project`` (files checked by checksum, DB by row counts)."""
    set_dir = find_set(src, name)
    dest = set_dir.parent.parent
    manifest = _manifest(set_dir)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{set_dir}: backup format {manifest.get('format')!r} not supported")
    if _sha256(set_dir / manifest["db"]["file"]) != manifest["db"]["sha256"]:
        raise BackupError(f"{set_dir / manifest['db']['file']}: checksum mismatch")
    targets = {rel: project.root / rel for rel in manifest["files"]}
    existing = [rel for rel, p in targets.items() if p.exists()]
    if existing and not force:
        raise BackupError(
            f"{project.root} already holds {len(existing)} of the backed-up files (e.g. "
            f"{existing[0]}): restore into an empty project or --force"
        )
    backup_db.restore(manifest["db"], set_dir, db_url or project.db_url(), force=force)
    for rel, meta in manifest["files"].items():
        obj = _object(dest, meta["sha256"])
        if not obj.is_file() or _sha256(obj) != meta["sha256"]:
            raise BackupError(f"{rel}: object {obj} missing or corrupt")
        _copy_atomic(obj, targets[rel])
    return manifest
