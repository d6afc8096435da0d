"""The cost seam: one cost formula (``kernels.costs.leg_cost``) read from a record built from
every numeric field of ``CostModel``; hand-worked fills."""

from __future__ import annotations

import dataclasses
import math

import pytest

from statarb.backtest.costs import CostModel
from statarb.kernels.costs import leg_cost


def test_record_carries_every_numeric_field():
    c = CostModel(per_share=0.01, min_per_order=1.5, fee_bps=0.3, fixed_bps=2.0, impact_k_bps=8.0,
                  impact_alpha=0.6, max_participation=0.1, remainder="cancel")  # fmt: skip
    rec = c.record()
    skip = ("remainder", "borrow_rates")  # a string and the per-symbol table (an array per leg)
    numeric = [f.name for f in dataclasses.fields(CostModel) if f.name not in skip]
    assert list(rec._fields) == numeric
    assert [getattr(rec, n) for n in numeric] == [getattr(c, n) for n in numeric]


def test_leg_cost_by_hand():
    c = CostModel(per_share=0.005, min_per_order=1.0, fee_bps=0.3, fixed_bps=1.0,
                  impact_k_bps=8.0, impact_alpha=0.5)  # fmt: skip
    # buy 400 shares at 50.0 on a bar of 10,000 shares: participation 4 %
    slip = 1.0 + 8.0 * math.sqrt(0.04)  # 2.6 bps
    price = 50.0 * (1 + 2.6e-4)
    comm = max(0.005 * 400, 1.0) + 0.3e-4 * 400 * price
    got = leg_cost(1, 400.0, 50.0, 10_000.0, c.record())
    assert got == pytest.approx((price, comm, slip), rel=1e-15)
    # sell: price below the reference; no volume -> participation 1; the minimum fee binds
    p2, c2, s2 = leg_cost(-1, 10.0, 20.0, float("nan"), c.record())
    assert s2 == pytest.approx(9.0) and p2 == pytest.approx(20.0 * (1 - 9e-4))
    assert c2 == pytest.approx(1.0 + 0.3e-4 * 10 * p2)


def test_cost_file_typo_is_refused_naming_file_section_and_key(tmp_path):
    from statarb.backtest.costs import BacktestConfigError, CostModel, load_costs

    f = tmp_path / "c.yml"
    f.write_text("fees: {per_share: 0.005, bsp: 1.0}\n")
    with pytest.raises(BacktestConfigError, match=r"c\.yml.*\['bsp'\].*'fees'.*did you mean 'bps'"):
        load_costs(f)
    m = CostModel(per_share=0.01, fee_bps=0.5, impact_k_bps=3.0, remainder="cancel")
    assert CostModel.from_mapping(m.to_mapping()) == m
