"""``statarb recovery``: ground-truth recovery of a project's stored outputs, or of several
generator seeds in throw-away project copies (``--seeds``).

The metrics are :mod:`statarb.alpha.recovery` (screening, funnel, Kalman) and
:mod:`statarb.alpha.recovery_pnl` (backtest PnL by true/spurious pair); definitions in
``docs/alpha.md`` "Recovery on the default data".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
import polars as pl

from statarb.alpha import recovery as rc
from statarb.alpha.recovery_pnl import pnl_by_truth
from statarb.conventions import LATEST_RUN_SQL


def _alpha_params(root: Path, env: str | None) -> dict[str, Any]:
    from kedro.config import OmegaConfigLoader

    from statarb.settings import CONFIG_LOADER_ARGS

    args = {k: v for k, v in CONFIG_LOADER_ARGS.items() if k != "default_run_env"}
    env = env or "local"
    if not (root / "conf" / env).is_dir():
        if env != "local":
            raise click.ClickException(f"no configuration environment {root / 'conf' / env}")
        env = None  # a project without conf/local: base only
    loader = OmegaConfigLoader(str(root / "conf"), env=env, **args)
    return loader["parameters"]["alpha"]


def report_from_store(
    project: str | Path = ".", db_url: str | None = None, env: str | None = None
) -> dict[str, Any]:
    """:func:`statarb.alpha.recovery.recovery_report` on a project's stored outputs (after
    ``kedro run``): ``cointegration_results`` and the latest backtest run from the database
    (``db_url`` or the project default), ``spread_series`` and the bar timeline from ``data/``,
    the parameters from the project's configuration and the truth from
    ``data/01_raw/ground_truth``. Adds ``pnl`` / ``pnl_summary`` when a backtest run exists."""
    from statarb.alpha.config import AlphaConfig
    from statarb.storage.database import get_engine, resolve_db_url
    from statarb.storage.parquet_store import scan_store
    from statarb.storage.sql_io import read_table

    root = Path(project)
    cfg = AlphaConfig.from_params(_alpha_params(root, env), "alpha")
    truth, beta_paths = rc.load_ground_truth(root / "data/01_raw/ground_truth")
    url = db_url or resolve_db_url()
    if url.startswith("sqlite:///") and not Path(url[10:]).is_absolute():
        url = f"sqlite:///{(root / url[10:]).resolve()}"
    eng = get_engine(url)
    coint = read_table(eng, "cointegration_results")
    if coint.height == 0:
        raise ValueError(f"cointegration_results in {url} is empty: run `kedro run` first")
    spreads = scan_store(root / "data/alpha/spreads", "spread_series", columns=None)
    bars = scan_store(root / "data/bars_adjusted", "bars", columns=["datetime"])
    times = bars.select(pl.col("datetime").unique()).collect()["datetime"]
    rep = rc.recovery_report(
        coint, spreads, truth, beta_paths, times, cfg.screening.window_bars, None,
        timedelta(minutes=cfg.bar_minutes), cfg.selection.multiple_testing.level,
    )  # fmt: skip
    with eng.connect() as conn:
        import sqlalchemy as sa

        row = conn.execute(sa.text(LATEST_RUN_SQL)).first()
    if row is not None:
        where, params = "run_id = :r", {"r": row[0]}
        fills = read_table(eng, "backtest_fills", where=where, params=params)
        signals = read_table(eng, "backtest_signals", where=where, params=params)
        rep["pnl"], rep["pnl_summary"] = pnl_by_truth(fills, signals, truth)
        rep["pnl_summary"]["run_id"] = row[0]
    return rep


def _print_report(rep: dict[str, Any]) -> None:
    with pl.Config(tbl_rows=50, tbl_cols=20, tbl_width_chars=140, float_precision=4):
        for k, v in rep["summary"].as_dict().items():
            click.echo(f"{k:>20}: {v:.4f}" if isinstance(v, float) else f"{k:>20}: {v}")
        cols = ["pair_id", "kind", "n_pre", "flag_rate_pre", "found", "n_post", "flag_rate_post"]
        click.echo(f"\nby_pair\n{rep['by_pair'].select(cols)}")
        for name in ("fpr_by_legs", "beta_rmse"):
            click.echo(f"\n{name}\n{rep[name]}")
        if "pnl" in rep:
            click.echo(f"\nbacktest PnL by pair ({rep['pnl_summary']['run_id']})\n{rep['pnl']}")
            for k, v in rep["pnl_summary"].items():
                click.echo(f"{k:>24}: {v:.4f}" if isinstance(v, float) else f"{k:>24}: {v}")


def _seed_project(project: Path, seed: int, out: Path, pipelines: str) -> Path:
    """Copy the project's configuration to ``out``, generate ``seed`` and run ``pipelines``."""
    shutil.copytree(
        project / "conf", out / "conf", ignore=shutil.ignore_patterns("credentials.yml")
    )
    shutil.copy(project / "conf/base/credentials.yml", out / "conf/base")
    (out / "conf/local").mkdir(exist_ok=True)
    for name in ("pyproject.toml", ".telemetry"):
        if (project / name).exists():
            shutil.copy(project / name, out / name)
    shutil.copytree(project / "src", out / "src", ignore=shutil.ignore_patterns("__pycache__"))
    (out / "data").mkdir()
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if k != "STATARB_DB_URL"}
    for args in (
        ["statarb", "generate", "--seed", str(seed)],
        ["kedro", "run", "--pipelines", pipelines],
    ):
        proc = subprocess.run([str(bin_dir / args[0]), *args[1:]], cwd=out, env=env,
                              capture_output=True, text=True, check=False)  # fmt: skip
        if proc.returncode != 0:
            raise click.ClickException(
                f"seed {seed}: {' '.join(args)} failed:\n{proc.stderr[-3000:]}"
            )
    return out


