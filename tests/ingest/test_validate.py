"""Validation rules (spec §8): each bad row lands in quarantine with its file, row and rule."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import polars as pl
import pytest

from statarb.ingest import parse_corporate_actions, parse_partitions, parse_symbols, validate
from statarb.ingest.parse import parse_file
from tests.ingest.rawfiles import bars_csv

OK = (10.0, 11.0, 9.0, 10.5, 100)
DAY1 = [
    ("aapl", "2026-03-06", "09:30:00", *OK),  # 1 ok (lower-case ticker is fine)
    ("AAPL", "2026-03-06", "09:31:00", 10.0, 11.0, 9.0, -1.0, 100),  # 2 negative_price
    ("AAPL", "2026-03-06", "09:32:00", 10.0, 8.0, 9.0, 10.5, 100),  # 3 high_lt_low
    ("AAPL", "2026-03-06", "09:33:00", 10.0, 11.0, 9.0, "NaN", 100),  # 4 non_finite_price
    ("AAPL", "2026-03-06", "09:34:00", 10.0, 11.0, 9.0, "inf", 100),  # 5 non_finite_price
    ("ZZZZ", "2026-03-06", "09:34:00", *OK),  # 6 unknown_symbol
    ("AAPL", "2026-03-06", "09:35:00", *OK),  # 7 ok
    ("AAPL", "2026-03-06", "09:35:00", *OK),  # 8 duplicate of 7
    ("AAPL", "2026-03-06", "09:33:00", *OK),  # 9 non_increasing_datetime (after 09:35)
    ("AAPL", "2026-03-06", "09:35:00", 10.0, 11.0, 9.0, 10.4, 100),  # 10 same key, other value
    ("MSFT", "2026-03-06", "09:30:00", *OK),  # 11 ok (other symbol, own ordering)
    ("MSFT", "2026-03-06", "09:31:00", 10.0, 11.0, 9.0, 10.5, -5),  # 12 invalid_volume
    ("AAPL", "2026-03-06", "09:36:00", *OK),  # 13 ok
]
EXPECTED = {
    2: "negative_price",
    3: "high_lt_low",
    4: "non_finite_price",
    5: "non_finite_price",
    6: "unknown_symbol",
    8: "duplicate",
    9: "non_increasing_datetime",
    10: "non_increasing_datetime",
    12: "invalid_volume",
}


def test_each_rule_quarantines_file_row_and_rule(bar_spec, bar_checks):
    df = parse_file(bars_csv(DAY1), "SYNTH_bars_20260306.csv", bar_spec)
    res = validate(df, "bars", ["AAPL", "MSFT"], bar_checks)
    q = res.quarantine
    assert dict(zip(q["source_row"], q["rule"], strict=True)) == EXPECTED
    assert (q["source_file"] == "SYNTH_bars_20260306.csv").all()
    assert q.columns[:3] == ["rule", "source_file", "source_row"]
    # raw values are kept: row 2's close is the offending -1.0
    assert q.filter(pl.col("source_row") == 2)["close"][0] == -1.0
    assert res.valid["source_row"].to_list() == [1, 7, 11, 13]
    # nothing valid dropped, nothing duplicated: valid + quarantine = input rows
    assert res.valid.height + q.height == df.height
    assert res.counts() == {
        "duplicate": 1,
        "high_lt_low": 1,
        "invalid_volume": 1,
        "negative_price": 1,
        "non_finite_price": 2,
        "non_increasing_datetime": 2,
        "unknown_symbol": 1,
    }
    # the valid rows are strictly increasing per symbol
    v = res.valid
    assert (
        v.group_by("symbol")
        .agg((pl.col("datetime").diff().drop_nulls() > 0).all())["datetime"]
        .all()
    )


def test_ordering_and_duplicates_span_files(bar_spec, bar_checks):
    parts = {
        "SYNTH_bars_20260306.csv": bars_csv([("AAPL", "2026-03-06", "15:59:00", *OK)]),
        "SYNTH_bars_20260309.csv": bars_csv(
            [("AAPL", "2026-03-06", "15:59:00", *OK), ("AAPL", "2026-03-09", "09:30:00", *OK)]
        ),
    }
    # a vendor without dates in its file names: the re-delivered row is a duplicate
    undated = dataclasses.replace(bar_checks, file_date=None)
    res = validate(parse_partitions(parts, bar_spec), "bars", ["AAPL"], undated)
    assert res.quarantine.select("rule", "source_file", "source_row").rows() == [
        ("duplicate", "SYNTH_bars_20260309.csv", 1)
    ]
    # with the shipped file-date rule it does not belong to the file of 03-09 at all
    res = validate(parse_partitions(parts, bar_spec), "bars", ["AAPL"], bar_checks)
    assert res.quarantine.select("rule", "source_file", "source_row").rows() == [
        ("file_date_mismatch", "SYNTH_bars_20260309.csv", 1)
    ]


def test_misdated_bar_does_not_push_the_next_day_out_of_order(bar_spec, bar_checks):
    """A 03-09 bar inside the 03-06 file is quarantined alone; 03-09's own bars all stay."""
    times = [f"{9 + (30 + m) // 60:02d}:{(30 + m) % 60:02d}:00" for m in range(390)]
    day2 = [("AAPL", "2026-03-09", t, *OK) for t in times]
    parts = {
        "SYNTH_bars_20260306.csv": bars_csv(
            [("AAPL", "2026-03-06", "09:30:00", *OK), ("AAPL", "2026-03-09", "15:00:00", *OK)]
        ),
        "SYNTH_bars_20260309.csv": bars_csv(day2),
    }
    res = validate(parse_partitions(parts, bar_spec), "bars", ["AAPL"], bar_checks)
    assert res.quarantine.select("rule", "source_file", "source_row").rows() == [
        ("file_date_mismatch", "SYNTH_bars_20260306.csv", 2)
    ]
    assert res.valid.height == 1 + 390


