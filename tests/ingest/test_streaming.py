"""Streamed validation (docs/ingestion.md, "Streaming"): groups of files give exactly the result of
one validation of the whole delivery, only per-symbol state crosses a group boundary, and the
staged rows are the ones published.

The reference is :func:`statarb.ingest.validate` called once on every row of the delivery (the
behaviour before streaming); the streamed runs call the ``ingest_bars`` node with 1, 2, 3 and 10
files per group on a delivery whose anomalies sit on both sides of the group boundaries. The
source has no file dates (``file_date: null``), so rows of a day may come in a later file and
be duplicates or out of order across files (with file dates they are ``file_date_mismatch``).
"""

from __future__ import annotations

import polars as pl
import pytest

from statarb.ingest import IngestionError, RowChecks, parse_partitions, validate
from statarb.ingest.config import ingestion_config
from statarb.ingest.staging import StagingArea
from statarb.ingest.validate import Carry
from statarb.pipelines.ingestion.nodes import BAR_STORE_COLUMNS, ingest_bars
from tests.ingest.kedro_helpers import load_params
from tests.ingest.rawfiles import bars_csv

OK = (10.0, 11.0, 9.0, 10.5, 100)
DAYS = ("2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05")


def _rows(day: str, symbol: str, minutes: range, values=OK) -> list[tuple]:
    return [
        (symbol, day, f"{9 + (30 + m) // 60:02d}:{(30 + m) % 60:02d}:00", *values) for m in minutes
    ]


def _delivery() -> dict[str, bytes]:
    """Four daily files; the later ones repeat or precede rows of earlier files."""
    files = {}
    for day in DAYS:
        rows = _rows(day, "AAA", range(5)) + _rows(day, "BBB", range(3))
        files[f"SYNTH_bars_{day.replace('-', '')}.csv"] = rows
    d0, d1, d2 = DAYS[:3]
    # file 2: an exact copy of a day-0 row (duplicate across files)
    files["SYNTH_bars_20260303.csv"].append(_rows(d0, "AAA", range(1))[0])
    # file 2: a bar on a Sunday (a row rule, never a duplicate)
    files["SYNTH_bars_20260303.csv"] += _rows("2026-03-01", "AAA", range(1))
    # file 2: BBB goes back in time inside its own day, and an unknown ticker
    files["SYNTH_bars_20260303.csv"] += _rows(d1, "BBB", range(1, 2), (10.0, 11.0, 9.0, 10.2, 7))
    files["SYNTH_bars_20260303.csv"] += _rows(d1, "ZZZ", range(2))
    # file 3: AAA's rows of day 2 twice (exact copies: duplicate), one copy with another close
    files["SYNTH_bars_20260304.csv"] += _rows(d2, "AAA", range(2))
    files["SYNTH_bars_20260304.csv"] += _rows(d2, "AAA", range(2, 3), (10.0, 11.0, 9.0, 10.1, 100))
    # file 4: the out-of-order BBB row of file 2 again (a copy of a quarantined row) and an
    # exact copy of a valid row of file 3 (a duplicate across the group boundary)
    files["SYNTH_bars_20260305.csv"] += _rows(d1, "BBB", range(1, 2), (10.0, 11.0, 9.0, 10.2, 7))
    files["SYNTH_bars_20260305.csv"] += _rows(d2, "BBB", range(2))
    # ... and a bar of day 2 that copies none (out of order across files)
    files["SYNTH_bars_20260305.csv"] += _rows(d2, "AAA", range(3, 4), (10.0, 11.0, 9.0, 10.5, 9))
    return {name: bars_csv(rows) for name, rows in files.items()}


def _params(files_per_group: int = 1) -> dict:
    params = load_params(("ingestion",))["ingestion"]
    params["streaming"]["files_per_group"] = files_per_group
    params["sources"]["synthetic"]["file_date"] = None
    return params


def _spec_checks():
    cfg = ingestion_config(_params())
    return cfg.active.bars, RowChecks.for_source(cfg, cfg.active.bars)


def _triples(q: pl.DataFrame) -> list[tuple[str, int, str]]:
    return sorted(q.select("source_file", "source_row", "rule").iter_rows())


@pytest.fixture(scope="module")
def reference():
    """One validation of every row (no groups)."""
    spec, checks = _spec_checks()
    return validate(parse_partitions(_delivery(), spec), "bars", ["AAA", "BBB"], checks)


def test_reference_has_anomalies_on_both_sides_of_group_boundaries(reference):
    rules = {rule for _, _, rule in _triples(reference.quarantine)}
    assert {"duplicate", "non_increasing_datetime", "non_trading_day", "unknown_symbol"} <= rules
    late = reference.quarantine.filter(pl.col("source_file") == "SYNTH_bars_20260305.csv")
    assert set(late["rule"]) == {"duplicate", "non_increasing_datetime"}


@pytest.mark.parametrize("per_group", [1, 2, 3, 10])
def test_groups_give_the_result_of_one_validation(per_group, reference, tmp_path):
    staged, report = ingest_bars(
        _delivery(), ["AAA", "BBB"], StagingArea(tmp_path), _params(per_group)
    )
    assert _triples(staged.read_quarantine()) == _triples(reference.quarantine)
    assert staged.read_quarantine().equals(reference.quarantine)  # rows, order, every column
    want = reference.valid.select(BAR_STORE_COLUMNS).sort("datetime", "symbol")
    assert staged.read_valid().sort("datetime", "symbol").equals(want)
    assert report["rows_read"] == reference.valid.height + reference.quarantine.height
    assert report["quarantined_by_rule"] == reference.counts()
    assert staged.last_datetime == reference.valid["datetime"].max()


def test_carry_holds_one_row_per_symbol():
    spec, checks = _spec_checks()
    carry = Carry()
    files = _delivery()
    for name in sorted(files):
        validate(parse_partitions({name: files[name]}, spec), "bars", ["AAA", "BBB"], checks, carry)
    assert sorted(carry.state["symbol"].to_list()) == ["AAA", "BBB", "ZZZ"]
    zzz = carry.state.filter(pl.col("symbol") == "ZZZ").row(0, named=True)
    assert zzz["_last_valid"] is None and zzz["_last_all"] is not None  # unknown: never valid


def test_failing_group_removes_the_staged_rows(tmp_path):
    files = _delivery()
    files["SYNTH_bars_20260306.csv"] = (
        b"Ticker,Date,Time,Open,High,Low,Close,Vol\nAAA,x,y,1,1,1,1,1\n"
    )
    from statarb.ingest.staging import open_area

    area = open_area(tmp_path / "staging")
    with pytest.raises(IngestionError) as info:
        ingest_bars(files, ["AAA", "BBB"], area, _params(1))
    assert info.value.rule == "missing_column"
    assert not (tmp_path / "staging").exists()


def test_staged_days_are_the_store_partitions(tmp_path):
    staged, _ = ingest_bars(_delivery(), ["AAA", "BBB"], StagingArea(tmp_path), _params(1))
    assert staged.days == DAYS
    chunks = staged.store_chunks((pl.lit(1.0).alias("adj_factor"),))
    assert len(chunks) == len(DAYS)
    for day, frame in zip(DAYS, chunks, strict=True):
        assert frame["datetime"].dt.date().unique().to_list() == [pl.Series([day]).str.to_date()[0]]
        assert frame["adj_factor"].to_list() == [1.0] * frame.height
