"""No secret in logs, printed messages, ``config_json``, reports or backups (spec §9.5).

A password in the connection URL (PostgreSQL trusts local connections, so any password works and
none is checked) must come out as ``***`` everywhere the project prints or stores something.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from statarb.storage import database
from statarb.storage.secrets import mask, register_url
from tests.conftest import throwaway_pg_database
from tests.storage.test_backup import _fill, _project, _reporting

SECRET = "Sup3r-S3cret-pw"


def test_mask_hides_url_passwords_and_registered_secrets():
    url = f"postgresql+psycopg://bob:{SECRET}@db:5432/prod"
    assert (
        mask(f"connecting to {url} now")
        == "connecting to postgresql+psycopg://bob:***@db:5432/prod now"
    )
    register_url(url)
    assert SECRET not in mask(f"password={SECRET}; quoted={SECRET.replace('-', '%2D')}")


def test_log_records_are_masked_messages_and_tracebacks(caplog):
    register_url(f"postgresql+psycopg://bob:{SECRET}@db/prod")
    log = logging.getLogger("statarb.test")
    with caplog.at_level(logging.INFO):
        log.info("url=%s", f"postgresql://bob:{SECRET}@db/prod")
        try:
            raise RuntimeError(f"cannot connect with {SECRET}")
        except RuntimeError:
            log.exception("failed")
    text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert SECRET not in text and "***" in text


@pytest.mark.postgres
def test_a_run_with_a_password_leaks_it_nowhere(tmp_path, monkeypatch, caplog, capfd):
    from click.testing import CliRunner

    from statarb.cli import main

    with throwaway_pg_database() as plain:
        url = sa.make_url(plain).set(password=SECRET).render_as_string(hide_password=False)
        root = _project(tmp_path / "p", url)
        _fill(root, plain)
        with caplog.at_level(logging.DEBUG):
            _reporting(root, monkeypatch)  # a real KedroSession run, credentials from the project
        printed = [caplog.text, *capfd.readouterr()]
        cli = CliRunner()
        for args in (["db", "current"], ["runs", "show", "bt_test_001"], ["sql", "--tables"],
                     ["backup", str(tmp_path / "bk")]):  # fmt: skip
            res = cli.invoke(main, [*args, "--project", str(root)])
            assert res.exit_code == 0, res.output
            printed.append(res.output)
        stored = [p.read_bytes().decode("utf-8", "replace") for p in _text_files(root, tmp_path)]
        eng = database.get_engine(plain)
        with eng.connect() as conn:
            for table in sa.inspect(conn).get_table_names():
                rows = conn.execute(sa.text(f'SELECT * FROM "{table}"')).all()
                stored.append(repr(rows))
        database.dispose_engines()
    assert any("config_json" in s or "bt_test_001" in s for s in stored)
    for text in printed + stored:
        assert SECRET not in text


def _text_files(root: Path, tmp_path: Path) -> list[Path]:
    reports = sorted((root / "data/08_reporting").rglob("*.html"))
    manifests = sorted((tmp_path / "bk").rglob("manifest.json"))
    assert reports and manifests
    return reports + manifests
