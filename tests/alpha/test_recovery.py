"""Ground-truth recovery: the real screening and Kalman code on generated data find the constructed
pairs, drop the broken pair after its break, and track the true hedge ratios (docs/alpha.md,
"Recovery on the default data"). The metric functions themselves are checked against brute-force
loops in test_recovery_metrics.py."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

from statarb.alpha import recovery as rc
from statarb.alpha.ou_fit import fit_ou
from statarb.alpha.screening_blocks import concat_blocks
from statarb.pipelines.alpha import nodes
from statarb.storage.run_scope import unscoped
from statarb.synthetic.config import load_config
from statarb.synthetic.generator import build, pairs_truth
from tests.config_helpers import base_params

CONF = Path(__file__).resolve().parents[2] / "conf" / "base"


# --------------------------------------------------------------------------- recovery on generated data
# A reduced but faithful version of the default data: the shipped generator parameters and alpha
# parameters, 16 symbols in 2 sectors (7 pairs: 4 constant, 1 linear drift, 1 random-walk drift,
# 1 break), 36 sessions. Time scales shrink together: screening window 10 sessions instead of 20 and
# half-lives up to 120 bars instead of 240 (same window / half-life ratio >= 32 as the default).
# The confirmation stage is off here: its delay (half a window plus the persistence passes) is 8 of
# the break pair's 9 pre-break tests on 36 sessions; test_confirmation_on_reduced_data runs it.
RECOVERY_DAYS = 36
WINDOW_SCALE = 0.5
# Constant-beta pairs: Kalman beta RMSE <= 1.5 x the RMSE of the expanding-window OLS beta on the
# same bars (recursive least squares = the filter with Q = 0: the benchmark for a constant beta),
# and relative RMSE < 0.12 (identification of beta is limited by the spread's persistence relative
# to the moves of leg B; on the full default data all constant pairs are below 0.035).
OLS_RATIO_BOUND = 1.5
CONSTANT_REL_RMSE_BOUND = 0.12


@pytest.fixture(scope="module")
def recovery_run() -> dict:
    base = load_config(CONF / "parameters_synthetic.yml")
    cfg = base.with_overrides(
        n_symbols=16,
        sectors=("Technology", "Energy"),
        n_days=RECOVERY_DAYS,
        half_life_bars=tuple(h * WINDOW_SCALE for h in base.half_life_bars),
        n_splits=0,
        n_dividends=0,
        tick_days=0,
        tick_symbols=0,
    )
    params = base_params("alpha")
    params = copy.deepcopy(params)
    scr = params["screening"]
    scr["window_bars"] = int(scr["window_bars"] * WINDOW_SCALE)
    scr["min_obs"] = int(scr["min_obs"] * WINDOW_SCALE)
    params["schedule"]["mode"] = "session_close"
    shipped = copy.deepcopy(params)
    params["selection"]["confirmation"]["max_shared"] = None

    data = build(cfg)
    m = data.market
    close = m.close.copy()
    for r in data.plan.records:  # bars that ingestion quarantines or preprocessing flags
        if r["rule"] != "unknown_ticker":
            close[r["bar"], r["sym"]] = np.nan
    times = pl.Series("datetime", m.clock.utc_us, dtype=pl.Int64).cast(rc.UTC_US)
    panel = pl.DataFrame({"datetime": times, **{s: close[:, j] for j, s in enumerate(m.symbols)}})
    panel = panel.with_columns(pl.col(s).fill_nan(None) for s in m.symbols)
    universe = pl.DataFrame(
        [
            (f"{a}_{b}", a, b)
            for (i, a), (j, b) in itertools.combinations(enumerate(m.symbols), 2)
            if m.sectors[i] == m.sectors[j]
        ],
        schema=["pair_id", "symbol_a", "symbol_b"],
        orient="row",
    )
    schedule = nodes.build_alpha_schedule(panel, params)
    coint, sel_log = concat_blocks(nodes.screen_universe(panel, universe, schedule, params))
    # Kalman on every constructed pair (the filter is what the beta tests check), selected or not
    built = [p.pair_id for p in m.pairs]
    every_built = coint.with_columns(is_cointegrated=pl.col("pair_id").is_in(built))
    spreads = pl.concat(
        unscoped(c[0]) for c in nodes.spreads_and_ou(panel, universe, every_built, schedule, params)
    )
    truth = rc.truth_frame(pairs_truth(data))
    beta_paths = pl.DataFrame(
        {
            "pair_id": np.repeat([p.pair_id for p in m.pairs], m.n_bars),
            "datetime": pl.concat([times] * len(m.pairs)),
            "beta": np.concatenate([p.beta for p in m.pairs]),
        }
    )
    ols = []
    for p in m.pairs:  # reference: expanding OLS on exactly the bars the filter saw
        sp = spreads.filter(pl.col("pair_id") == p.pair_id).select("pair_id", "datetime")
        pp = sp.join(panel.select("datetime", p.symbol_a, p.symbol_b), on="datetime", how="left")
        beta = rc.expanding_ols_beta(pp[p.symbol_a].to_numpy(), pp[p.symbol_b].to_numpy())
        ols.append(sp.with_columns(beta=pl.Series(beta)))
    cl = rc.classify_tests(coint, truth, times, scr["window_bars"])
    burn = scr["window_bars"]
    rmse = rc.beta_rmse(spreads, beta_paths, truth, burn_in_bars=burn)
    ols_rmse = rc.beta_rmse(pl.concat(ols), beta_paths, truth, burn_in_bars=burn)
    return {
        "market": m,
        "inputs": (data, params, panel, universe, coint, spreads, beta_paths),
        "shipped": shipped,
        "selection_log": sel_log,
        "classified": cl,
        "summary": rc.summarize(cl),
        "rmse": rmse.join(
            ols_rmse.select("pair_id", pl.col("rmse").alias("ols_rmse")), on="pair_id"
        ),
    }


def test_reduced_config_has_every_pair_kind(recovery_run) -> None:
    kinds = sorted(p.kind for p in recovery_run["market"].pairs)
    assert kinds == ["break", *["constant"] * 4, "drift_linear", "drift_rw"]
    phases = set(recovery_run["classified"]["phase"].unique().to_list())
    assert {"pre", "post", "none", "partial"} <= phases


def test_true_pairs_found(recovery_run) -> None:
    s = recovery_run["summary"]
    by_pair = rc.recovery_by_pair(recovery_run["classified"]).filter(pl.col("cointegrated"))
    print("\nrecovery (reduced):", s.as_dict())
    print(by_pair.select("pair_id", "kind", "n_pre", "flag_rate_pre", "n_post", "flag_rate_post"))
    assert s.n_constructed == 7
    assert s.n_found >= 6 and s.recall >= 6 / 7, by_pair  # issue 9: >= 6 of 7 tradable
    assert s.precision >= 0.9, s
    # the funnel needs 3 consecutive passes before a pair trades: 2 of ~27 eligible tests lost
    assert s.per_test_recall >= 0.75
    assert s.flag_precision >= 0.9


def test_confirmation_on_reduced_data(recovery_run) -> None:
    """With the shipped confirmation stage no pair without a relation is tradable and 6 of 7
    constructed pairs still are; its delay costs tradable tests on a sample this short
    (docs/cointegration.md "Measured")."""
    _, _, panel, universe, *_ = recovery_run["inputs"]
    params = recovery_run["shipped"]
    assert params["selection"]["confirmation"]["max_shared"] is not None
    schedule = nodes.build_alpha_schedule(panel, params)
    coint, log = concat_blocks(nodes.screen_universe(panel, universe, schedule, params))
    assert log["pass_confirmation"].null_count() < log.height  # the stage ran
    truth = rc.truth_frame(pairs_truth(recovery_run["inputs"][0]))
    times = panel["datetime"]
    on = rc.summarize(rc.classify_tests(coint, truth, times, params["screening"]["window_bars"]))
    off = recovery_run["summary"]
    print("\nrecovery (reduced, confirmation on):", on.as_dict())
    assert on.fpr_pairs == 0.0 and on.fpr == 0.0
    assert on.n_found >= 6
    assert on.per_test_recall < off.per_test_recall


def test_broken_pair_stops_being_cointegrated(recovery_run) -> None:
    by_pair = rc.recovery_by_pair(recovery_run["classified"])
    brk = by_pair.filter(pl.col("kind") == "break").row(0, named=True)
    assert brk["n_post"] >= 5
    assert brk["flag_rate_pre"] > 0.5  # found before the break ...
    assert brk["flag_rate_post"] < 0.2  # ... and mostly rejected once the window is after it


def test_false_positive_rate_reported(recovery_run) -> None:
    s = recovery_run["summary"]
    legs = rc.fpr_by_leg_exposure(recovery_run["classified"])
    print("\nFPR by legs of constructed pairs:", legs.rows())
    # nominal 5 %; oversized on legs of constructed pairs (Schwert 1989), see docs/alpha.md
    assert s.n_none_pairs == 56 - 7
    # raw p-values are oversized (0.13 here at a nominal 0.05); the funnel's decision is not
    assert s.raw_fpr > 0.05
    assert s.fpr <= 0.01 and s.fpr_pairs == 0.0


def test_kalman_beta_tracks_truth(recovery_run) -> None:
    rmse = recovery_run["rmse"]
    print("\nbeta RMSE (reduced):", rmse.rows())
    assert rmse.height == 7
    const = rmse.filter(pl.col("kind") == "constant")
    assert (const["rmse"] <= OLS_RATIO_BOUND * const["ols_rmse"]).all(), const
    assert (const["rel_rmse"] < CONSTANT_REL_RMSE_BOUND).all(), const
    drift = rmse.filter(pl.col("kind").str.starts_with("drift"))
    assert drift.height == 2
    assert (drift["rmse"] < drift["ols_rmse"]).all(), drift  # the filter follows a drifting beta


# OU fitted on the pipeline's Kalman spread (every bar after the screening burn-in) against the
# generator's OU: sigma within 5 %, half-life within a factor 1.5. The filter absorbs part of the
# slowest mean reversion, which biases theta up; on the full default data (`statarb recovery` run,
# docs/alpha.md) sigma is within 3 % and theta within -24 % .. +33 % for the non-break pairs.
OU_SIGMA_REL = 0.05
OU_HALF_LIFE_FACTOR = 1.5


def test_ou_fit_on_kalman_spread_recovers_generator_ou(recovery_run) -> None:
    data, params, *_, spreads, _ = recovery_run["inputs"]
    burn = params["screening"]["window_bars"]
    checked = 0
    for p in recovery_run["market"].pairs:
        if p.break_bar is not None:
            continue
        s = spreads.filter(pl.col("pair_id") == p.pair_id).sort("datetime")["spread"].to_numpy()
        fit = fit_ou(s[burn:])  # NaN bars drop only their own transitions
        assert fit.sigma == pytest.approx(p.sigma, rel=OU_SIGMA_REL), p.pair_id
        ratio = fit.half_life / (np.log(2.0) / p.theta)
        assert 1 / OU_HALF_LIFE_FACTOR <= ratio <= OU_HALF_LIFE_FACTOR, (p.pair_id, ratio)
        checked += 1
    assert checked == 6


def test_store_report_and_cli(recovery_run, tmp_path: Path) -> None:
    """``statarb recovery`` reads the stored outputs of a project and gives the same numbers."""
    from click.testing import CliRunner

    from statarb.alpha.recovery_cli import recovery_cli, report_from_store
    from statarb.storage.database import ensure_schema, get_engine
    from statarb.storage.parquet_store import write_partitions
    from statarb.storage.sql_io import write_frame
    from tests.project_fixtures import make_project

    data, params, panel, universe, coint, spreads, beta_paths = recovery_run["inputs"]
    make_project(tmp_path)  # the real catalog: where the stores and the ground truth are
    (tmp_path / "conf/base/parameters_alpha.yml").write_text(yaml.safe_dump({"alpha": params}))
    gt = tmp_path / "data/01_raw/ground_truth"
    gt.mkdir(parents=True)
    (gt / "pairs.json").write_text(json.dumps(pairs_truth(data)))
    beta_paths.write_parquet(gt / "beta_paths.parquet")
    write_partitions(spreads, tmp_path / "data/alpha/spreads", "spread_series", fsync=False)
    syms = [c for c in panel.columns if c != "datetime"]
    bars = panel.unpivot(index="datetime", on=syms, variable_name="symbol", value_name="close")
    bars = bars.drop_nulls().with_columns(
        open=pl.col("close"), high=pl.col("close"), low=pl.col("close"), volume=pl.lit(1.0),
        adj_factor=pl.lit(1.0), outlier_flag=pl.lit(0, dtype=pl.Int8), missing_filled=pl.lit(False),
    )  # fmt: skip
    write_partitions(bars, tmp_path / "data/bars_adjusted", "bars", source="SYNTH", fsync=False)
    url = f"sqlite:///{tmp_path / 'statarb.db'}"
    ensure_schema(url)
    with get_engine(url).begin() as conn:
        write_frame(conn, "symbols", pl.DataFrame({"symbol_id": syms}))
        write_frame(conn, "pair_universe", universe)
        write_frame(conn, "cointegration_results", coint)

    rep = report_from_store(tmp_path, url)
    assert rep["summary"] == recovery_run["summary"]
    got = rep["beta_rmse"].sort("pair_id")
    want = recovery_run["rmse"].sort("pair_id")
    assert got["pair_id"].to_list() == want["pair_id"].to_list()
    np.testing.assert_allclose(got["rmse"].to_numpy(), want["rmse"].to_numpy(), rtol=1e-12)
    res = CliRunner().invoke(recovery_cli, ["--project", str(tmp_path), "--db-url", url])
    assert res.exit_code == 0, res.output
    assert "recall: 1.0000" in res.output and "beta_rmse" in res.output
    assert "precision: 1.0000" in res.output
    assert "spurious pairs in the tradable set: none" in res.output
    from statarb.storage.alpha_state import MARKER

    marker = tmp_path / "data/alpha" / MARKER  # a half-finished alpha run: refused, not misread
    marker.write_text(
        '{"started_at": "2026-12-04T00:00:00+00:00", "pending": ["alpha_spreads_ou"]}'
    )
    res = CliRunner().invoke(recovery_cli, ["--project", str(tmp_path), "--db-url", url])
    assert res.exit_code != 0 and "did not finish alpha_spreads_ou" in res.output, res.output
