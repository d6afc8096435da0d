"""Pair universe from parameters: explicit, groups, sector (raw symbols.csv), all."""

from __future__ import annotations

from itertools import combinations

import polars as pl
import pytest

from statarb.alpha.universe import UniverseError, build_pair_universe

SYMS = pl.DataFrame({"symbol_id": ["AAA", "BBB", "CCC", "DDD", "EEE"]})
SECTORS = pl.DataFrame(
    {
        "ticker": ["aaa", "BBB ", "CCC", "DDD", "EEE", "ZZZ"],
        "sector": ["Tech", "Tech", "Tech", "Energy", "Energy", "Energy"],
    }
)


def _check_rows(df: pl.DataFrame) -> None:
    assert df.columns == ["pair_id", "symbol_a", "symbol_b", "created_at", "notes"]
    for pid, a, b in df.select("pair_id", "symbol_a", "symbol_b").iter_rows():
        assert a < b and pid == f"{a}_{b}"
    assert df["pair_id"].is_unique().all()
    assert df.schema["created_at"] == pl.Datetime("us", "UTC")


def test_explicit_orders_and_dedupes() -> None:
    df = build_pair_universe(
        SYMS, {"mode": "explicit", "pairs": ["bbb_AAA", ["CCC", "aaa"], "AAA_BBB"]}
    )
    _check_rows(df)
    assert df["pair_id"].to_list() == ["AAA_BBB", "AAA_CCC"]
    assert set(df["notes"]) == {"explicit"}


def test_explicit_unknown_symbol_is_a_clear_error() -> None:
    with pytest.raises(UniverseError, match=r"pairs\[1\].*'XYZ'.*not in the symbols table"):
        build_pair_universe(SYMS, {"mode": "explicit", "pairs": ["AAA_BBB", "AAA_XYZ"]})
    with pytest.raises(UniverseError, match="same symbol"):
        build_pair_universe(SYMS, {"mode": "explicit", "pairs": ["AAA_aaa"]})
    with pytest.raises(UniverseError, match="mode must be"):
        build_pair_universe(SYMS, {"mode": "nope"})


def test_groups_all_combinations_with_origin_notes() -> None:
    df = build_pair_universe(
        SYMS, {"mode": "groups", "groups": {"g1": ["AAA", "BBB", "CCC"], "g2": ["CCC", "bbb"]}}
    )
    _check_rows(df)
    assert df["pair_id"].to_list() == ["AAA_BBB", "AAA_CCC", "BBB_CCC"]
    assert df.filter(pl.col("pair_id") == "BBB_CCC")["notes"][0] == "group=g1;group=g2"


def test_sector_mode_from_raw_csv_skips_unloaded_tickers() -> None:
    df = build_pair_universe(SYMS, {"mode": "sector"}, sectors=SECTORS)
    _check_rows(df)
    assert df["pair_id"].to_list() == ["AAA_BBB", "AAA_CCC", "BBB_CCC", "DDD_EEE"]
    only = build_pair_universe(SYMS, {"mode": "sector", "sectors": ["Energy"]}, sectors=SECTORS)
    assert only["notes"].to_list() == ["sector=Energy"]
    with pytest.raises(UniverseError, match="sector"):
        build_pair_universe(SYMS, {"mode": "sector"})


def test_all_mode() -> None:
    df = build_pair_universe(SYMS, {"mode": "all"})
    _check_rows(df)
    expected = [f"{a}_{b}" for a, b in combinations(sorted(SYMS["symbol_id"]), 2)]
    assert df["pair_id"].to_list() == expected


def test_empty_symbols_table_says_to_run_ingestion() -> None:
    empty = SYMS.clear()
    with pytest.raises(UniverseError, match=r"symbols table is empty.*--pipelines ingestion"):
        build_pair_universe(empty, {"mode": "sector"}, sectors=SECTORS)
    with pytest.raises(UniverseError, match="produced no pairs$"):  # no hint when symbols exist
        build_pair_universe(SYMS.head(1), {"mode": "all"})