def test_copy_of_a_quarantined_row_is_not_a_duplicate(bar_spec, bar_checks):
    """The first copy fails a row rule (wrong file); the later, correct copy is kept."""
    row = ("AAPL", "2026-03-09", "09:30:00", *OK)
    parts = {
        "SYNTH_bars_20260306.csv": bars_csv([("AAPL", "2026-03-06", "09:30:00", *OK), row]),
        "SYNTH_bars_20260309.csv": bars_csv([row]),
    }
    res = validate(parse_partitions(parts, bar_spec), "bars", ["AAPL"], bar_checks)
    assert res.quarantine.select("rule", "source_file", "source_row").rows() == [
        ("file_date_mismatch", "SYNTH_bars_20260306.csv", 2)
    ]
    assert res.valid.select("source_file", "source_row").rows() == [
        ("SYNTH_bars_20260306.csv", 1),
        ("SYNTH_bars_20260309.csv", 1),
    ]


def test_tick_rules(tick_spec, tick_checks):
    raw = pl.DataFrame(
        {
            "sym": ["SPY", "SPY", "SPY", "SPY", "QQQ", "SPY"],
            "ts": [
                "2026-05-28 09:30:00.000001",
                "2026-05-28 09:30:00.000001",  # exact duplicate
                "2026-05-28 09:30:00.500000",
                "2026-05-28 09:30:00.400000",  # earlier than previous -> non_increasing
                "2026-05-28 09:30:00.400000",  # unknown symbol
                "2026-05-28 09:30:01.000000",
            ],
            "px": [500.0, 500.0, 501.0, 499.0, 1.0, float("nan")],
            "qty": [10.0, 10.0, 5.0, 1.0, 1.0, 1.0],
            "side": ["B", "B", "S", "B", "B", "S"],
            "venue": ["X"] * 6,
        }
    )
    buf = io.BytesIO()
    raw.write_parquet(buf)
    df = parse_file(buf.getvalue(), "SYNTH_ticks_20260528.parquet", tick_spec)
    res = validate(df, "ticks", ["SPY"], tick_checks)
    assert res.quarantine.select("source_row", "rule").rows() == [
        (2, "duplicate"),
        (4, "non_increasing_datetime"),
        (5, "unknown_symbol"),
        (6, "non_finite_price"),
    ]
    assert res.valid["source_row"].to_list() == [1, 3]


def test_validate_rejects_unknown_kind(bar_spec, bar_checks):
    df = parse_file(bars_csv([("AAPL", "2026-03-06", "09:30:00", *OK)]), "f.csv", bar_spec)
    with pytest.raises(ValueError, match="kind must be"):
        validate(df, "quotes", ["AAPL"], bar_checks)


