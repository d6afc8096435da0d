"""The default data set (conf/base/parameters_synthetic.yml) meets the brief; same checks as small."""

from __future__ import annotations

import collections
import json
import time
from pathlib import Path

import pytest

from statarb.synthetic.config import load_config
from statarb.synthetic.generator import build, generate

from . import test_anomalies, test_corporate_actions, test_ticks

PARAMS = Path(__file__).resolve().parents[2] / "conf" / "base" / "parameters_synthetic.yml"


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    cfg = load_config(PARAMS)
    out = tmp_path_factory.mktemp("synth_default")
    t0 = time.process_time()  # CPU time: robust to a loaded shared machine
    generate(out, cfg)
    elapsed = time.process_time() - t0
    return cfg, out, build(cfg), elapsed


@pytest.mark.slow
def test_default_contents(default_run):
    cfg, out, data, elapsed = default_run
    assert elapsed < 30
    m = data.market
    assert len(m.symbols) == 30 and len(set(m.sectors)) == 4
    assert len(m.clock.days) == 82 and m.n_bars == 82 * 390
    kinds = collections.Counter(p.kind for p in m.pairs)
    assert kinds["constant"] + kinds["drift_linear"] + kinds["drift_rw"] >= 6
    assert kinds["drift_linear"] + kinds["drift_rw"] == 2 and kinds["break"] == 1
    assert all(30 <= p.half_life <= 400 for p in m.pairs)
    assert m.close.min() >= 20 and m.close.max() <= 400
    acts = collections.Counter(a.action for a in data.actions)
    assert acts["split"] >= 2 and acts["dividend"] >= 4
    rules = collections.Counter(
        a["rule"]
        for a in json.loads((out / "ground_truth" / "anomalies.json").read_text())["anomalies"]
    )
    assert rules["missing_bar"] >= 200 and rules["price_spike"] == 20
    assert len(list((out / "ticks").glob("*.parquet"))) == 5


@pytest.mark.slow
def test_default_checks(default_run):
    cfg, out, data, _ = default_run
    test_corporate_actions.test_adjusted_recovered_exactly(out, data)
    test_corporate_actions.test_expected_factor_segments(out, data)
    test_anomalies.test_counts_match_config(out, cfg)
    test_anomalies.test_each_recorded_row_breaks_its_rule(out, data)
    test_anomalies.test_clean_rows_are_consistent(out)
    test_ticks.test_ticks_aggregate_to_bars(out, data, cfg)
