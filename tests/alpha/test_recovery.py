"""Ground-truth recovery: the real screening and Kalman code on generated data find the constructed
pairs, drop the broken pair after its break, and track the true hedge ratios (docs/alpha.md,
"Recovery on the default data"). The metric functions of ``statarb.alpha.recovery`` are checked
against brute-force loops first."""

from __future__ import annotations

import copy
import datetime as dt
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
UTC = dt.UTC
MIN = dt.timedelta(minutes=1)

# --------------------------------------------------------------------------- metric definitions


def _ts(minute: int) -> dt.datetime:
    return dt.datetime(2026, 1, 5, 14, 30, tzinfo=UTC) + minute * MIN


def test_window_starts_match_brute_force() -> None:
    rng = np.random.default_rng(3)
    minutes = np.sort(rng.choice(500, size=200, replace=False))
    bars = pl.Series([_ts(int(m)) for m in minutes], dtype=rc.UTC_US)
    tests = [_ts(int(m)) for m in rng.integers(0, 520, size=40)]
    coint = pl.DataFrame({"test_ts": tests}, schema={"test_ts": rc.UTC_US})
    got = rc.window_starts(coint, bars.shuffle(seed=1), window_bars=25)["window_start"].to_list()
    for t, start in zip(tests, got, strict=True):
        known = [b for b in bars.to_list() if b + MIN <= t]  # dev-contract information time
        assert start == (known[-25] if len(known) >= 25 else None)


def test_window_starts_without_full_windows() -> None:
    coint = pl.DataFrame({"test_ts": [_ts(5), _ts(9)]}, schema={"test_ts": rc.UTC_US})
    empty = pl.Series([], dtype=rc.UTC_US)
    assert rc.window_starts(coint, empty, 3)["window_start"].null_count() == 2
    few = pl.Series([_ts(m) for m in range(4)], dtype=rc.UTC_US)
    assert rc.window_starts(coint, few, 5)["window_start"].null_count() == 2
    with pytest.raises(ValueError, match="window_bars"):
        rc.window_starts(coint, few, 0)


def _toy_results() -> tuple[pl.DataFrame, pl.DataFrame, pl.Series]:
    """3 pairs (constant, break at minute 300, none), a test every 20 minutes, random flags."""
    rng = np.random.default_rng(11)
    bars = pl.Series([_ts(m) for m in range(600)], dtype=rc.UTC_US)
    truth = rc.truth_frame(
        [
            {"pair_id": "A_B", "kind": "constant", "cointegrated": True, "break_ts": None,
             "symbol_a": "A", "symbol_b": "B"},
            {"pair_id": "C_D", "kind": "break", "cointegrated": True,
             "break_ts": _ts(300).strftime("%Y-%m-%dT%H:%M:%SZ"), "symbol_a": "C",
             "symbol_b": "D"},
            {"pair_id": "A_E", "kind": "none", "cointegrated": False, "break_ts": None,
             "symbol_a": "A", "symbol_b": "E"},
            {"pair_id": "E_F", "kind": "none", "cointegrated": False, "break_ts": None,
             "symbol_a": "E", "symbol_b": "F"},
        ]
    )  # fmt: skip
    rows = [
        (pid, _ts(m), bool(rng.uniform() < p))
        for pid, p in (("A_B", 0.8), ("C_D", 0.6), ("A_E", 0.3), ("E_F", 0.1))
        for m in range(20, 601, 20)
    ]
    coint = pl.DataFrame(
        rows, schema={"pair_id": pl.String, "test_ts": rc.UTC_US, "is_cointegrated": pl.Boolean},
        orient="row",
    ).with_columns(adf_pvalue=pl.lit(0.5))  # fmt: skip
    return coint, truth, bars


def test_classification_and_summary_match_brute_force() -> None:
    coint, truth, bars = _toy_results()
    w = 100
    cl = rc.classify_tests(coint, truth, bars, w)
    brk = _ts(300)
    tally: dict[tuple[str, str], list[bool]] = {}
    for pid, t, flag in coint.select("pair_id", "test_ts", "is_cointegrated").iter_rows():
        known = [b for b in bars.to_list() if b + MIN <= t]
        kind = truth.filter(pl.col("pair_id") == pid)["kind"].item()
        if len(known) < w:
            phase = "partial"
        elif kind == "none":
            phase = "none"
        elif kind != "break" or t <= brk:
            phase = "pre"
        elif known[-w] >= brk:
            phase = "post"
        else:
            phase = "straddle"
        tally.setdefault((pid, phase), []).append(flag)
    got = {(p, ph): n for p, ph, n in cl.group_by("pair_id", "phase").len().iter_rows()}
    assert got == {k: len(v) for k, v in tally.items()}
    assert {"pre", "post", "straddle", "none", "partial"} <= {k[1] for k in tally}

    s = rc.summarize(cl)
    rates = {k: np.mean(v) for k, v in tally.items()}
    found = [rates[(p, "pre")] > 0.5 for p in ("A_B", "C_D")]
    assert s.recall == pytest.approx(np.mean(found))
    pre = tally[("A_B", "pre")] + tally[("C_D", "pre")]
    assert s.per_test_recall == pytest.approx(np.mean(pre))
    assert s.fpr == pytest.approx(np.mean(tally[("A_E", "none")] + tally[("E_F", "none")]))
    assert s.fpr_pairs == pytest.approx(
        np.mean([rates[("A_E", "none")] > 0.5, rates[("E_F", "none")] > 0.5])
    )
    assert s.post_break_rate == pytest.approx(rates[("C_D", "post")])
    by_leg = {k: f for k, _, _, f in rc.fpr_by_leg_exposure(cl).iter_rows()}
    assert by_leg == pytest.approx(
        {1: np.mean(tally[("A_E", "none")]), 0: np.mean(tally[("E_F", "none")])}
    )


