"""``make clean-data`` removes every store the catalogs, the databases and the generator write
under ``data/`` and keeps the shipped files."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _catalog_paths() -> set[str]:
    """Every ``data/...`` path of any environment: the resolved catalogs and parameters
    (``${globals:store_dir}/...`` interpolated) and the credentials files."""
    from tests.config_helpers import shipped

    text = [f.read_text() for f in (REPO / "conf").rglob("credentials.yml")]
    for env in [p.name for p in (REPO / "conf").iterdir() if p.is_dir() and p.name != "local"]:
        text += [repr(shipped("catalog", env)), repr(shipped("parameters", env))]
    found: set[str] = set()
    for t in text:
        found.update(re.findall(r"(data/[\w./-]+)", t))
    return found


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_clean_data_removes_every_generated_store(tmp_path):
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    paths = _catalog_paths()
    assert {"data/backtest/equity", "data/tick_bars", "data/statarb.db"} <= paths
    for rel in paths:
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.suffix:
            target.mkdir(exist_ok=True)
            (target / "part.parquet").write_bytes(b"x")
        else:
            target.write_bytes(b"x")
    (tmp_path / "data/.gitkeep").write_text("")
    (tmp_path / "data/README.md").write_text("shipped\n")
    subprocess.run(["make", "-s", "clean-data"], cwd=tmp_path, check=True, timeout=60)
    left = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "data").rglob("*"))
    assert left == ["data/.gitkeep", "data/README.md"]
