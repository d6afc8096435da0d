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


def generated_project(root: Path, monkeypatch, n_symbols: int, n_days: int) -> tuple[Path, str]:
    """A project at ``root`` for real ``kedro run``s (its own SQLite store, generated raw files
    of ``n_symbols`` x ``n_days``, the current directory moved there); returns
    ``(root, database URL)``. The package is the installed one (an empty ``src/``). The
    confirmation stage is off (``conf/local``): a sample of a few windows is shorter than its delay
    of half a window plus the persistence passes, so nothing would be selected."""
    from statarb.synthetic.config import load_config
    from statarb.synthetic.generator import generate

    make_project(root)
    (root / "src").mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.kedro]\npackage_name = "statarb"\nproject_name = "statarb"\n'
        'kedro_init_version = "1.7.0"\nsource_dir = "src"\n'
    )
    (root / "conf" / "local" / "parameters_alpha.yml").write_text(
        yaml.safe_dump({"alpha": {"selection": {"confirmation": {"max_shared": None}}}})
    )
    monkeypatch.chdir(root)
    monkeypatch.delenv("STATARB_DB_URL", raising=False)
    cfg = load_config(REPO / "conf/base/parameters_synthetic.yml").with_overrides(
        n_symbols=n_symbols, n_days=n_days
    )
    generate(root / "data/01_raw", cfg, force=True)
    return root, f"sqlite:///{root / 'data' / 'statarb.db'}"
