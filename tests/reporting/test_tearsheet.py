"""Tearsheet and index rendering; the browser test opens them in headless Chromium."""

from __future__ import annotations

import json
import re

import numpy as np
import polars as pl
import pytest

from statarb.reporting import figures, tearsheet
from statarb.reporting.run_metrics import compute_run_metrics, metrics_frame


def _spread_for(run: dict, pair_id: str) -> pl.DataFrame:
    ts = run["equity"]["ts"]
    rng = np.random.default_rng(3)
    x = np.zeros(ts.len())
    for i in range(1, x.size):  # discrete OU
        x[i] = x[i - 1] - 0.05 * x[i - 1] + rng.normal(0, 0.1)
    return pl.DataFrame(
        {"pair_id": pair_id, "datetime": ts, "spread": x, "beta": 1.0, "z_score": x / 0.3}
    )


def _ou(run: dict, pair_id: str) -> pl.DataFrame:
    ts = run["equity"]["ts"]
    return pl.DataFrame(
        {
            "pair_id": pair_id,
            "window_end": [ts[0], ts[90]],
            "theta": [0.05, 0.06],
            "mu": [0.0, 0.01],
            "sigma": [0.1, 0.1],
            "entry_upper": [0.55, 0.56],  # spread levels mu +/- 2 sigma_eq (statarb.alpha.bands)
            "entry_lower": [-0.55, -0.54],
            "exit_threshold": [0.0, 0.01],
        }
    )


def render(run: dict, root) -> tuple:
    res = compute_run_metrics(
        "bt_test_001", run["equity"], run["fills"], run["signals"], run["bars_adjusted"]
    )
    rinfo = run["runs"].row(0, named=True)
    pairs = ["AAA_BBB", "CCC_DDD"]
    page = tearsheet.render_tearsheet(
        root,
        rinfo,
        res["row"],
        res["full"],
        run["equity"],
        run["signals"],
        res["trips"],
        spreads={p: _spread_for(run, p) for p in pairs},
        ou={p: _ou(run, p) for p in pairs},
    )
    index = tearsheet.render_index(
        root, run["runs"], metrics_frame([res["row"]]), {"bt_test_001": run["equity"]}
    )
    return page, index, res


def test_monthly_returns_hand_computed():
    from datetime import UTC, datetime

    eq = pl.DataFrame(
        {
            "ts": [
                datetime(2024, 1, 2, tzinfo=UTC),
                datetime(2024, 1, 31, tzinfo=UTC),
                datetime(2024, 2, 15, tzinfo=UTC),
                datetime(2024, 3, 1, tzinfo=UTC),
            ],
            "equity": [100.0, 110.0, 99.0, 108.9],
        }
    )
    mr = figures.monthly_returns(eq)
    assert mr["month"].to_list() == [1, 2, 3]
    np.testing.assert_allclose(mr["ret"].to_numpy(), [0.10, -0.10, 0.10])
    (row,) = figures.monthly_table(eq)
    assert row["months"][3] is None
    assert row["year_ret"] == pytest.approx(108.9 / 100 - 1)


def test_bands_follow_latest_window(synthetic_run):
    s = figures.bands_on_grid(_spread_for(synthetic_run, "AAA_BBB"), _ou(synthetic_run, "AAA_BBB"))
    assert s["mu"][89] == 0.0 and s["mu"][90] == 0.01  # no band before its window_end


def test_render_is_self_contained(synthetic_run, tmp_path):
    page, index, res = render(synthetic_run, tmp_path)
    assert page == tmp_path / "bt_test_001" / "tearsheet.html"
    html = page.read_text()
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=\"http", html)
    assert "Plotly.newPlot" in html and "plotly.js" in html.lower()
    for section in (
        "Equity and drawdown",
        "Monthly returns",
        "Spread AAA_BBB",
        "Spread CCC_DDD",
        "Realised PnL per pair",
        "Round trips",
    ):
        assert section in html
    assert "long spread" in html and "entry_upper" in html
    full = json.loads(res["row"]["metrics_json"])
    assert full["num_trades"] == 2 and "per_pair" in full and "costs" in full
    ih = index.read_text()
    assert 'href="bt_test_001/tearsheet.html"' in ih and "Equity (rebased to 1.0)" in ih