SYMBOLS = b"""ticker,name,asset_class,exchange,currency,sector
aapl,Apple,equity,XNAS,USD,Tech
MSFT,Microsoft,equity,XNAS,USD,Tech
"""


def test_symbols_upper_cased_and_typed(ingestion_cfg):
    df = parse_symbols(SYMBOLS, ingestion_cfg.validation)
    assert df["symbol_id"].to_list() == ["AAPL", "MSFT"]
    assert df.columns == [
        "symbol_id",
        "display_name",
        "asset_class",
        "exchange",
        "currency",
        "updated_at",
    ]
    assert df.schema["updated_at"] == pl.Datetime("us", "UTC")


def test_symbols_duplicate_ticker_is_error(ingestion_cfg):
    from statarb.ingest import IngestionError

    with pytest.raises(
        IngestionError,
        match=r"symbols\.csv, row 3: ticker 'AAPL' listed more than once .*duplicate_symbol\)$",
    ):
        parse_symbols(
            SYMBOLS + b"AAPL,Apple again,equity,XNAS,USD,Tech\n", ingestion_cfg.validation
        )


def test_corporate_actions_parsed_and_bad_rows_quarantined(ingestion_cfg):
    raw = b"""ticker,action,ex_date,ratio,cash_amount,note
aapl,split,2026-03-10,2.0,,2-for-1
MSFT,dividend,2026-04-01,,0.75,quarterly
ZZZZ,dividend,2026-04-01,,0.75,unknown
MSFT,split,2026-04-02,,,no ratio
MSFT,merger,2026-04-03,1.0,,bad action
MSFT,dividend,2026-04-01,,0.80,same key again
"""
    last_bar = dt.date(2026, 4, 2)
    res = parse_corporate_actions(raw, ["AAPL", "MSFT"], ingestion_cfg.validation, last_bar)
    v = res.valid
    assert v.select("symbol_id", "action_type", "ratio", "cash_amount").rows() == [
        ("AAPL", "split", 2.0, None),
        ("MSFT", "dividend", None, 0.75),
    ]
    assert v.schema["ex_date"] == pl.Date and v["ex_date"][0].isoformat() == "2026-03-10"
    assert v.schema["recorded_at"] == pl.Datetime("us", "UTC")
    assert res.quarantine.select("source_row", "rule").rows() == [
        (3, "unknown_symbol"),
        (4, "invalid_ratio"),
        (5, "unknown_action"),
        (6, "duplicate"),
    ]


# ---- every rule on its own: a minimal file holding one good row and the bad one -------------------

GOOD = ("AAPL", "2026-03-06", "09:30:00", *OK)
ALONE_BARS = {  # rule -> rows of SYNTH_bars_20260306.csv (the last row breaks the rule)
    "invalid_symbol": [GOOD, ("AA PL", "2026-03-06", "09:31:00", *OK)],
    "unknown_symbol": [GOOD, ("ZZZZ", "2026-03-06", "09:31:00", *OK)],
    "non_finite_price": [GOOD, ("AAPL", "2026-03-06", "09:31:00", 10, 11, 9, "nan", 100)],
    "negative_price": [GOOD, ("AAPL", "2026-03-06", "09:31:00", 10, 11, -9, 10.5, 100)],
    "zero_price": [GOOD, ("AAPL", "2026-03-06", "09:31:00", 0, 0, 0, 0, 100)],
    "price_out_of_range": [GOOD, ("AAPL", "2026-03-06", "09:31:00", 10, 2e6, 9, 10.5, 100)],
    "high_lt_low": [GOOD, ("AAPL", "2026-03-06", "09:31:00", 10, 8, 9, 10.5, 100)],
    "open_outside_high_low": [GOOD, ("AAPL", "2026-03-06", "09:31:00", 12, 11, 9, 10.5, 100)],
    "close_outside_high_low": [GOOD, ("AAPL", "2026-03-06", "09:31:00", 10, 11, 9, 8.5, 100)],
    "invalid_volume": [GOOD, ("AAPL", "2026-03-06", "09:31:00", 10, 11, 9, 10.5, -1)],
    "volume_out_of_range": [GOOD, ("AAPL", "2026-03-06", "09:31:00", 10, 11, 9, 10.5, 1e12)],
    "non_trading_day": [GOOD, ("AAPL", "2026-03-07", "09:31:00", *OK)],  # a Saturday
    "outside_session": [GOOD, ("AAPL", "2026-03-06", "16:00:00", *OK)],
    "file_date_mismatch": [GOOD, ("AAPL", "2026-03-05", "09:31:00", *OK)],
    "duplicate": [GOOD, GOOD],
    "non_increasing_datetime": [("AAPL", "2026-03-06", "09:31:00", *OK), GOOD],
}


