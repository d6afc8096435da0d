"""End to end: ``statarb generate`` then ``kedro run`` (every pipeline) in a throw-away copy of the project.

This drives the real command line exactly as the README's run command does, on a smaller universe
so that it fits the CI budget, and then checks what a user would check: every injected bad row is in
quarantine with its file, row and rule; the store holds exactly the clean rows; the relational tables
are filled; a report is written and its path printed; re-running ingestion and preprocessing changes
nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from tests.conftest import throwaway_pg_database

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# generator rule name -> ingestion quarantine rule name
RULE_MAP = {
    "negative_price": "negative_price",
    "high_lt_low": "high_lt_low",
    "nan_close": "non_finite_price",
    "unknown_ticker": "unknown_symbol",
    "non_increasing_time": "non_increasing_datetime",
    "duplicate_row": "duplicate",
}


def _run(args: list[str], cwd: Path, db_url: str | None = None, timeout: int = 900) -> str:
    env = {k: v for k, v in os.environ.items() if k != "STATARB_DB_URL"}
    if db_url is not None:  # PostgreSQL is selected exactly as a user would: the env variable
        env["STATARB_DB_URL"] = db_url
    proc = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(args)} failed ({proc.returncode}):\n{out[-6000:]}"
    return out


def _store_digest(root: Path) -> dict[str, str]:
    """Content digest of every Parquet partition (frame content, not file bytes)."""
    digest = {}
    for f in sorted(root.rglob("*.parquet")):
        df = pl.read_parquet(f)
        digest[str(f.relative_to(root))] = hashlib.sha256(df.write_ipc(None).getvalue()).hexdigest()
    return digest


@dataclass
class Project:
    root: Path
    db_url: str | None  # None: the embedded SQLite default under data/
    out: str  # what `kedro run` printed

    def run(self, *args: str) -> str:
        return _run([str(BIN / args[0]), *args[1:]], cwd=self.root, db_url=self.db_url)

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.db_url or f"sqlite:///{self.root / 'data' / 'statarb.db'}")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    if request.param == "postgresql":
        with throwaway_pg_database() as url:
            yield _make_project(tmp_path_factory, url)
    else:
        yield _make_project(tmp_path_factory, None)


def _make_project(tmp_path_factory: pytest.TempPathFactory, db_url: str | None) -> Project:
    root = tmp_path_factory.mktemp("e2e_project")
    shutil.copytree(REPO / "conf", root / "conf", ignore=shutil.ignore_patterns("credentials.yml"))
    shutil.copy(REPO / "conf" / "base" / "credentials.yml", root / "conf" / "base")
    (root / "conf" / "local").mkdir(exist_ok=True)
    # 15 sessions of data: screen on 5-session windows (the shipped 20-session window would leave
    # the funnel nothing to test) without the confirmation stage (its delay of half a window plus
    # the persistence passes leaves no pair of 10 symbols tradable on 10 test sessions); the local
    # environment overlays base key by key
    (root / "conf" / "local" / "parameters_alpha.yml").write_text(
        "alpha:\n  screening:\n    window_bars: 1950\n    min_obs: 1950\n"
        "  selection:\n    confirmation:\n      max_shared: null\n"
    )
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "data").mkdir()
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    proj = Project(root, db_url, "")
    proj.run("statarb", "generate", "--symbols", "10", "--days", "15")
    proj.out = proj.run("kedro", "run")
    return proj


def test_every_injected_bad_row_is_quarantined_with_file_row_rule(project):
    root = project.root
    truth = json.loads((root / "data/01_raw/ground_truth/anomalies.json").read_text())
    q = pl.read_parquet(root / "data/02_intermediate/quarantine/bars.parquet")
    got = {
        (Path(f).name, int(r), rule)
        for f, r, rule in q.select("source_file", "source_row", "rule").iter_rows()
    }
    expected = {
        (Path(a["file"]).name, int(a["row"]), RULE_MAP[a["rule"]])
        for a in truth["anomalies"]
        if a["rule"] in RULE_MAP
    }
    assert expected, "the generator injected no bad rows"
    assert expected <= got, f"not quarantined: {sorted(expected - got)[:10]}"
    assert len(got) == len(expected), (
        f"quarantined rows that were not injected: {sorted(got - expected)[:10]}"
    )


def test_store_holds_exactly_the_clean_rows_in_utc(project):
    root = project.root
    raw_rows = sum(pl.read_csv(f).height for f in sorted((root / "data/01_raw/bars").glob("*.csv")))
    quarantined = pl.read_parquet(root / "data/02_intermediate/quarantine/bars.parquet").height
    bars = pl.scan_parquet(root / "data/bars/**/*.parquet", hive_partitioning=True).collect()
    assert bars.height == raw_rows - quarantined
    assert bars.schema["datetime"] == pl.Datetime("us", "UTC")
    assert bars.select(pl.struct("symbol", "datetime").is_unique().all()).item()
    # regular session 09:30-16:00 New York, whatever the DST offset
    local = bars["datetime"].dt.convert_time_zone("America/New_York")
    minutes = local.dt.hour().cast(pl.Int32) * 60 + local.dt.minute().cast(pl.Int32)
    assert minutes.min() == 9 * 60 + 30 and minutes.max() == 15 * 60 + 59


def test_relational_tables_filled_and_report_printed(project):
    root, out = project.root, project.out
    with project.engine().connect() as conn:
        counts = {
            t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
            for t in (
                "symbols",
                "corporate_actions",
                "pair_universe",
                "cointegration_results",
                "kalman_params",
                "ou_params",
                "backtest_runs",
                "backtest_equity",
                "backtest_metrics",
            )
        }
        run_id = conn.execute(sa.text("SELECT run_id FROM backtest_runs")).scalar_one()
    assert counts["symbols"] == 10
    assert all(n > 0 for n in counts.values()), counts
    assert counts["backtest_runs"] == counts["backtest_metrics"] == 1
    report = root / "data" / "08_reporting" / run_id / "tearsheet.html"
    assert report.is_file() and report.stat().st_size > 100_000
    assert f"data/08_reporting/{run_id}/tearsheet.html" in out


def test_rerunning_ingestion_and_preprocessing_changes_nothing(project):
    root = project.root
    stores = ("bars", "ticks", "bars_adjusted")
    tables = ("symbols", "corporate_actions")
    before = {d: _store_digest(root / "data" / d) for d in stores}
    with project.engine().connect() as conn:
        rows_before = {
            t: conn.execute(sa.text(f"SELECT * FROM {t} ORDER BY 1")).all() for t in tables
        }
    project.run("kedro", "run", "--pipelines", "ingestion")
    project.run("kedro", "run", "--pipelines", "preprocessing")
    assert {d: _store_digest(root / "data" / d) for d in stores} == before
    with project.engine().connect() as conn:
        rows_after = {
            t: conn.execute(sa.text(f"SELECT * FROM {t} ORDER BY 1")).all() for t in tables
        }
    # symbols keep created_at/updated_at (nothing changed); corporate_actions keep their ids
    assert rows_after["symbols"] == rows_before["symbols"]
    ca_cols = ("id", "symbol_id", "action_type", "ex_date", "ratio", "cash_amount")
    with project.engine().connect() as conn:
        ca = conn.execute(
            sa.text(f"SELECT {', '.join(ca_cols)} FROM corporate_actions ORDER BY id")
        )
        assert ca.all() == [
            tuple(getattr(r, c) for c in ca_cols) for r in rows_before["corporate_actions"]
        ]


# The notebook and the pipeline graph do not depend on the relational back-end: SQLite project only.
@pytest.mark.parametrize("project", ["sqlite"], indirect=True)
def test_notebook_executes_on_the_run(project):
    """The walkthrough notebook loads the catalog with kedro.ipython and plots spread + equity."""
    from tests.reporting.test_notebook import _execute

    _execute(project.root / "notebooks" / "pairs_walkthrough.ipynb")


@pytest.mark.parametrize("project", ["sqlite"], indirect=True)
def test_kedro_viz_static_build(project):
    project.run("kedro", "viz", "build")
    assert (project.root / "build" / "index.html").is_file()


@pytest.mark.browser
@pytest.mark.parametrize("project", ["sqlite"], indirect=True)
def test_tearsheet_loads_in_headless_chromium(project, tmp_path):
    """The run's tearsheet (every section the pipeline writes) opens in headless Chromium: no
    console error, every figure drawn (the lazy ones too), a non-blank screenshot, and the load
    event within the 3 s budget (scaled by the machine's speed on plotly.js alone)."""
    from tests.reporting.browser import load_budget_check, open_pages

    (page,) = (project.root / "data" / "08_reporting").glob("bt_*/tearsheet.html")
    (res,) = open_pages([page], timeout_s=60)
    assert res.errors == [], f"browser console errors {res.errors}"
    n_figs = page.read_text().count('class="plot')
    assert n_figs >= 5 and res.plots_all == n_figs, (res.plots, res.plots_all, n_figs)
    rgb = res.pixels[..., :3].astype(float)
    assert rgb.std() > 5 and ((rgb.max(axis=2) - rgb.min(axis=2)) > 60).mean() > 0.0005
    chk = load_budget_check(page, tmp_path, 3.0)
    assert chk["page_s"] < chk["budget_s"], chk
