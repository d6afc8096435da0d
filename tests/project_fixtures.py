"""A throw-away copy of the project's configuration, pointed at a test database.

:func:`make_project` copies ``conf/`` (not ``conf/local``) and writes
``conf/local/credentials.yml`` with the given URL, so a test exercises the real catalog and
parameters and reaches the database exactly as a user who configured it there would.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def make_project(root: Path, db_url: str | None = None, *, src: bool = False) -> Path:
    """A project at ``root``: ``conf/`` of the repository and, when ``db_url`` is given,
    ``conf/local/credentials.yml`` with ``db.con = db_url``. ``src=True`` also copies ``src/`` and
    ``pyproject.toml`` (for a real ``KedroSession``)."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir(exist_ok=True)
    if db_url is not None:
        (root / "conf" / "local" / "credentials.yml").write_text(
            yaml.safe_dump({"db": {"con": db_url}})
        )
    if src:
        shutil.copytree(REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root
