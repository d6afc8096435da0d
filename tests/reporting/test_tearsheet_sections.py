"""Tearsheet sections: pair diagnostics, optional research sections from fixture frames, the
research-frame dataset and the strict ``reporting.tearsheet`` parameters."""

from __future__ import annotations

import base64
import math
import re

import numpy as np
import polars as pl
import pytest

from statarb.config.strict import ConfigError
from statarb.reporting import research_frames, tearsheet
from statarb.reporting.config import TearsheetParams
from statarb.reporting.datasets import OptionalParquetDataset
from statarb.reporting.figures_pair import pair_diagnostics_figure
from statarb.reporting.run_metrics import compute_run_metrics
from tests.config_helpers import base_params
from tests.reporting.test_tearsheet import _ou, _plot_data, _spread_for

RUN = "bt_test_001"


def _selection(run: dict, pair_id: str) -> pl.DataFrame:
    ts = run["equity"]["ts"]
    return pl.DataFrame(
        {
            "pair_id": pair_id,
            "test_ts": [ts[0], ts[60], ts[120]],
            "qvalue": [0.2, 0.001, 0.004],
            "pass_test": [False, True, True],
            "tradable": [False, False, True],
        }
    )


def _research(run: dict, run_id: str = RUN) -> dict[str, pl.DataFrame]:
    ts = run["equity"]["ts"]
    n = ts.len()
    grid = pl.DataFrame(
        {
            "run_id": run_id,
            "entry_z": [1.5, 1.5, 2.0, 2.0, 2.0, 2.5],
            "exit_z": [0.0, 0.5, 0.0, 0.5, 0.5, 0.0],
            "stop_z": [4.0, 4.0, 4.0, 4.0, 5.0, 4.0],
            "sharpe_annual": [0.8, 1.1, 1.4, 0.2, 0.9, -0.3],
        }
    )
    wf = pl.concat(
        [
            pl.DataFrame(
                {
                    "run_id": run_id,
                    "ts": ts,
                    "sample": "in_sample",
                    "equity": 1e6 * (1 + 1e-4 * np.arange(n)),
                }
            ),
            pl.DataFrame(
                {
                    "run_id": run_id,
                    "ts": ts,
                    "sample": "out_of_sample",
                    "equity": 1e6 * (1 + 5e-5 * np.arange(n)),
                    "fold": np.arange(n) // 60,
                }
            ),
        ],
        how="diagonal",
    )
    cost = pl.DataFrame(
        {
            "run_id": run_id,
            "cost_scale": [4.0, 0.0, 1.0, 2.0],
            "sharpe_annual": [-1.0, 2.0, 1.2, 0.4],
            "net_pnl": [-500.0, 900.0, 400.0, 100.0],
        }
    )
    stats = pl.DataFrame(
        {
            "run_id": [run_id],
            "psr": [0.93],
            "dsr": [0.61],
            "min_trl": [812.0],
            "sharpe_ci_low": [0.2],
            "sharpe_ci_high": [2.1],
            "n_trials": [6],
        }
    )
    return {"sweep_grid": grid, "walk_forward": wf, "cost_sensitivity": cost, "trial_stats": stats}


def _page(run: dict, tmp_path, **kw) -> str:
    res = compute_run_metrics(RUN, run["equity"], run["fills"], run["signals"])
    pairs = ["AAA_BBB", "CCC_DDD"]
    return tearsheet.render_tearsheet(
        tmp_path,
        run["runs"].row(0, named=True),
        res["row"],
        res["full"],
        run["equity"],
        run["signals"],
        res["trips"],
        spreads={p: _spread_for(run, p) for p in pairs},
        ou={p: _ou(run, p) for p in pairs},
        selection={p: _selection(run, p) for p in pairs},
        rolling_window=30,
        **kw,
    ).read_text()


def _array(a) -> np.ndarray:
    """A plotly JSON array: a (nested) list or a base64 typed array ``{dtype, bdata, shape}``."""
    if isinstance(a, dict):
        v = np.frombuffer(base64.b64decode(a["bdata"]), dtype=np.dtype(a["dtype"]))
        return v.reshape([int(n) for n in str(a.get("shape", v.size)).split(",")])
    return np.asarray(a, dtype=float)


