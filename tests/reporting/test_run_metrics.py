"""The assembled ``backtest_metrics`` row: exact columns, strict JSON, edge cases."""

from __future__ import annotations

import json
import math

import empyrical as ep
import polars as pl
import pytest

from statarb.reporting.metrics import equity_returns
from statarb.reporting.run_metrics import METRICS_COLUMNS, compute_run_metrics, metrics_frame


def test_row_matches_references(synthetic_run):
    res = compute_run_metrics(
        "bt_test_001",
        synthetic_run["equity"],
        synthetic_run["fills"],
        synthetic_run["signals"],
        synthetic_run["bars_adjusted"],
    )
    row = res["row"]
    r = equity_returns(synthetic_run["equity"])["ret"].to_numpy()
    assert row["sortino_annual"] == pytest.approx(
        ep.sortino_ratio(r, annualization=98280), rel=1e-9
    )
    assert row["calmar"] == pytest.approx(ep.calmar_ratio(r, annualization=98280), rel=1e-9)
    assert row["total_return"] == pytest.approx(ep.cum_returns_final(r), rel=1e-9)
    full = json.loads(row["metrics_json"])  # strict JSON: NaN would have raised
    assert full["open_trades"] == 1 and full["per_pair"]["CCC_DDD"]["pnl"] == pytest.approx(-22)
    frame = metrics_frame([row])
    assert tuple(frame.columns) == METRICS_COLUMNS
    assert frame.schema["computed_at"] == pl.Datetime("us", "UTC")


def test_run_without_fills_or_universe(synthetic_run):
    res = compute_run_metrics("bt_flat", synthetic_run["equity"], synthetic_run["fills"].clear())
    row = res["row"]
    assert row["num_trades"] == 0 and row["win_rate"] is None
    assert row["alpha"] is None and row["beta"] is None
    assert math.isfinite(row["sharpe_annual"])
    assert json.loads(row["metrics_json"])["costs"]["commissions"] == 0.0


def test_too_short_equity_is_named(synthetic_run):
    with pytest.raises(ValueError, match="bt_x: backtest_equity has 1 row"):
        compute_run_metrics("bt_x", synthetic_run["equity"].head(1), synthetic_run["fills"])


def _trial_params(**kw) -> dict:
    from tests.config_helpers import base_params

    tp = base_params("reporting")["trial_stats"]
    return {"trial_stats": {**tp, **kw}}


def test_trial_stats_block_uses_the_sharpe_returns(synthetic_run):
    """PSR / MinTRL / DSR of metrics_json.trial_stats are the paper formulas on the same per-bar
    returns and annualisation as sharpe_annual; N = 1 is not deflated (DSR = PSR vs 0)."""
    from statarb.reporting import trial_stats as ts

    eq = synthetic_run["equity"]
    res = compute_run_metrics("bt_t", eq, synthetic_run["fills"], params=_trial_params())
    full = res["full"]
    t = full["trial_stats"]
    r = equity_returns(eq)["ret"].to_numpy()
    m = ts.return_moments(r)
    P = full["periods_per_year"]
    assert t["sharpe_annual"] == pytest.approx(res["row"]["sharpe_annual"], rel=1e-12)
    assert t["psr"] == pytest.approx(ts.probabilistic_sharpe_ratio(m.sharpe, m.n, m.skew,
                                                                   m.kurtosis), rel=1e-12)  # fmt: skip
    trl = ts.min_track_record_length(m.sharpe, m.skew, m.kurtosis, 0.0, 0.95)
    assert t["min_track_record"]["bars"] == pytest.approx(trl) or math.isinf(trl)
    assert t["deflated"] == {"applied": False, "n_trials": 1, "sharpe_variance_annual": None,
                             "expected_max_sharpe_annual": 0.0, "dsr": t["psr"]}  # fmt: skip
    # a sweep's N and V (annual units) deflate it: the benchmark is E[max] of N trials
    res2 = compute_run_metrics("bt_t", eq, synthetic_run["fills"],
                               params=_trial_params(n_trials=100, sharpe_variance=2.0))  # fmt: skip
    d = res2["full"]["trial_stats"]["deflated"]
    assert d["applied"] is True
    assert d["expected_max_sharpe_annual"] == pytest.approx(
        ts.expected_max_sharpe(100, 2.0 / P) * math.sqrt(P), rel=1e-12
    )
    assert d["dsr"] < t["psr"]


