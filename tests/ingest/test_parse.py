"""Parsing raw vendor files: local time -> UTC (with DST), upper-casing, parse errors."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from statarb.ingest import IngestionError, parse_file, parse_partitions
from statarb.ingest.parse import local_to_utc
from tests.ingest.rawfiles import bars_csv

NY = ZoneInfo("America/New_York")
ROW = (1.0, 2.0, 0.5, 1.5, 100)


def _utc(d: str, t: str) -> dt.datetime:
    """Reference conversion with the standard library's tz database."""
    naive = dt.datetime.fromisoformat(f"{d}T{t}")
    return naive.replace(tzinfo=NY).astimezone(dt.UTC)


def test_dst_conversion_matches_zoneinfo(bar_spec):
    # 2026-03-08 is the US spring-forward day; 2026-11-01 the fall-back day
    stamps = [
        ("2026-03-06", "09:30:00"),
        ("2026-03-09", "09:30:00"),
        ("2026-03-08", "01:59:59"),
        ("2026-03-08", "03:00:00"),
        ("2026-10-30", "15:59:00"),
        ("2026-11-02", "09:30:00"),
    ]
    data = bars_csv([("aapl", d, t, *ROW) for d, t in stamps])
    df = parse_file(data, "SYNTH_bars_x.csv", bar_spec)
    assert df.schema["datetime"] == pl.Datetime("us", "UTC")
    assert df["datetime"].to_list() == [_utc(d, t) for d, t in stamps]
    # 09:30 New York is 14:30 UTC in winter (EST) and 13:30 UTC in summer (EDT)
    assert df["datetime"][0].hour == 14 and df["datetime"][1].hour == 13
    assert df["symbol"].to_list() == ["AAPL"] * len(stamps)
    assert df["source_row"].to_list() == list(range(1, len(stamps) + 1))
    assert (df["source_file"] == "SYNTH_bars_x.csv").all()


@pytest.mark.parametrize(
    ("date", "time", "row"),
    [("2026-03-08", "02:30:00", 2), ("2026-11-01", "01:30:00", 2)],
    ids=["non-existent", "ambiguous"],
)
def test_dst_gap_or_fold_is_error_naming_file_and_row(bar_spec, date, time, row):
    data = bars_csv([("AAPL", "2026-03-06", "09:30:00", *ROW), ("AAPL", date, time, *ROW)])
    with pytest.raises(
        IngestionError, match=rf"bad\.csv, row {row}: local time .* ambiguous or does not exist"
    ):
        parse_file(data, "bad.csv", bar_spec)


def test_microsecond_precision_ticks(tick_spec):
    raw = pl.DataFrame(
        {
            "sym": ["spy", "SPY"],
            "ts": ["2026-05-28 09:30:00.000001", "2026-05-28 15:59:59.999999"],
            "px": [500.0, 501.0],
            "qty": [10.0, 5.0],
            "side": ["B", "S"],
            "venue": ["X", "Y"],
        }
    )
    buf = io.BytesIO()
    raw.write_parquet(buf)
    df = parse_file(buf.getvalue(), "t.parquet", tick_spec)
    assert df["datetime"].to_list() == [
        dt.datetime(2026, 5, 28, 13, 30, 0, 1, tzinfo=dt.UTC),
        dt.datetime(2026, 5, 28, 19, 59, 59, 999999, tzinfo=dt.UTC),
    ]
    assert df["side"].to_list() == ["buy", "sell"]
    assert df["exchange"].to_list() == ["X", "Y"]
    assert df["symbol"].to_list() == ["SPY", "SPY"]


def test_unparseable_price_fails_naming_file_row_and_rule(bar_spec):
    bad = ("AAPL", "2026-03-06", "09:31:00", "abc", 2, 1, 1.5, 100)
    data = bars_csv([("AAPL", "2026-03-06", "09:30:00", *ROW), bad])
    with pytest.raises(
        IngestionError,
        match=r"^SYNTH_bars_20260306\.csv, row 2: Open value 'abc' is not a number "
        r"\(rule non_numeric_value\)$",
    ):
        parse_file(data, "SYNTH_bars_20260306.csv", bar_spec)


def test_numbers_with_spaces_and_empty_values_parse(bar_spec):
    data = bars_csv([("AAPL", "2026-03-06", "09:30:00", " 1.0", "2.0 ", "", 1.5, " ")])
    df = parse_file(data, "f.csv", bar_spec)
    assert df.select("open", "high", "low", "close", "volume").row(0) == (1.0, 2.0, None, 1.5, None)


def test_lower_case_ascii_tickers_are_upper_cased_but_not_unicode(bar_spec):
    rows = [(t, "2026-03-06", "09:30:00", *ROW) for t in (" aapl ", "straße", "ａｂｃ", "brk.b")]
    df = parse_file(bars_csv(rows), "f.csv", bar_spec)
    assert df["symbol"].to_list() == ["AAPL", "straße", "ａｂｃ", "BRK.B"]


def test_missing_column_fails_with_file_name(bar_spec):
    data = b"Ticker,Date,Time,Open,High,Low,Close\nAAPL,2026-03-06,09:30:00,1,2,1,1.5\n"
    with pytest.raises(IngestionError, match=r"f\.csv: missing column\(s\) \['Volume'\]"):
        parse_file(data, "f.csv", bar_spec)


def test_bad_timestamp_names_row(bar_spec):
    data = bars_csv(
        [("AAPL", "2026-03-06", "09:30:00", *ROW), ("AAPL", "2026-13-06", "09:31:00", *ROW)]
    )
    with pytest.raises(
        IngestionError, match=r"f\.csv, row 2: cannot parse timestamp '2026-13-06 09:31:00'"
    ):
        parse_file(data, "f.csv", bar_spec)


