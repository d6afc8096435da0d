"""``keep_if_unchanged``: an upsert keeps the stored stamp of a row whose other values are equal."""

from __future__ import annotations

import polars as pl
import pytest
import sqlalchemy as sa

from statarb.storage.errors import SchemaMismatch
from statarb.storage.sql_dataset import SQLTableDataset
from statarb.storage.sql_io import read_table, write_frame
from tests.storage.sql_fixtures import engine_fixture, seeded_fixture, utc  # noqa: F401

T0, T1 = utc(2026, 1, 5, 12), utc(2026, 1, 6, 12)


def _coint(created: object, pvalue: float, vector: str | None = "[1.0, -0.9]") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "pair_id": ["AAPL_MSFT", "QQQ_SPY"],
            "test_ts": [utc(2026, 1, 2, 21), utc(2026, 1, 2, 21)],
            "adf_pvalue": [pvalue, 0.5],
            "johansen_trace": [None, float("nan")],  # nulls and NaN (stored NULL) compare equal
            "cointegrating_vector": [vector, None],
            "is_cointegrated": [True, False],
            "created_at": [created, created],
        },
        schema_overrides={"created_at": pl.Datetime("us", "UTC"), "johansen_trace": pl.Float64},
    )


def _ou(created: object, theta: float) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "pair_id": ["AAPL_MSFT"],
            "window_start": [utc(2026, 1, 2, 14, 30)],
            "window_end": [utc(2026, 1, 2, 21)],
            "theta": [theta],
            "mu": [0.0],
            "sigma": [None],
            "created_at": [created],
        },
        schema_overrides={"created_at": pl.Datetime("us", "UTC"), "sigma": pl.Float64},
    )


@pytest.mark.parametrize("keep", [True, False])
def test_on_conflict_upsert_keeps_stamp_of_unchanged_rows_only(seeded: sa.Engine, keep: bool):
    args = {"keep_if_unchanged": ["created_at"]} if keep else {}
    write_frame(seeded, "cointegration_results", _coint(T0, 0.01))
    # rerun: AAPL_MSFT changed (p-value), QQQ_SPY identical (nulls included)
    write_frame(seeded, "cointegration_results", _coint(T1, 0.02), **args)
    got = read_table(seeded, "cointegration_results").sort("pair_id")
    assert got["adf_pvalue"].to_list() == [0.02, 0.5]
    assert got["created_at"].to_list() == [T1, T0 if keep else T1]
    assert got["id"].to_list() == sorted(got["id"].to_list())  # ids unchanged, no new rows
    assert got.height == 2


@pytest.mark.parametrize("keep", [True, False])
def test_match_upsert_keeps_stamp_of_unchanged_rows_only(seeded: sa.Engine, keep: bool):
    """Tables without a unique constraint (ou_params, kalman_params, corporate_actions)."""
    args = {"keep_if_unchanged": ["created_at"]} if keep else {}
    write_frame(seeded, "ou_params", _ou(T0, 3.0))
    write_frame(seeded, "ou_params", _ou(T1, 3.0), **args)
    assert read_table(seeded, "ou_params")["created_at"].to_list() == [T0 if keep else T1]
    write_frame(seeded, "ou_params", _ou(T1, 4.0), **args)  # a changed value gets the new stamp
    got = read_table(seeded, "ou_params")
    assert got.select("theta", "created_at").rows() == [(4.0, T1)]


def test_keep_if_unchanged_refuses_key_columns_and_insert_mode(seeded: sa.Engine):
    with pytest.raises(SchemaMismatch, match="keep_if_unchanged"):
        write_frame(seeded, "ou_params", _ou(T0, 1.0), keep_if_unchanged=["pair_id"])
    with pytest.raises(SchemaMismatch, match="keep_if_unchanged"):
        write_frame(seeded, "ou_params", _ou(T0, 1.0), mode="insert", keep_if_unchanged=["mu"])
    with pytest.raises(SchemaMismatch, match="keep_if_unchanged"):
        write_frame(seeded, "ou_params", _ou(T0, 1.0), keep_if_unchanged=["no_such_column"])


def test_catalog_save_args_pass_keep_if_unchanged(seeded: sa.Engine):
    ds = SQLTableDataset(
        "cointegration_results",
        credentials={"con": seeded.url.render_as_string(hide_password=False)},
        save_args={"keep_if_unchanged": ["created_at"]},
    )
    ds.save(_coint(T0, 0.01))
    ds.save(_coint(T1, 0.01))
    assert set(ds.load()["created_at"]) == {T0}
