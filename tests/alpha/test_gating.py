"""As-of gating of bars by the latest cointegration test known at each bar's close."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from statarb.alpha.gating import gate


def T(h: int, m: int, s: int = 0) -> datetime:
    return datetime(2024, 3, 1, h, m, s, tzinfo=UTC)


COINT = pl.DataFrame(
    {
        "pair_id": ["A_B", "A_B", "C_D"],
        "test_ts": [T(10, 0), T(11, 0), T(10, 30)],
        "is_cointegrated": [True, False, True],
    },
    schema_overrides={"test_ts": pl.Datetime("us", "UTC")},
)


def test_boundaries_of_the_information_time_rule():
    frame = pl.DataFrame(
        {
            "pair_id": ["A_B"] * 6 + ["C_D"] * 3,
            "datetime": [
                T(9, 58),  # known 09:59 < first test -> False
                T(9, 58, 59),  # known 09:59:59 -> still no test
                T(9, 59),  # known exactly at 10:00 = test_ts -> uses it (True)
                T(10, 58),  # known 10:59 -> first test
                T(10, 59),  # known exactly 11:00 -> second test (False)
                T(12, 0),
                T(10, 28),  # C_D: known 10:29 -> nothing yet
                T(10, 29),  # known 10:30 -> True
                T(11, 59),  # A_B's 11:00 test must not leak into C_D
            ],
            "spread": range(9),
        },
        schema_overrides={"datetime": pl.Datetime("us", "UTC")},
    )
    out = gate(frame, COINT)
    assert out["tradable"].to_list() == [False, False, True, True, False, False, False, True, True]
    assert out.drop("tradable").equals(frame)  # same rows, same order, columns untouched
    assert out.schema["tradable"] == pl.Boolean


def test_row_order_is_preserved_and_other_interval():
    frame = pl.DataFrame(
        {"pair_id": ["A_B", "A_B", "A_B"], "datetime": [T(11, 0), T(9, 55), T(10, 54)]},
        schema_overrides={"datetime": pl.Datetime("us", "UTC")},
    )
    out = gate(frame, COINT, bar_interval=timedelta(minutes=5))
    # 11:00+5 -> test 11:00 (False); 09:55+5 = 10:00 -> True; 10:54+5 = 10:59 -> True
    assert out["tradable"].to_list() == [False, True, True]


def test_unknown_pair_null_flag_and_naive_timestamps():
    coint = pl.DataFrame(
        {"pair_id": ["A_B"], "test_ts": [datetime(2024, 3, 1, 10, 0)], "is_cointegrated": [None]},
        schema_overrides={"is_cointegrated": pl.Boolean},
    )
    frame = pl.DataFrame(
        {"pair_id": ["A_B", "X_Y"], "datetime": [T(10, 30), T(10, 30)]},
        schema_overrides={"datetime": pl.Datetime("us", "UTC")},
    )
    assert gate(frame, coint)["tradable"].to_list() == [False, False]


def test_errors_name_the_problem():
    frame = pl.DataFrame({"pair_id": ["A_B"], "datetime": [T(10, 0)]})
    with pytest.raises(ValueError, match="A_B"):
        gate(frame, pl.concat([COINT, COINT.head(1)]))
    with pytest.raises(ValueError, match="is_cointegrated"):
        gate(frame, COINT.drop("is_cointegrated"))
    with pytest.raises(ValueError, match="tradable"):
        gate(frame.with_columns(tradable=pl.lit(True)), COINT)