def test_trial_stats_params_are_strict(synthetic_run):
    from statarb.config.strict import ConfigError

    eq, fills = synthetic_run["equity"], synthetic_run["fills"]
    with pytest.raises(ConfigError, match="n_trial"):
        compute_run_metrics("bt_t", eq, fills, params=_trial_params(n_trial=3))
    with pytest.raises(ConfigError, match="sharpe_variance"):
        compute_run_metrics("bt_t", eq, fills, params=_trial_params(n_trials=5))


def test_a_sweeps_best_run_is_deflated_by_the_sweeps_trials(synthetic_run):
    """The reporting node takes N and V from the sweep's ``report_trial_stats`` frame when the run
    is that sweep's best configuration (and only then); explicit parameters win."""
    from statarb.pipelines.reporting.nodes import compute_backtest_metrics

    r = synthetic_run
    rid = r["runs"]["run_id"][0]
    from tests.config_helpers import base_params

    params = base_params("reporting")

    def dsr(frame, p=params):
        row = compute_backtest_metrics(rid, r["runs"], r["signals"], r["fills"], r["equity"],
                                       r["bars_adjusted"], p, None, frame).row(0, named=True)  # fmt: skip
        return json.loads(row["metrics_json"])["trial_stats"]["deflated"]

    mine = pl.DataFrame({"run_id": [rid], "n_trials": [64], "sharpe_variance": [1.5]})
    other = mine.with_columns(run_id=pl.lit("bt_other"))
    assert dsr(None)["applied"] is False and dsr(other)["applied"] is False
    d = dsr(mine)
    assert d["applied"] is True and d["n_trials"] == 64 and d["sharpe_variance_annual"] == 1.5
    explicit = {**params, "trial_stats": {**params["trial_stats"], "n_trials": 10,
                                          "sharpe_variance": 0.5}}  # fmt: skip
    assert dsr(mine, explicit)["n_trials"] == 10


def test_a_sweeps_best_run_gets_its_walk_forward_block(synthetic_run):
    """``metrics_json.walk_forward``: the return metrics of the in-sample best and the stitched
    out-of-sample curves of the run's ``report_walk_forward`` rows (none for another run)."""
    from statarb.pipelines.reporting.nodes import compute_backtest_metrics
    from statarb.reporting.metrics import return_metrics
    from tests.config_helpers import base_params

    r = synthetic_run
    rid = r["runs"]["run_id"][0]
    eq = r["equity"].sort("ts").select("ts", "equity")
    half = eq.height // 2
    oos = eq.slice(half).with_columns(pl.col("equity") * 0.5)
    frame = pl.concat(
        [
            eq.with_columns(run_id=pl.lit(rid), sample=pl.lit("in_sample")),
            oos.with_columns(run_id=pl.lit(rid), sample=pl.lit("out_of_sample")),
        ]
    )

    def block(f):
        row = compute_backtest_metrics(rid, r["runs"], r["signals"], r["fills"], r["equity"],
                                       r["bars_adjusted"], base_params("reporting"), None, None,
                                       f).row(0, named=True)  # fmt: skip
        return json.loads(row["metrics_json"]).get("walk_forward")

    wf = block(frame)
    want_in, want_out = return_metrics(eq), return_metrics(oos)
    assert wf["in_sample"]["sharpe_annual"] == pytest.approx(want_in.sharpe_annual, rel=1e-12)
    assert wf["out_of_sample"]["total_return"] == pytest.approx(want_out.total_return, rel=1e-12)
    assert wf["out_of_sample"]["bars"] == oos.height
    assert block(frame.with_columns(run_id=pl.lit("bt_other"))) is None and block(None) is None