@pytest.mark.parametrize("rule", sorted(ALONE_BARS))
def test_each_bar_rule_alone(rule, bar_spec, bar_checks):
    df = parse_file(bars_csv(ALONE_BARS[rule]), "SYNTH_bars_20260306.csv", bar_spec)
    res = validate(df, "bars", ["AAPL"], bar_checks)
    assert res.quarantine.select("source_row", "rule").rows() == [(2, rule)]
    assert res.valid["source_row"].to_list() == [1]


def _ticks(rows: list[tuple]) -> bytes:
    buf = io.BytesIO()
    pl.DataFrame(
        rows, schema=["sym", "ts", "px", "qty", "side", "venue"], orient="row"
    ).write_parquet(buf)
    return buf.getvalue()


TICK = ("SPY", "2026-05-28 09:30:00.000001", 500.0, 10.0, "B", "X")
ALONE_TICKS = {
    "invalid_symbol": [TICK, ("", "2026-05-28 09:30:01.0", 500.0, 1.0, "B", "X")],
    "unknown_symbol": [TICK, ("QQQ", "2026-05-28 09:30:01.0", 500.0, 1.0, "B", "X")],
    "non_finite_price": [TICK, ("SPY", "2026-05-28 09:30:01.0", float("inf"), 1.0, "B", "X")],
    "negative_price": [TICK, ("SPY", "2026-05-28 09:30:01.0", -1.0, 1.0, "B", "X")],
    "zero_price": [TICK, ("SPY", "2026-05-28 09:30:01.0", 0.0, 1.0, "B", "X")],
    "price_out_of_range": [TICK, ("SPY", "2026-05-28 09:30:01.0", 1e300, 1.0, "B", "X")],
    "invalid_volume": [TICK, ("SPY", "2026-05-28 09:30:01.0", 500.0, float("nan"), "B", "X")],
    "volume_out_of_range": [TICK, ("SPY", "2026-05-28 09:30:01.0", 500.0, 1e18, "B", "X")],
    "non_trading_day": [TICK, ("SPY", "2026-05-25 10:00:00.0", 500.0, 1.0, "B", "X")],  # Memorial
    "outside_session": [TICK, ("SPY", "2026-05-28 16:00:00.000001", 500.0, 1.0, "B", "X")],
    "file_date_mismatch": [TICK, ("SPY", "2026-05-29 10:00:00.0", 500.0, 1.0, "B", "X")],
    "duplicate": [TICK, TICK],
    "non_increasing_datetime": [TICK, ("SPY", "2026-05-28 09:30:00.000001", 501.0, 1.0, "S", "X")],
}


@pytest.mark.parametrize("rule", sorted(ALONE_TICKS))
def test_each_tick_rule_alone(rule, tick_spec, tick_checks):
    df = parse_file(_ticks(ALONE_TICKS[rule]), "SYNTH_ticks_20260528.parquet", tick_spec)
    res = validate(df, "ticks", ["SPY"], tick_checks)
    assert res.quarantine.select("source_row", "rule").rows() == [(2, rule)]
    assert res.valid["source_row"].to_list() == [1]


def test_every_rule_has_a_case_alone():
    from statarb.ingest import RULES

    bar_only = {"high_lt_low", "open_outside_high_low", "close_outside_high_low"}
    assert set(ALONE_BARS) == set(RULES)
    assert set(ALONE_TICKS) == set(RULES) - bar_only


def test_a_known_ticker_outside_the_alphabet_is_still_refused(bar_spec, bar_checks):
    """``validate`` does not trust its symbol list: the alphabet applies to every row."""
    rows = [GOOD, ("BR_K", "2026-03-06", "09:31:00", *OK)]
    df = parse_file(bars_csv(rows), "SYNTH_bars_20260306.csv", bar_spec)
    res = validate(df, "bars", ["AAPL", "BR_K"], bar_checks)
    assert res.quarantine.select("source_row", "rule").rows() == [(2, "invalid_symbol")]