@pytest.mark.browser  # ~12 s: Chromium parses the inlined 4.8 MB plotly.js once per page
def test_pages_render_in_headless_chromium(synthetic_run, tmp_path):
    from tests.reporting.browser import open_pages

    page, index, _ = render(synthetic_run, tmp_path)
    bad = tmp_path / "bad.html"  # the harness must see errors and blank pages
    bad.write_text("<html><body><script>console.error('boom'); missingFn();</script></body></html>")
    *results, (bad_errors, bad_px) = open_pages([page, index, bad])
    assert any("boom" in e for e in bad_errors) and any("missingFn" in e for e in bad_errors)
    assert bad_px[..., :3].astype(float).std() < 1
    for path, (errors, px) in zip((page, index), results, strict=True):
        assert errors == [], f"{path.name}: browser console errors {errors}"
        rgb = px[..., :3].astype(float)
        assert rgb.std() > 5, f"{path.name}: screenshot looks blank (pixel std {rgb.std():.2f})"
        # plotted traces: a noticeable share of non-white, non-grey (coloured) pixels
        colour = (rgb.max(axis=2) - rgb.min(axis=2)) > 60
        assert colour.mean() > 0.0005, f"{path.name}: no coloured plot pixels found"


def test_plot_frame_decimates_and_breaks_gaps(synthetic_run):
    eq = synthetic_run["equity"].select("ts", "equity")  # 3 sessions of 60 one-minute bars
    pf = figures.plot_frame(eq, "ts")
    assert pf.height == eq.height + 2  # one null row after each of the two overnight gaps
    assert pf["equity"].null_count() == 2
    assert pf.drop_nulls()["equity"].to_list() == eq["equity"].to_list()
    small = figures.plot_frame(eq, "ts", max_points=50)
    kept = small.drop_nulls()
    assert kept.height <= 51 and kept["ts"][0] == eq["ts"][0] and kept["ts"][-1] == eq["ts"][-1]


def test_band_levels_in_spread_and_z_units(synthetic_run):
    import bisect

    sp = _spread_for(synthetic_run, "AAA_BBB")
    fig = figures.spread_figure("AAA_BBB", sp, _ou(synthetic_run, "AAA_BBB"), None)
    traces = {t.name: t for t in fig.data}

    def at(name: str, i: int) -> float:  # value of an "hv" step trace at spread row i
        xs = list(traces[name].x)  # float ms since the epoch (UTC)
        t_ms = sp["datetime"][i].timestamp() * 1000
        return traces[name].y[bisect.bisect_right(xs, t_ms) - 1]

    sd = 0.1 / (2 * 0.06) ** 0.5  # second window: mu 0.01, sigma 0.1, theta 0.06
    assert at("entry_upper", 100) == pytest.approx(0.56)
    assert at("entry_upper", 89) == pytest.approx(0.55)  # before the second window_end
    assert at("entry_upper (z)", 100) == pytest.approx((0.56 - 0.01) / sd)
    assert at("exit_lower", 100) == pytest.approx(2 * 0.01 - 0.01)
    assert len(traces["entry_upper"].x) <= 3  # compressed to change points


def test_step_points_reproduce_series():
    t = pl.Series([1, 2, 3, 4, 5, 6])
    y = pl.Series([1.0, 1.0, 2.0, 2.0, None, None])
    x, v = figures.step_points(t, y)
    assert x.tolist() == [1, 3, 5, 6]
    np.testing.assert_array_equal(v, [1.0, 2.0, np.nan, np.nan])
