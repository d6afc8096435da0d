"""Temporary files of a killed write: named so their owner can be told, removed by the next write.

Every store write stages its files under a temporary name beside the target
(:class:`.partition_writer.PartitionWriter`: ``<name>.tmp-<owner>-<uuid>``) and the backtest
stages its equity copy in ``.equity_tmp_<owner>-<random>``, where ``<owner>`` is
``<host>-<pid>`` of the writing process. A hard kill (SIGKILL, power loss) leaves them behind;
readers never match these names, but they take disk space. The next write of the same dataset
calls :func:`sweep` on its root, which removes the leftovers that are **stale**:

* the owner is a process of this host that no longer runs (``kill(pid, 0)`` fails with
  ``ESRCH``): its write can never complete;
* or the name carries no owner of this host (written by an older version or another host
  sharing the folder) and the file has not changed for :data:`FOREIGN_STALE_SECONDS`.

A concurrent writer's fresh temporary file (its process alive) is therefore never removed, not
even while it waits, staged, for the rest of a write batch (``statarb.storage.write_batch``).
Backups ``<name>.bak-<uuid>`` of a publishing batch are not touched: after a kill they may hold
the only old copy of a file.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import re
import shutil
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

#: Unowned or foreign temporary files older than this are stale (one day: longer than any write).
FOREIGN_STALE_SECONDS = 24 * 3600

_HOST = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:16] or "host"
_OWNED = re.compile(r"(?:\.tmp-|^\.equity_tmp_)(?P<host>[A-Za-z0-9]+)-(?P<pid>\d+)-")
_TEMP = re.compile(r"\.tmp-[0-9a-f]|\.tmp-[A-Za-z0-9]+-\d+-|^\.equity_tmp_")


def owner_tag() -> str:
    """``<host>-<pid>`` of this process, as temporary names carry it."""
    return f"{_HOST}-{os.getpid()}"


def temp_path(path: Path) -> Path:
    """The staging name of ``path``: ``<name>.tmp-<host>-<pid>-<uuid>`` in the same folder."""
    return path.with_name(f"{path.name}.tmp-{owner_tag()}-{uuid.uuid4().hex}")


def equity_temp_prefix() -> str:
    """``mkdtemp`` prefix of the backtest's equity staging folder."""
    return f".equity_tmp_{owner_tag()}-"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def is_stale(path: Path, now: float | None = None) -> bool:
    """Whether the temporary file or folder ``path`` belongs to no running write (module doc)."""
    m = _OWNED.search(path.name)
    if m and m["host"] == _HOST:
        return int(m["pid"]) != os.getpid() and not _pid_alive(int(m["pid"]))
    try:
        age = (time.time() if now is None else now) - path.lstat().st_mtime
    except FileNotFoundError:
        return False
    return age > FOREIGN_STALE_SECONDS


#: Roots already swept inside the innermost :func:`sweep_once` block (None outside any block).
_SWEPT: contextvars.ContextVar[set[Path] | None] = contextvars.ContextVar(
    "statarb_swept", default=None
)


@contextlib.contextmanager
def sweep_once() -> Iterator[None]:
    """Inside this block :func:`sweep` scans each root once: a dataset saved chunk by chunk
    (ingestion writes one chunk per group of dates) walks its tree once per save instead of once
    per chunk, which grew with chunks x partitions (5,031 one-day partitions: minutes)."""
    token = _SWEPT.set(set())
    try:
        yield
    finally:
        _SWEPT.reset(token)


def sweep(root: str | Path, max_depth: int = 3) -> list[Path]:
    """Remove the stale temporary files and folders under ``root`` (at most ``max_depth`` folder
    levels down: the partition depth of every layout); return what was removed (logged). Inside
    :func:`sweep_once`, a root already swept there is not scanned again."""
    base = Path(root)
    done = _SWEPT.get()
    if done is not None:
        if base in done:
            return []
        done.add(base)
    if not base.is_dir():
        return []
    removed: list[Path] = []
    stack = [(base, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            continue
        for e in entries:
            p = Path(e.path)
            if _TEMP.search(e.name):
                if is_stale(p):
                    with contextlib.suppress(FileNotFoundError):
                        if e.is_dir(follow_symlinks=False):
                            shutil.rmtree(p)
                        else:
                            p.unlink()
                    removed.append(p)
            elif e.is_dir(follow_symlinks=False) and depth < max_depth:
                stack.append((p, depth + 1))
    if removed:
        log.info("removed %d temporary file(s) left by a killed write under %s", len(removed), base)
    return sorted(removed)
