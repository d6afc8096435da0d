"""The funnel's decision on a hand-built statistics table: stage order, q-values per test time,
matching, hysteresis, the reason of every row, and the rows written to the two tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from statsmodels.stats.multitest import multipletests

from statarb.alpha.screening import STATS_SCHEMA
from statarb.alpha.selection.funnel import (
    COINT_COLUMNS,
    SELECTION_LOG_COLUMNS,
    cointegration_rows,
    decide,
    selection_log_rows,
)
from tests.config_helpers import alpha_config

T0 = datetime(2026, 3, 2, 21, tzinfo=UTC)


def stats(rows: list[dict]) -> pl.DataFrame:
    base = {k: None for k in STATS_SCHEMA}
    base.update(
        method="eg", n_obs=7800, half_life=50.0, hurst=0.3, crossings=200, beta=1.0, alpha=0.0
    )
    return pl.DataFrame([{**base, **r} for r in rows], schema=STATS_SCHEMA)


def row(pid, day, p, **kw):
    """A statistics row of ``pid`` at session ``day`` (7,800-bar windows moved by 390 bars)."""
    return {"pair_id": pid, "test_ts": T0 + timedelta(days=day), "pvalue": p, "statistic": -5.0,
            "adf_pvalue": p, "bars_seen": 7800 + 390 * day, **kw}  # fmt: skip


NO_CONFIRMATION = {"selection__confirmation__max_shared": None}  # tests of the other stages


def test_stages_in_order_with_reasons():
    sel = alpha_config(selection__persistence__enter_after=2, **NO_CONFIRMATION).selection
    rows = [
        row("AAA_BBB", 0, 1e-8), row("AAA_BBB", 1, 1e-8), row("AAA_BBB", 2, 0.3),
        row("AAA_BBB", 3, 0.4),
        row("AAA_CCC", 0, 1e-6), row("AAA_CCC", 1, 1e-6),  # loses AAA to AAA_BBB
        row("DDD_EEE", 0, 1e-7, half_life=2000.0), row("DDD_EEE", 1, 1e-7, hurst=0.7),
        row("FFF_GGG", 0, 1e-7, crossings=3), row("FFF_GGG", 1, None, reason="constant_leg: x"),
    ]  # fmt: skip
    d = decide(stats(rows), sel).sort("pair_id", "test_ts")
    got = {(r["pair_id"], (r["test_ts"] - T0).days): r for r in d.iter_rows(named=True)}
    ab = [got[("AAA_BBB", k)] for k in range(4)]
    assert [r["tradable"] for r in ab] == [False, True, True, False]  # enter 2, exit 2
    assert ab[0]["reason"].startswith("persistence: 1 consecutive passes < 2")
    assert ab[1]["reason"] is None and ab[1]["streak"] == 2
    assert ab[2]["reason"].startswith("held (multiple_testing")
    assert ab[3]["reason"].startswith("multiple_testing: bh q=")
    assert got[("AAA_CCC", 0)]["pass_matching"] is False
    assert got[("AAA_CCC", 1)]["reason"].startswith("matching:")
    assert got[("DDD_EEE", 0)]["reason"].startswith("half_life: 2000 bars outside [1.0, 390.0]")
    assert got[("DDD_EEE", 1)]["reason"].startswith("hurst: 0.700 >= 0.5")
    assert got[("FFF_GGG", 0)]["reason"] == "crossings: 3 < 12"
    deg = got[("FFF_GGG", 1)]
    assert deg["reason"] == "constant_leg: x" and deg["pass_test"] is None and not deg["tradable"]
    assert not d.filter(pl.col("pair_id") != "AAA_BBB")["tradable"].any()


def test_qvalues_are_per_test_time_and_skip_missing():
    sel = alpha_config().selection
    rng = np.random.default_rng(0)
    rows = []
    for day in range(3):
        for j in range(20):
            p = float(rng.uniform()) if j != 3 else None
            rows.append(
                row(
                    f"A{j:02d}_Z{j:02d}",
                    day,
                    p,
                    reason=None if p is not None else "short_window: 1 < 2",
                )
            )
    d = decide(stats(rows), sel)
    for _, g in d.group_by(["test_ts"]):
        ok = g.filter(pl.col("pvalue").is_not_null()).sort("pair_id")
        ref = multipletests(ok["pvalue"].to_numpy(), method="fdr_bh")[1]
        np.testing.assert_allclose(ok["qvalue"].to_numpy(), ref, rtol=1e-14)
        assert g.filter(pl.col("pvalue").is_null())["qvalue"].null_count() == 1


def test_rows_of_both_tables():
    sel = alpha_config(selection__persistence__enter_after=1, **NO_CONFIRMATION).selection
    d = decide(
        stats(
            [
                row("AAA_BBB", 0, 1e-9, beta=0.75),
                row("AAA_CCC", 0, None, beta=None, reason="short_window: 1 < 2"),
            ]
        ),
        sel,
    )
    created = datetime(2030, 1, 1, tzinfo=UTC)
    c = cointegration_rows(d, created).sort("pair_id")
    assert c.columns == list(COINT_COLUMNS)
    assert json.loads(c["cointegrating_vector"][0]) == [1.0, -0.75]
    assert c["cointegrating_vector"][1] is None
    assert c["is_cointegrated"].to_list() == [True, False]
    lg = selection_log_rows(d, created)
    assert lg.columns == list(SELECTION_LOG_COLUMNS) and (lg["created_at"] == created).all()


def test_unknown_selection_key_names_path_and_hint():
    from statarb.config.strict import ConfigError

    with pytest.raises(
        ConfigError,
        match=r"alpha\.selection\.matching\.max_pairs_per_symbl: unknown key \(did you mean 'alpha\.selection\.matching\.max_pairs_per_symbol'",
    ):
        from statarb.alpha.config import AlphaConfig
        from tests.config_helpers import base_params

        raw = base_params("alpha")
        raw["selection"]["matching"]["max_pairs_per_symbl"] = 1
        AlphaConfig.from_params(raw, "alpha")


@pytest.mark.parametrize("reserve", [True, False])
def test_leg_reserved_for_a_pair_tradable_inside_the_candidates_window(reserve):
    """AAA_BBB is tradable on days 0-3 (enter after 1) and fails from day 4; AAA_CCC passes
    every stage from day 4; each window spans 3 sessions. While AAA_CCC's window still holds
    day 3 (days 4 and 5), AAA stays reserved for AAA_BBB; from day 6 AAA_CCC may take it.
    DDD_EEE shares no leg."""
    sel = alpha_config(
        selection__persistence__enter_after=1,
        selection__persistence__exit_after=1,
        selection__matching__reserve_within_window=reserve,
        **NO_CONFIRMATION,
    ).selection
    rows = []
    for day in range(10):
        start = {"window_start": T0 + timedelta(days=day - 2, hours=-7)}  # days d-2 .. d
        rows.append(row("AAA_BBB", day, 1e-9 if day < 4 else 0.5, **start))
        rows.append(row("AAA_CCC", day, 1e-8 if day >= 4 else 0.5, **start))
        rows.append(row("DDD_EEE", day, 1e-8, **start))
    d = decide(stats(rows), sel).sort("pair_id", "test_ts")
    ac = d.filter(pl.col("pair_id") == "AAA_CCC")
    assert ac["tradable"].to_list() == [day >= (6 if reserve else 4) for day in range(10)]
    if reserve:
        held = ac.filter(pl.col("test_ts") == T0 + timedelta(days=5))
        assert held["pass_matching"][0] is False
        assert held["reason"][0] == (
            "matching: leg AAA is reserved for AAA_BBB, tradable inside this window"
        )
    assert d.filter(pl.col("pair_id") == "DDD_EEE")["tradable"].all()
    ab = d.filter(pl.col("pair_id") == "AAA_BBB")["tradable"].to_list()
    assert ab == [day < 4 for day in range(10)]
    # a row without a window start is not reserved (nothing to compare the incumbent with)
    unknown = [{**r, "window_start": None} if r["pair_id"] == "AAA_CCC" else r for r in rows]
    d = decide(stats(unknown), sel).filter(pl.col("pair_id") == "AAA_CCC")
    assert d["tradable"].to_list() == [day >= 4 for day in range(10)]
