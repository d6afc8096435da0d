"""The real ``kedro run`` in a throw-away copy of the project: a user-input error prints one
paragraph naming the file, the row and the rule (no traceback unless ``--verbose``), exits 1 and
changes nothing; a misspelt parameter is refused at start-up with its path and the closest name."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.ingest.rawfiles import bars_csv
from tests.pipelines.ingestion.snapshots import file_bytes, table_rows

REPO = Path(__file__).resolve().parents[3]
KEDRO = str(Path(sys.executable).parent / "kedro")
OK = (10.0, 11.0, 9.0, 10.5, 100)
HINT = "(run with --verbose to see the traceback)"


def _kedro(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "STATARB_DB_URL"}  # the project's SQLite
    return subprocess.run(
        [KEDRO, "run", "--pipelines", "ingestion", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _day(date: str, symbols: tuple[str, ...]) -> bytes:
    return bars_csv([(s, date, f"10:0{m}:00", *OK) for s in symbols for m in range(3)])


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(REPO / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    raw = root / "data" / "01_raw"
    (raw / "bars").mkdir(parents=True)
    (raw / "symbols.csv").write_text(
        "ticker,name,asset_class,exchange,currency,sector\nAAA,A,equity,XNAS,USD,Tech\n"
    )
    (raw / "corporate_actions.csv").write_text("ticker,action,ex_date,ratio,cash_amount,note\n")
    (raw / "bars" / "SYNTH_bars_20260309.csv").write_bytes(_day("2026-03-09", ("AAA",)))
    proc = _kedro(root)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return root


def _paragraph(out: str, head: str) -> list[str]:
    """The lines from the one starting with ``head`` to the end of the output."""
    lines = out.rstrip("\n").splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(head)]
    assert len(starts) == 1, out[-4000:]
    return lines[starts[0] :]


def test_input_error_prints_one_paragraph_and_changes_nothing(project: Path):
    url = f"sqlite:///{project / 'data' / 'statarb.db'}"
    files, rows = file_bytes(project / "data"), table_rows(url)
    raw = project / "data" / "01_raw"
    (raw / "symbols.csv").write_text((raw / "symbols.csv").read_text() + "BBB,B,equity,X,USD,T\n")
    bad = bars_csv(
        [
            ("BBB", "2026-03-10", "10:00:00", *OK),
            ("BBB", "2026-03-10", "10:01:00", 10, "1O.9", 9, 10.5, 100),
        ]
    )
    (raw / "bars" / "SYNTH_bars_20260310.csv").write_bytes(bad)  # the last input breaks
    try:
        proc = _kedro(project)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 1
        assert "Traceback" not in out and "╭" not in out  # neither plain nor Rich traceback
        message = (
            "IngestionError: SYNTH_bars_20260310.csv, row 2: High value '1O.9' is not a number "
            "(rule non_numeric_value)"
        )
        assert _paragraph(out, "IngestionError: ") == [message, HINT]
        assert file_bytes(project / "data") == files
        assert table_rows(url) == rows

        verbose = _kedro(project, "--verbose")
        vout = verbose.stdout + verbose.stderr
        assert verbose.returncode == 1
        tail = _paragraph(vout, "IngestionError: ")
        assert tail[0] == message  # the message first, then the traceback
        assert "Traceback (most recent call last):" in tail
        assert tail[-1].endswith(message.removeprefix("IngestionError: "))
    finally:
        (raw / "bars" / "SYNTH_bars_20260310.csv").unlink()


def test_misspelt_parameter_is_refused_with_path_and_closest_name(project: Path):
    base = (project / "conf" / "base" / "parameters_ingestion.yml").read_text()
    assert "    volume_max:" in base
    local = project / "conf" / "local" / "parameters_ingestion.yml"
    local.write_text(base.replace("    volume_max:", "    volum_max:", 1))
    try:
        proc = _kedro(project)
    finally:
        local.unlink()
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "Traceback" not in out
    paragraph = _paragraph(out, "ConfigError: ")
    assert paragraph[0] == "ConfigError: invalid parameters in section 'ingestion':"
    assert (
        "  ingestion.validation.volum_max: unknown key "
        "(did you mean 'ingestion.validation.volume_max'?)" in "\n".join(paragraph)
    )
    assert paragraph[-1] == HINT