def seeds_table(project: Path, seeds: list[int], keep: Path | None = None) -> pl.DataFrame:
    """One row per seed: the headline recovery and PnL-split numbers of a full run."""
    rows = []
    for seed in seeds:
        base = Path(tempfile.mkdtemp(prefix=f"statarb_seed{seed}_", dir=keep))
        try:
            click.echo(f"seed {seed}: generate + kedro run in {base} ...", err=True)
            _seed_project(project, seed, base / "p", "ingestion,preprocessing,alpha,backtest")
            rep = report_from_store(base / "p", f"sqlite:///{base / 'p/data/statarb.db'}")
            s = rep["summary"]
            row = {"seed": seed, "precision": s.precision, "recall": s.recall,
                   "n_tradable": s.n_tradable, "flag_precision": s.flag_precision,
                   "fpr": s.fpr, "raw_fpr": s.raw_fpr, "post_break_rate": s.post_break_rate}  # fmt: skip
            row.update({k: v for k, v in rep.get("pnl_summary", {}).items() if k != "run_id"})
            rows.append(row)
        finally:
            if keep is None:
                shutil.rmtree(base, ignore_errors=True)
    return pl.DataFrame(rows)


@click.command(name="recovery")
@click.option("--project", default=".", show_default=True, help="Kedro project root.")
@click.option("--db-url", default=None, help="Database URL (default: project credentials).")
@click.option("--env", default=None, help="Kedro configuration environment.")
@click.option(
    "--seeds",
    default=None,
    help="Comma-separated generator seeds: run each in a throw-away copy of the project and "
    "print one line per seed (takes about a minute per seed).",
)
def recovery_cli(project: str, db_url: str | None, env: str | None, seeds: str | None) -> None:
    """Ground-truth recovery of the last alpha run and backtest on synthetic data (docs/alpha.md)."""
    if seeds:
        table = seeds_table(Path(project).resolve(), [int(s) for s in seeds.split(",")])
        with pl.Config(tbl_rows=50, tbl_cols=30, tbl_width_chars=200, float_precision=4):
            click.echo(table)
        return
    _print_report(report_from_store(project, db_url, env))
