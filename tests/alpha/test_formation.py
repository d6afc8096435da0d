"""Formation -> trading mode: decisions only at formation times, the hedge ratio frozen over each
trading period and equal to the formation-window OLS slope, z from formation data only, OU fits
of the formation windows, no look-ahead."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl

from statarb.alpha.screening_blocks import concat_blocks
from statarb.pipelines.alpha import nodes
from tests.config_helpers import with_overrides
from tests.pipelines.alpha.test_alpha_pipeline import PARAMS, SYMBOLS, make_bars, series

MIN = timedelta(minutes=1)
FORM = with_overrides(
    PARAMS,
    {"selection.mode": "formation", "selection.formation.every": 2,
     "selection.multiple_testing.method": "none", "schedule.n": 130},
)  # fmt: skip


def run(bars):
    pu = nodes.build_universe(SYMBOLS, None, FORM)
    panel = nodes.build_price_panel(bars.lazy(), pu)
    sched = nodes.build_alpha_schedule(panel, FORM)
    coint, log = concat_blocks(nodes.screen_universe(panel, pu, sched, FORM))
    spreads, kp, oup, _ = series(panel, pu, coint, sched, FORM)
    return panel, sched, coint, spreads, kp, oup


def test_frozen_beta_over_each_trading_period():
    bars = make_bars(n_days=4)
    panel, sched, coint, spreads, kp, oup = run(bars)
    formation = sched["test_ts"].to_list()[::2]
    assert sorted(coint["test_ts"].unique().to_list()) == formation  # decisions only there
    assert kp.height == 0  # no Kalman in this mode
    sp = spreads.filter(pl.col("pair_id") == "AAA_BBB").sort("datetime")
    assert sp.height > 0
    rel = coint.filter(pl.col("pair_id") == "AAA_BBB").sort("test_ts")
    checked = 0
    for k, row in enumerate(rel.iter_rows(named=True)):
        if row["cointegrating_vector"] is None:
            continue
        beta = -float(row["cointegrating_vector"].split(",")[1].rstrip("]"))
        hi = formation[k + 1] if k + 1 < len(formation) else None
        period = sp.filter(pl.col("datetime") + MIN > row["test_ts"])
        if hi is not None:
            period = period.filter(pl.col("datetime") + MIN <= hi)
        if period.height == 0:
            continue
        assert (period["beta"] == beta).all()  # frozen, the formation-window OLS slope
        win = (panel.filter(pl.col("datetime") + MIN <= row["test_ts"])
               .select("AAA", "BBB").drop_nulls().tail(FORM["screening"]["window_bars"]))  # fmt: skip
        slope = np.polyfit(win["BBB"].to_numpy(), win["AAA"].to_numpy(), 1)[0]
        assert beta == np.float64(beta) and abs(beta - slope) < 1e-8 * abs(slope)
        e = win["AAA"].to_numpy() - beta * win["BBB"].to_numpy()
        j = period.join(panel, on="datetime")
        np.testing.assert_allclose(j["spread"], j["AAA"] - beta * j["BBB"] - e.mean(), rtol=1e-12)
        np.testing.assert_allclose(j["z_score"], j["spread"] / (e - e.mean()).std(), rtol=1e-12)
        checked += 1
    assert checked >= 3
    assert set(oup["window_end"].to_list()) <= set(formation)
    assert oup.filter(pl.col("pair_id") == "AAA_BBB").height > 0


def test_no_look_ahead_in_formation_mode():
    bars = make_bars(n_days=4)
    _, sched, coint, spreads, _, oup = run(bars)
    t = sched["test_ts"].to_list()[4]  # a formation time
    later = pl.col("datetime") + MIN > t
    rng = np.random.default_rng(5)
    pert = bars.with_columns(
        pl.when(later).then(pl.col("close") * pl.Series(rng.uniform(0.9, 1.1, bars.height)))
        .otherwise(pl.col("close")).alias("close")
    )  # fmt: skip
    _, _, coint2, spreads2, _, oup2 = run(pert)
    keep = pl.col("test_ts") <= t
    assert coint.filter(keep).drop("created_at").equals(coint2.filter(keep).drop("created_at"))
    both = set(spreads["pair_id"]) & set(spreads2["pair_id"])
    past = (pl.col("datetime") + MIN <= t) & pl.col("pair_id").is_in(sorted(both))
    assert (
        spreads.filter(past)
        .sort("pair_id", "datetime")
        .equals(spreads2.filter(past).sort("pair_id", "datetime"))
    )
    ou_keep = (pl.col("window_end") <= t) & pl.col("pair_id").is_in(sorted(both))
    assert oup.filter(ou_keep).drop("created_at").equals(oup2.filter(ou_keep).drop("created_at"))


def test_formation_with_confirmation_warns_once(caplog):
    """Formation mode with the confirmation stage on is allowed but named as a measured loss."""
    bars = make_bars(n_days=2)
    panel = nodes.build_price_panel(bars.lazy(), nodes.build_universe(SYMBOLS, None, FORM))
    on = with_overrides(FORM, {"selection.confirmation.max_shared": 0.5})
    with caplog.at_level("WARNING", logger="statarb.pipelines.alpha.nodes"):
        nodes.build_alpha_schedule(panel, FORM)
        assert "max_shared" not in caplog.text
        nodes.build_alpha_schedule(panel, on)
    assert caplog.text.count("mode formation with confirmation.max_shared 0.5") == 1