def _fig_with_title(html: str, prefix: str) -> dict:
    for f in _plot_data(html)["figs"].values():
        title = (f["layout"].get("title") or {}).get("text", "")
        notes = [a["text"] for a in f["layout"].get("annotations", [])]
        if title.startswith(prefix) or any(n.startswith(prefix) for n in notes):
            return f
    raise AssertionError(f"no figure titled {prefix!r}")


def test_pair_diagnostics_show_beta_half_life_and_funnel(synthetic_run):
    sp = _spread_for(synthetic_run, "AAA_BBB").with_columns(
        beta=pl.Series(np.linspace(0.9, 1.1, synthetic_run["equity"].height))
    )
    fig = pair_diagnostics_figure(
        "AAA_BBB", sp, _ou(synthetic_run, "AAA_BBB"), _selection(synthetic_run, "AAA_BBB")
    )
    tr = {t.name: t for t in fig.data}
    np.testing.assert_allclose(tr["beta"].y, sp["beta"].to_numpy())  # 180 bars: not decimated
    np.testing.assert_allclose(tr["half-life"].y, [math.log(2) / 0.05, math.log(2) / 0.06])
    assert list(tr["test passed"].y) == [0.001, 0.004] and list(tr["test failed"].y) == [0.2]
    np.testing.assert_array_equal(tr["tradable"].y, [0.0, 1.0])  # change points: off, then on
    assert fig.layout.yaxis3.type == "log"
    empty = pair_diagnostics_figure("AAA_BBB", None, None, None)
    assert len(empty.data) == 0  # no input, no trace (and no error)


def test_research_sections_render_from_fixture_frames(synthetic_run, tmp_path):
    html = _page(synthetic_run, tmp_path, research=_research(synthetic_run))
    for section in ("Sweep", "In-sample vs out-of-sample", "Cost sensitivity", "Trial-aware"):
        assert section in html, section
    heat = _fig_with_title(html, "Sweep: best annualised Sharpe")["data"][0]
    assert heat["type"] == "heatmap" and heat["y"] == ["1.5", "2.0", "2.5"]
    assert heat["x"] == ["0.0", "0.5"]
    z = _array(heat["z"])  # best Sharpe per cell over stop_z: (2.0, 0.5) = max(0.2, 0.9)
    np.testing.assert_array_equal(z, [[0.8, 1.1], [1.4, 0.9], [-0.3, np.nan]])
    wf = _fig_with_title(html, "In-sample best vs out-of-sample")
    assert [t["name"] for t in wf["data"]] == ["in-sample best", "out-of-sample (stitched)"]
    assert len(wf["layout"]["shapes"]) == 2  # fold boundaries at the 2nd and 3rd fold starts
    cost_table = html[html.index('<table id="cost-sensitivity">') :]
    cost_table = cost_table[: cost_table.index("</table>")]
    assert re.findall(r"<td>x(\d)</td>", cost_table) == ["0", "1", "2", "4"]  # sorted by scale
    stats = html[html.index('<table id="trial-stats">') :]
    assert "Deflated Sharpe ratio" in stats and "0.61" in stats and "812" in stats


def test_research_sections_are_omitted_without_their_frames(synthetic_run, tmp_path):
    plain = _page(synthetic_run, tmp_path / "a")
    other = _page(synthetic_run, tmp_path / "b", research=_research(synthetic_run, "bt_other_001"))
    for html in (plain, other):  # absent, or only rows of another run: no section, no error
        assert "Research: sweep" not in html and 'id="trial-stats"' not in html
        assert 'id="cost-sensitivity"' not in html and 'id="walk-forward"' not in html
    # trial statistics fall back to metrics_json.trial_stats (nested, as trial_stats writes it)
    res = compute_run_metrics(RUN, synthetic_run["equity"], synthetic_run["fills"])
    full = {**res["full"], "trial_stats": {"psr": 0.5, "deflated": {"dsr": None}}}
    html = tearsheet.tearsheet_html(
        synthetic_run["runs"].row(0, named=True), res["row"], full, synthetic_run["equity"]
    )
    stats = html[
        html.index('<table id="trial-stats">') : html.index(
            "</table>", html.index('id="trial-stats"')
        )
    ]
    assert stats.count("<tr>") == 2 and "n/a" in stats


