"""Atomic, durable replacement of a set of files (used by the Parquet store for its partitions).

:class:`PartitionWriter` stages every new file as ``<name>.tmp-<host>-<pid>-<uuid>`` beside its
target (:mod:`.leftovers` removes those a killed writer left at the dataset's next write), then
commits them all: one ``syncfs`` per file system on Linux (else an ``fsync`` per file), an
``os.replace`` per file in staging order (atomic on POSIX and Windows within one file system), and
one more ``syncfs`` (else an ``fsync`` per folder) for the new directory entries. Two disk flushes
per write instead of two per file. This is the usual write, flush, rename, flush-folder sequence
(Linux manual pages fsync(2), syncfs(2) -- which waits for the write-back -- and rename(2)).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

from statarb.storage.leftovers import temp_path


def _fsync_path(path: Path, directory: bool = False) -> None:
    """fsync a file (errors raise) or a folder (best effort: not every platform can)."""
    try:
        fd = os.open(path, os.O_RDONLY if directory else os.O_RDWR)
    except OSError:
        if not directory:
            raise
        return  # e.g. Windows cannot open a directory; os.replace is still atomic
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


def _load_syncfs() -> Callable[[int], int] | None:
    """Linux ``syncfs(fd)`` from the C library, or ``None`` where it does not exist."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


SYNCFS = _load_syncfs()


def _syncfs(path: Path) -> None:
    """Write back every dirty page and inode of the file system holding ``path`` and wait."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if SYNCFS(fd) != 0:  # type: ignore[misc]
            err = ctypes.get_errno()
            raise OSError(err, f"syncfs({path}): {os.strerror(err)}")
    finally:
        os.close(fd)


def _link_backup(path: Path) -> Path | None:
    """Hard link (copy where links are unsupported) of ``path`` beside it; None if absent."""
    if not path.exists():
        return None
    bak = path.with_name(f"{path.name}.bak-{uuid.uuid4().hex}")
    try:
        os.link(path, bak)
    except OSError:
        shutil.copy2(path, bak)
    return bak


class PartitionWriter:
    """Replaces partition files atomically and durably, in two phases.

    :meth:`stage` writes each new content to ``data.parquet.tmp-<uuid>`` beside its partition
    file. :meth:`commit` makes all staged files durable (one ``syncfs`` per file system on
    Linux, else one ``fsync`` per file), moves each onto its ``data.parquet`` with ``os.replace``
    in staging order, and makes the new directory entries durable (``syncfs`` again, else one
    ``fsync`` per folder): two disk flushes per write instead of two per partition.
    :meth:`abort` removes the temporary files not moved yet and the folders this writer created
    that are left empty. A failure while staging therefore changes nothing; a failure while
    moving leaves the first partitions new and the rest old, each file whole.

    ``commit(backup=True)`` (used by :class:`statarb.storage.write_batch.WriteBatch`, which
    publishes files together with a database transaction) first hard-links every file it replaces
    to ``<name>.bak-<uuid>``; :meth:`restore` then puts the old files back (and removes files
    that did not exist before), :meth:`drop_backups` deletes the links once the batch stands.
    """

    def __init__(self, fsync: bool) -> None:
        self._fsync = fsync
        self._staged: list[tuple[Path, Path]] = []
        self._moved = 0
        self._created: list[Path] = []
        self._backups: list[tuple[Path, Path | None]] = []  # (target, backup or None if new)

    @property
    def staged(self) -> int:
        """Number of files staged so far."""
        return len(self._staged)

    def stage(self, path: Path, write: Callable[[Path], None]) -> None:
        """Create ``path``'s folder if needed and ``write(tmp)`` a temporary file beside it."""
        new_dirs = []
        folder = path.parent
        while not folder.exists():
            new_dirs.append(folder)
            folder = folder.parent
        path.parent.mkdir(parents=True, exist_ok=True)
        self._created += new_dirs
        tmp = temp_path(path)
        self._staged.append((tmp, path))
        write(tmp)

    def _flush(self, paths: list[Path], directories: bool) -> None:
        if SYNCFS is not None:
            devices = {}
            for p in paths:
                devices.setdefault(os.stat(p).st_dev, p)
            for p in devices.values():
                _syncfs(p)
        else:
            for p in paths:
                _fsync_path(p, directory=directories)

    def commit(self, backup: bool = False) -> None:
        """Make the staged files durable, move them into place in order, make the names durable.

        ``backup``: keep a hard link to each replaced file for :meth:`restore`.
        """
        if self._fsync and self._staged:
            self._flush([tmp for tmp, _ in self._staged], directories=False)
        for tmp, path in self._staged:
            if backup:
                self._backups.append((path, _link_backup(path)))
            os.replace(tmp, path)
            self._moved += 1
        if self._fsync and self._staged:
            folders = {path.parent for _, path in self._staged}
            folders |= {d.parent for d in self._created}
            self._flush(sorted(folders), directories=True)

    def restore(self) -> None:
        """Undo a ``commit(backup=True)``: put every replaced file back, remove the new ones."""
        for path, bak in reversed(self._backups[: self._moved]):
            if bak is not None:
                os.replace(bak, path)
            else:
                path.unlink(missing_ok=True)
        for _path, bak in self._backups[self._moved :]:
            if bak is not None:
                bak.unlink(missing_ok=True)
        self._backups = []
        self._moved = 0
        if self._fsync and self._staged:
            folders = sorted({path.parent for _, path in self._staged if path.parent.exists()})
            if folders:
                self._flush(folders, directories=True)

    def drop_backups(self) -> None:
        """Delete the hard links kept by ``commit(backup=True)`` (best effort)."""
        for _, bak in self._backups:
            if bak is not None:
                with contextlib.suppress(OSError):
                    bak.unlink()
        self._backups = []

    def abort(self) -> None:
        """Remove what :meth:`commit` did not move in, and folders created that are left empty."""
        for tmp, _ in self._staged[self._moved :]:
            tmp.unlink(missing_ok=True)
        for folder in sorted(self._created, key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):  # not empty (a partition was moved in)
                folder.rmdir()