def test_garbage_parquet_fails_with_file_name(tick_spec):
    with pytest.raises(IngestionError, match=r"^t\.parquet: cannot parse parquet"):
        parse_file(b"not a parquet file", "t.parquet", tick_spec)


def test_partitions_concatenate_in_file_name_order(bar_spec):
    parts = {
        "SYNTH_bars_20260310.csv": lambda: bars_csv([("AAPL", "2026-03-10", "09:30:00", *ROW)]),
        "SYNTH_bars_20260309.csv": bars_csv([("AAPL", "2026-03-09", "09:30:00", *ROW)]),
    }
    df = parse_partitions(parts, bar_spec)
    assert df["source_file"].to_list() == ["SYNTH_bars_20260309.csv", "SYNTH_bars_20260310.csv"]
    assert parse_partitions({}, bar_spec).height == 0


def test_errors_name_the_right_row_on_deduplicated_timestamps(bar_spec):
    # 40 rows over 2 distinct timestamps: conversion runs once per distinct value, joined back
    rows = [(f"S{i}", "2026-03-06", "09:30:00" if i % 2 else "09:31:00", *ROW) for i in range(40)]
    ok = parse_file(bars_csv(rows), "f.csv", bar_spec)
    assert ok["datetime"].to_list() == [
        _utc("2026-03-06", "09:30:00" if i % 2 else "09:31:00") for i in range(40)
    ]
    rows[36] = ("S36", "2026-03-08", "02:15:00", *ROW)
    with pytest.raises(IngestionError, match=r"f\.csv, row 37: local time 2026-03-08 02:15:00"):
        parse_file(bars_csv(rows), "f.csv", bar_spec)
    rows[36] = ("S36", "2026-03-06", "9h30", *ROW)
    with pytest.raises(
        IngestionError, match=r"f\.csv, row 37: cannot parse timestamp '2026-03-06 9h30'"
    ):
        parse_file(bars_csv(rows), "f.csv", bar_spec)


@pytest.mark.parametrize(
    "tz", ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
)
def test_local_to_utc_matches_zoneinfo_across_transitions(tz):
    # every 7 min 13 s over two years (both DST changes each year; Lord Howe shifts by 30 min)
    start = dt.datetime(2025, 1, 1)
    local = pl.datetime_range(
        start, dt.datetime(2026, 12, 31), dt.timedelta(minutes=7, seconds=13), eager=True
    )
    local = pl.concat([local, pl.Series([None], dtype=pl.Datetime("us"))])
    got = local_to_utc(local, tz).to_list()
    zone = ZoneInfo(tz)

    def ref(t: dt.datetime | None) -> dt.datetime | None:
        """zoneinfo: a wall time is valid iff it round-trips; fold 0 and 1 agree iff unique."""
        if t is None:
            return None
        a, b = t.replace(tzinfo=zone, fold=0), t.replace(tzinfo=zone, fold=1)
        back = a.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
        if a.utcoffset() != b.utcoffset() or back != t:
            return None  # ambiguous (fold) or non-existent (gap)
        return a.astimezone(dt.UTC)

    expected = [ref(t) for t in local.to_list()]
    assert got == expected
    if tz != "UTC" and tz != "Asia/Kolkata":
        assert any(g is None for g in got[:-1])  # the grid does hit a fold or a gap


def test_partitions_error_names_file_and_row_of_first_bad_timestamp(bar_spec):
    good = bars_csv([("AAPL", "2026-03-06", "09:30:00", *ROW)] * 2)
    bad = bars_csv(
        [("AAPL", "2026-11-02", "09:30:00", *ROW), ("AAPL", "2026-11-01", "01:30:00", *ROW)]
    )
    parts = {"a_20260306.csv": good, "b_20261101.csv": bad, "c_20261102.csv": bad}
    with pytest.raises(IngestionError, match=r"^b_20261101\.csv, row 2: local time"):
        parse_partitions(parts, bar_spec)


def test_partitions_equal_per_file_parse(bar_spec):
    days = ["2026-03-06", "2026-03-09", "2026-11-02"]
    parts = {
        f"SYNTH_bars_{d.replace('-', '')}.csv": bars_csv(
            [(s, d, t, *ROW) for s in ("aapl", "MSFT ") for t in ("09:30:00", "15:59:00")]
        )
        for d in days
    }
    together = parse_partitions(parts, bar_spec)
    one_by_one = pl.concat([parse_file(parts[n], n, bar_spec) for n in sorted(parts)])
    assert together.equals(one_by_one)
    assert together["datetime"].to_list() == [
        _utc(d, t) for d in days for _ in range(2) for t in ("09:30:00", "15:59:00")
    ]
    assert together["symbol"].unique().sort().to_list() == ["AAPL", "MSFT"]


def test_custom_date_and_time_formats(bar_spec):
    spec = bar_spec.model_validate(
        bar_spec.model_dump() | {"date_format": "%d/%m/%Y", "time_format": "%H%M%S"}
    )
    stamps = [("06/03/2026", "093000"), ("09/03/2026", "155959"), ("31/12/1969", "235959")]
    df = parse_file(bars_csv([("AAPL", d, t, *ROW) for d, t in stamps]), "f.csv", spec)
    want = [
        dt.datetime.strptime(f"{d} {t}", "%d/%m/%Y %H%M%S").replace(tzinfo=NY).astimezone(dt.UTC)
        for d, t in stamps
    ]
    assert df["datetime"].to_list() == want
    with pytest.raises(IngestionError, match=r"f\.csv, row 1: cannot parse timestamp '2026-03-06"):
        parse_file(bars_csv([("AAPL", "2026-03-06", "093000", *ROW)]), "f.csv", spec)