def test_research_frame_errors_name_frame_column_and_row(synthetic_run):
    frames = _research(synthetic_run)
    with pytest.raises(ValueError, match=r"sweep_grid: missing column 'exit_z'"):
        research_frames.select_frame("sweep_grid", frames["sweep_grid"].drop("exit_z"), RUN)
    with pytest.raises(ValueError, match=r"cost_sensitivity.net_pnl: dtype String"):
        bad = frames["cost_sensitivity"].with_columns(pl.col("net_pnl").cast(pl.String))
        research_frames.select_frame("cost_sensitivity", bad, RUN)
    wf = frames["walk_forward"].with_columns(
        sample=pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("oos")).otherwise("sample")
    )
    with pytest.raises(ValueError, match=r"walk_forward row 3: sample must be one of"):
        research_frames.select_frame("walk_forward", wf, RUN)


def test_optional_parquet_dataset_missing_is_none(tmp_path):
    ds = OptionalParquetDataset(str(tmp_path / "research" / "sweep_grid.parquet"))
    assert ds.load() is None and not ds.exists()
    df = pl.DataFrame({"run_id": [RUN], "entry_z": [2.0], "exit_z": [0.5], "sharpe_annual": [1.0]})
    ds.save(df)
    assert ds.exists() and ds.load().equals(df)
    assert not list((tmp_path / "research").glob("*.tmp-*"))  # atomic: no temporary left


def test_tearsheet_params_are_strict():
    good = base_params("reporting")["tearsheet"]
    assert TearsheetParams.from_params(good, "reporting.tearsheet").rolling_window >= 2
    with pytest.raises(ConfigError, match="rolling_windw"):
        TearsheetParams.from_params({**good, "rolling_windw": 5}, "reporting.tearsheet")
    with pytest.raises(ConfigError, match="top_drawdowns"):
        TearsheetParams.from_params({**good, "top_drawdowns": 0}, "reporting.tearsheet")


def test_figures_below_the_fold_are_drawn_lazily(synthetic_run, tmp_path):
    html = _page(synthetic_run, tmp_path)
    script = html[html.rindex("<script>") :]
    assert "IntersectionObserver" in script and "statarbDrawAll" in script
    assert script.count("Plotly.newPlot") == 1  # one drawing routine, data in one JSON block
    assert html.count("<script") == 3  # plotly.js, the data block, the drawing script


def test_nested_metrics_json_trial_stats_are_flattened():
    nested = {
        "psr": 0.97,
        "psr_benchmark_annual": 0.0,
        "min_track_record": {"bars": 5200.0, "years": 0.05, "confidence": 0.95},
        "deflated": {
            "applied": True,
            "n_trials": 120,
            "sharpe_variance_annual": 0.4,
            "expected_max_sharpe_annual": 1.6,
            "dsr": 0.71,
        },
        "bootstrap": {"sharpe_low": 0.3, "sharpe_high": 2.9, "confidence": 0.95},
    }
    flat = research_frames.flat_trial_stats(nested)
    assert flat == {
        "psr": 0.97,
        "psr_benchmark_annual": 0.0,
        "min_trl": 5200.0,
        "dsr": 0.71,
        "benchmark_sharpe": 1.6,
        "n_trials": 120,
        "sharpe_variance": 0.4,
        "sharpe_ci_low": 0.3,
        "sharpe_ci_high": 2.9,
        "ci_level": 0.95,
    }
    rows = research_frames.trial_stats_rows({**nested, "dsr": 0.5})  # a flat key wins
    assert ("Deflated Sharpe ratio", 0.5) in rows and len(rows) == 10
    assert research_frames.trial_stats_rows({"reason": "no variance"}) == []