def test_seed_row_names_missed_and_spurious_pairs() -> None:
    from statarb.alpha.recovery_cli import seed_row

    coint, truth, bars = _toy_results()
    cl = rc.classify_tests(coint, truth, bars, 100)
    by_pair = rc.recovery_by_pair(cl)
    rep = {
        "summary": rc.summarize(cl),
        "by_pair": by_pair.filter(pl.col("cointegrated")),
        "spurious": rc.spurious_tradable(by_pair),
    }  # as recovery_report builds it
    row = seed_row(3, rep)
    full = cl.filter(pl.col("phase") != "partial")
    flagged = set(full.filter(pl.col("is_cointegrated"))["pair_id"].to_list())
    pre = set(cl.filter(pl.col("is_cointegrated") & (pl.col("phase") == "pre"))["pair_id"])
    real = {"A_B", "C_D"}
    assert row["seed"] == 3 and row["recall"] == len(pre & real) / 2
    assert row["missed"] == ",".join(sorted(real - pre))
    assert row["spurious"] == ",".join(sorted(flagged - real))
    assert row["spurious"]  # the toy flags its unrelated pairs at random: the test can fail


def test_recovery_params_need_seeds() -> None:
    from click.testing import CliRunner

    from statarb.alpha.recovery_cli import recovery_cli

    res = CliRunner().invoke(recovery_cli, ["--params", "alpha.ou.min_obs=10"])
    assert res.exit_code != 0 and "--params needs --seeds" in res.output


def test_classify_rejects_pairs_missing_from_truth() -> None:
    coint, truth, bars = _toy_results()
    with pytest.raises(ValueError, match="absent from the ground truth"):
        rc.classify_tests(coint, truth.filter(pl.col("pair_id") != "A_E"), bars, 100)


def test_beta_rmse_matches_numpy() -> None:
    coint, truth, bars = _toy_results()
    rng = np.random.default_rng(5)
    n = bars.len()
    true = {"A_B": np.full(n, 1.2), "C_D": np.linspace(0.8, 0.9, n)}
    est = {k: v + rng.normal(0, 0.03, n) for k, v in true.items()}
    est["A_B"][7] = np.nan  # a skipped bar is ignored
    spreads = pl.concat(
        pl.DataFrame({"pair_id": k, "datetime": bars, "beta": v}) for k, v in est.items()
    ).sample(fraction=1.0, shuffle=True, seed=2)
    beta_paths = pl.concat(
        pl.DataFrame({"pair_id": k, "datetime": bars, "beta": v}) for k, v in true.items()
    )
    got = {
        r["pair_id"]: r for r in rc.beta_rmse(spreads, beta_paths, truth, 50).iter_rows(named=True)
    }
    for pid, hi in (("A_B", n), ("C_D", 300)):  # C_D: bars before its break only
        e = (est[pid] - true[pid])[50:hi]
        e = e[np.isfinite(e)]
        assert got[pid]["n_bars"] == e.size
        assert got[pid]["rmse"] == pytest.approx(np.sqrt(np.mean(e**2)), rel=1e-12)
        assert got[pid]["mae"] == pytest.approx(np.mean(np.abs(e)), rel=1e-12)
        rel = np.sqrt(np.mean(e**2)) / np.mean(true[pid][50:hi][np.isfinite(est[pid][50:hi])])
        assert got[pid]["rel_rmse"] == pytest.approx(rel, rel=1e-12)


def test_expanding_ols_beta_matches_statsmodels() -> None:
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(8)
    x = 100 + np.cumsum(rng.normal(0, 0.2, 400))
    y = 5 + 1.3 * x + rng.normal(0, 0.5, 400)
    y[[3, 50]] = np.nan
    x[120] = np.inf
    b = rc.expanding_ols_beta(y, x)
    ok = np.isfinite(y) & np.isfinite(x)
    assert np.isnan(b[[0, 3, 50, 120]]).all()
    for t in (5, 49, 51, 200, 399):
        m = ok[: t + 1]
        ref = sm.OLS(y[: t + 1][m], sm.add_constant(x[: t + 1][m])).fit().params[1]
        assert b[t] == pytest.approx(ref, rel=1e-9)


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
