"""The generator at any size: pinned digests of the version-1 output, NYSE calendar rules,
generated tickers, scaled pairs, sessions past ``end`` accepted by ingestion's calendar, and the
Parquet bar files holding the CSV's values."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal

from statarb.ingest.calendar import TradingCalendar
from statarb.ingest.config import CalendarConfig
from statarb.synthetic.calendar import nyse_sessions
from statarb.synthetic.config import load_config
from statarb.synthetic.generator import build, generate
from statarb.synthetic.nyse import easter_sunday, nyse_early_closes, nyse_holidays
from statarb.synthetic.pairs import scaled_counts
from statarb.synthetic.tickers import TICKERS, universe

from .conftest import SMALL

CONF = Path(__file__).resolve().parents[2] / "conf" / "base"
# sha256 over "<relative path> <sha256 of the file>" lines (sorted) of every file written by the
# generator of main at 70efaae (before streaming): the streamed generator must reproduce them
DEFAULT_DIGEST = "e18ab6328e74a5855fe6165cc4ffe698314158609e98a16b7c608e9702f02090"
SMALL_DIGEST = "6a83e6886bc367daeefc3bd83a348dc50e90061077048e14782758af0246bb47"


def tree_digest(root: Path) -> str:
    lines = sorted(
        f"{p.relative_to(root).as_posix()} {hashlib.sha256(p.read_bytes()).hexdigest()}"
        for p in root.rglob("*")
        if p.is_file()
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def test_small_output_is_byte_identical_to_the_in_memory_generator(small_dir):
    assert tree_digest(small_dir) == SMALL_DIGEST


def test_default_output_is_byte_identical_to_the_in_memory_generator(tmp_path):
    """The recovery tests and the shipped figures depend on these exact files."""
    generate(tmp_path, load_config(CONF / "parameters_synthetic.yml"))
    assert tree_digest(tmp_path) == DEFAULT_DIGEST


def test_nyse_rules_on_known_dates():
    assert easter_sunday(2026) == dt.date(2026, 4, 5) and easter_sunday(2027) == dt.date(
        2027, 3, 28
    )
    assert nyse_holidays(2026) == [
        dt.date(2026, m, d)
        for m, d in (
            (1, 1),
            (1, 19),
            (2, 16),
            (4, 3),
            (5, 25),
            (6, 19),
            (7, 3),
            (9, 7),
            (11, 26),
            (12, 25),
        )
    ]
    assert nyse_holidays(2027) == [
        dt.date(2027, m, d)
        for m, d in (
            (1, 1),
            (1, 18),
            (2, 15),
            (3, 26),
            (5, 31),
            (6, 18),
            (7, 5),
            (9, 6),
            (11, 25),
            (12, 24),
        )
    ]
    assert dt.date(2022, 1, 1) not in nyse_holidays(2022)  # Saturday: not observed on Dec 31
    assert set(nyse_early_closes(2026)) == {dt.date(2026, 11, 27), dt.date(2026, 12, 24)}
    assert set(nyse_early_closes(2027)) == {dt.date(2027, 11, 26)}  # Dec 24 is the holiday
    assert dt.date(2025, 7, 3) in nyse_early_closes(2025)  # fmt: skip


def test_nyse_rules_reproduce_the_ingestion_calendar():
    doc = yaml.safe_load((CONF / "parameters_ingestion.yml").read_text())
    cal = doc["ingestion"]["calendars"]["us_equities"]
    listed = {dt.date.fromisoformat(str(d)) for d in cal["holidays"]}
    special = {dt.date(2025, 1, 9)}  # national day of mourning: not a rule
    for year in range(2019, 2031):
        assert {d for d in listed if d.year == year} - special == set(nyse_holidays(year)), year
    early = {dt.date.fromisoformat(str(d)) for d in cal["early_closes"]}
    rules = {d for y in range(2019, 2031) for d in nyse_early_closes(y)}
    assert rules == early


def test_tickers_beyond_the_fixed_forty():
    assert universe(30, "QQZX") == tuple(sorted(TICKERS[:30]))
    names = universe(2000, "QQZX")
    assert len(set(names)) == 2000 and list(names) == sorted(names)
    assert set(TICKERS) < set(names) and "QQZX" not in names
    pattern = yaml.safe_load((CONF / "parameters_ingestion.yml").read_text())
    pat = pattern["ingestion"]["validation"]["ticker_pattern"]
    assert pl.Series(names).str.contains(pat).all()
    first = universe(41, "QQZX")
    assert universe(41, first[-1]) != first and first[-1] not in universe(41, first[-1].lower())


def test_pair_counts_scale_with_the_universe():
    cfg = load_config(CONF / "parameters_synthetic.yml")
    assert scaled_counts(cfg) == {"constant": 4, "drift": 2, "break": 1}
    assert scaled_counts(cfg.with_overrides(n_symbols=500)) == {
        "constant": 67, "drift": 33, "break": 17}  # fmt: skip
    assert cfg.to_json_dict().keys().isdisjoint({"bar_format", "pairs_reference_symbols"})
    assert "pairs_reference_symbols" in cfg.with_overrides(n_symbols=31).to_json_dict()


def _calendar() -> TradingCalendar:
    doc = yaml.safe_load((CONF / "parameters_ingestion.yml").read_text())
    return TradingCalendar(
        CalendarConfig.model_validate(doc["ingestion"]["calendars"]["us_equities"])
    )


def test_sessions_run_past_end_through_holidays_and_early_closes():
    days = nyse_sessions(dt.date(2026, 11, 20), dt.date(2026, 11, 23), 8)
    assert days[0] == dt.date(2026, 11, 20) and len(days) == 8
    assert dt.date(2026, 11, 26) not in days and days[-1] == dt.date(2026, 12, 2)


@pytest.fixture(scope="module")
def wide_run(tmp_path_factory):
    cfg = SMALL.with_overrides(
        n_symbols=64, start=dt.date(2026, 11, 24), end=dt.date(2026, 11, 24), n_days=3
    )
    out = tmp_path_factory.mktemp("synth_wide")
    generate(out, cfg)
    return cfg, out


def test_wide_universe_with_an_early_close(wide_run):
    cfg, out = wide_run
    data = build(cfg)
    m = data.market
    assert len(m.symbols) == 64 and [str(d) for d in m.clock.days] == [
        "2026-11-24", "2026-11-25", "2026-11-27"]  # fmt: skip
    assert [m.clock.day_len(d) for d in range(3)] == [390, 390, 210]  # 13:00 close on Nov 27
    per_sector = pl.Series([p.sector for p in m.pairs]).value_counts()["count"]
    assert len(m.pairs) == 15 and per_sector.max() - per_sector.min() <= 1  # 7 * 64 / 30
    truth = pl.read_json(out / "ground_truth" / "pairs.json")
    assert truth.filter(pl.col("cointegrated")).height == 15
    assert truth.height == 64 * 63 // 2
    bars = pl.concat(
        [
            pl.read_csv(p, schema_overrides={"Volume": pl.Int64})
            for p in sorted((out / "bars").glob("*.csv"))
        ]
    )
    local = pl.concat_str("Date", pl.lit(" "), "Time").str.to_datetime("%Y-%m-%d %H:%M:%S")
    cal = _calendar()
    ok = bars.select(
        (cal.trading_day(local) & cal.in_session(local, include_close=False)).all()
    ).item()
    assert ok, "a generated bar lies outside ingestion's us_equities sessions"
    assert bars.filter(pl.col("Date") == "2026-11-27")["Time"].max() == "12:59:00"


def test_parquet_bars_hold_the_csv_values(wide_run, tmp_path):
    cfg, out = wide_run
    generate(tmp_path, cfg.with_overrides(bar_format="parquet"))
    csvs = sorted((out / "bars").glob("*.csv"))
    pqs = sorted((tmp_path / "bars").glob("*.parquet"))
    assert [p.stem for p in pqs] == [p.stem for p in csvs]
    schema = {"Ticker": pl.String, "Date": pl.String, "Time": pl.String, "Open": pl.Float64,
              "High": pl.Float64, "Low": pl.Float64, "Close": pl.Float64, "Volume": pl.Int64}  # fmt: skip
    for c, p in zip(csvs, pqs, strict=True):
        got = pl.read_parquet(p)
        assert got.schema == pl.Schema(schema)
        assert_frame_equal(got, pl.read_csv(c, schema=schema))
    anomalies = (tmp_path / "ground_truth" / "anomalies.json").read_text()
    assert ".parquet" in anomalies and ".csv" not in anomalies
