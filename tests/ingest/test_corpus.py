"""The malformed-input corpus (tests/ingest/corpus/cases.yml): one parametrized test runs every case.

Each case edits the generated base delivery and runs the validation phase of the ingestion
pipeline -- the ``ingest_*`` node functions, exactly what ``kedro run`` executes before it
publishes -- then checks the stated outcome: the run stops with an error naming file, row and rule;
or exactly the case's rows (plus the injected baseline) are quarantined with their rules and every
other row is in the output that is stored; or, for an accepted case, nothing more is quarantined
and the named rows are stored. ``test_all_cases_mixed_through_kedro`` then applies every
quarantine/accept case at once and runs the real pipeline with its store and database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
from kedro.runner import SequentialRunner

from statarb.ingest import IngestionError
from statarb.ingest.calendar import utc_to_local
from statarb.ingest.staging import StagingArea
from statarb.pipelines.ingestion import create_pipeline
from statarb.pipelines.ingestion.nodes import (
    ingest_bars,
    ingest_corporate_actions,
    ingest_symbols,
    ingest_ticks,
)
from statarb.storage.database import dispose_engines
from statarb.synthetic.generator import generate
from tests.ingest.corpus_delivery import (
    BASE,
    anomaly_rows,
    apply_edits,
    baseline_quarantine,
    load_cases,
    render,
    resolve_row,
)
from tests.ingest.kedro_helpers import build_catalog, load_params

CASES = load_cases()
TZ = "America/New_York"


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus_base")
    generate(out, BASE, force=True)
    return out


def _partitions(folder: Path) -> dict[str, Any]:
    if not folder.is_dir():
        return {}
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _plan(raw: Path, files_per_group: int = 1) -> dict[str, Any]:
    """The validation phase of the pipeline on ``raw`` (node functions; the rows they stage are
    read back from the staging folder). One file per group by default: every ordering and
    duplicate rule then works across group boundaries (the streamed case)."""
    params = load_params(("ingestion",))["ingestion"]
    params["streaming"]["files_per_group"] = files_per_group
    staging = StagingArea(raw.parent / "staging")
    symbols, known = ingest_symbols((raw / "symbols.csv").read_bytes(), params)
    bars, r_bars = ingest_bars(_partitions(raw / "bars"), known, staging, params)
    ticks, r_ticks = ingest_ticks(_partitions(raw / "ticks"), known, staging, params)
    actions, q_actions, r_actions = ingest_corporate_actions(
        (raw / "corporate_actions.csv").read_bytes(), known, bars, params
    )
    return {
        "stored": {
            "bars": bars.read_valid(),
            "ticks": ticks.read_valid(),
            "corporate_actions": actions,
            "symbols": symbols,
        },
        "quarantine": {
            "bars": bars.read_quarantine(),
            "ticks": ticks.read_quarantine(),
            "corporate_actions": q_actions,
        },
        "report": {"bars": r_bars, "ticks": r_ticks, "corporate_actions": r_actions},
    }


def _kind(file: str) -> str:
    if file.endswith(".parquet"):
        return "ticks"
    return "corporate_actions" if file == "corporate_actions.csv" else "bars"


def _triples(kind: str, q: pl.DataFrame) -> set[tuple[str, str, int, str]]:
    """(kind, file, row, rule) of a quarantine frame."""
    rows = q.select("source_file", "source_row", "rule").iter_rows()
    return {(kind, f, int(r), rule) for f, r, rule in rows}


def _quarantined(result: dict[str, Any]) -> set[tuple[str, str, int, str]]:
    return set().union(*(_triples(k, q) for k, q in result["quarantine"].items()))


def _expected(case: dict[str, Any], edited) -> set[tuple[str, str, int, str]]:
    return {
        (_kind(q["file"]), q["file"], resolve_row(q["row"], edited), q["rule"])
        for q in case["expect"].get("quarantined", [])
    }


def _assert_every_other_row_stored(result: dict[str, Any]) -> None:
    for kind in ("bars", "ticks", "corporate_actions"):
        rep = result["report"][kind]
        assert result["stored"][kind].height == rep["rows_read"] - rep["rows_quarantined"]
        assert result["quarantine"][kind].height == rep["rows_quarantined"]


def _stored_at(result: dict[str, Any], kind: str, symbol: str, local: str) -> bool:
    frame = result["stored"][kind]
    wall = utc_to_local(frame["datetime"], TZ).dt.strftime("%Y-%m-%d %H:%M:%S")
    return bool(((frame["symbol"] == symbol) & (wall == local)).any())


def test_corpus_has_forty_cases_each_with_one_outcome():
    assert len(CASES) >= 40
    assert len({c["id"] for c in CASES}) == len(CASES)
    for case in CASES:
        assert len(case["expect"]) == 1 and next(iter(case["expect"])) in (
            "quarantined",
            "accepted",
            "error",
        ), case["id"]


def test_base_delivery_quarantines_exactly_the_injected_rows(base, tmp_path):
    result = _plan(apply_edits(base, tmp_path / "raw", []) and tmp_path / "raw")
    assert _quarantined(result) == baseline_quarantine(base)
    _assert_every_other_row_stored(result)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_corpus_case(case, base, tmp_path):
    raw = tmp_path / "raw"
    edited = apply_edits(base, raw, case["edit"])
    near_anomaly = {(f, r + d) for f, r in edited.touched for d in (-1, 0, 1)} & anomaly_rows(base)
    assert not near_anomaly, f"edit next to an injected anomaly: {near_anomaly}"
    expect = case["expect"]
    if "error" in expect:
        want = expect["error"]
        row = resolve_row(want["row"], edited)
        with pytest.raises(IngestionError) as info:
            _plan(raw)
        err = info.value
        assert (err.source_file, err.row, err.rule) == (want["file"], row, want["rule"])
        message = str(err)
        assert message.startswith(want["file"]) and f"(rule {want['rule']})" in message
        assert (f", row {row}:" in message) == (row is not None)
        return
    result = _plan(raw)
    assert _quarantined(result) == baseline_quarantine(base) | _expected(case, edited)
    _assert_every_other_row_stored(result)
    for row in expect.get("accepted", []):
        symbol = render(row["symbol"], edited.records.get("r", {}))
        assert _stored_at(result, row["kind"], symbol, row["local"]), row


def test_all_cases_mixed_through_kedro(base, tmp_path, db_url):
    """Every quarantine/accept case at once (skipping edits of an already edited row and the case
    that adds a later valid day, which moves the corporate-action horizon), through the real
    pipeline: the quarantine files hold exactly the expected rows, the store and the database
    every other row."""
    raw = tmp_path / "raw"
    apply_edits(base, raw, [])
    expected, touched, accepted = baseline_quarantine(base), set(), []
    for case in CASES:
        if "error" in case["expect"] or case["id"] == "early_close_day":
            continue
        sets = [e["set"] for e in case["edit"] if "set" in e]
        rows = {(s["file"], str(s["where"])) for s in sets}
        if rows & touched:
            continue
        touched |= rows
        edited = apply_edits(base, raw, case["edit"])
        expected |= _expected(case, edited)
        accepted += [(r, edited.records.get("r", {})) for r in case["expect"].get("accepted", [])]
    assert len(expected - baseline_quarantine(base)) >= 40
    catalog = build_catalog(tmp_path, raw, db_url)
    try:
        SequentialRunner().run(create_pipeline(), catalog)
        quarantine = tmp_path / "data" / "02_intermediate" / "quarantine"
        kinds = ("bars", "ticks", "corporate_actions")
        got = set().union(
            *(_triples(k, pl.read_parquet(quarantine / f"{k}.parquet")) for k in kinds)
        )
        assert got == expected
        report = catalog.load("ingestion_report")
        bars = catalog.load("bars").collect()
        ticks = catalog.load("ticks").collect()
        assert bars.height == report["bars"]["rows_read"] - report["bars"]["rows_quarantined"]
        assert ticks.height == report["ticks"]["rows_read"] - report["ticks"]["rows_quarantined"]
        actions = catalog.load("corporate_actions")
        assert actions.height == report["corporate_actions"]["rows_valid"]
        stored = {"bars": bars, "ticks": ticks}
        for row, rec in accepted:
            symbol = render(row["symbol"], rec)
            assert _stored_at({"stored": stored}, row["kind"], symbol, row["local"]), row
    finally:
        dispose_engines()
