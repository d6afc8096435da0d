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
from statarb.project_cli import project_options, storage_errors


def report_from_store(
    project: str | Path = ".", db_url: str | None = None, env: str | None = None
) -> dict[str, Any]:
    """:func:`statarb.alpha.recovery.recovery_report` on a project's stored outputs (after
    ``kedro run``). Everything is resolved through the project's Kedro configuration (environment
    ``env``; :mod:`statarb.storage.resolver`): ``cointegration_results`` and the latest backtest
    run from the database of the ``db`` credentials (``db_url`` overrides; read-only, never
    migrated), ``spread_series`` and the bar timeline from those catalog entries (either tier),
    the ``alpha`` parameters and the truth from the catalog entries ``ground_truth_pairs`` and
    ``ground_truth_beta_paths``. Adds ``pnl`` / ``pnl_summary`` when a backtest run exists."""
    from statarb.alpha.config import AlphaConfig
    from statarb.storage.alpha_state import marker_for, require_finished
    from statarb.storage.database import check_schema, get_engine, redact_url
    from statarb.storage.resolver import load_project, scan_entry
    from statarb.storage.sql_io import read_table

    proj = load_project(project, env)
    require_finished(marker_for(proj.entry_path("spread_series")), "recovery: the alpha outputs")
    cfg = AlphaConfig.from_params(proj.params["alpha"], "alpha")
    truth, beta_paths = rc.load_ground_truth(
        proj.entry_path("ground_truth_pairs"), proj.entry_path("ground_truth_beta_paths")
    )
    url = db_url or proj.db_url()
    check_schema(url)
    eng = get_engine(url, read_only=True)
    coint = read_table(eng, "cointegration_results")
    if coint.height == 0:
        raise ValueError(
            f"cointegration_results in {redact_url(url)} is empty: run `kedro run` first"
        )
    spreads = scan_entry(proj.store("spread_series"), columns=None)
    bars = scan_entry(proj.store("bars_adjusted"), columns=["datetime"])
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
        click.echo(f"\nspurious pairs in the tradable set: {', '.join(rep['spurious']) or 'none'}")
        for name in ("fpr_by_legs", "beta_rmse"):
            click.echo(f"\n{name}\n{rep[name]}")
        if "pnl" in rep:
            click.echo(f"\nbacktest PnL by pair ({rep['pnl_summary']['run_id']})\n{rep['pnl']}")
            for k, v in rep["pnl_summary"].items():
                click.echo(f"{k:>24}: {v:.4f}" if isinstance(v, float) else f"{k:>24}: {v}")


def _seed_project(
    project: Path, seed: int, out: Path, pipelines: str, params: str | None = None
) -> Path:
    """Copy the project's configuration to ``out``, generate ``seed`` and run ``pipelines``
    (with ``kedro run --params params`` when given)."""
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
        ["kedro", "run", "--pipelines", pipelines, *(["--params", params] if params else [])],
    ):
        proc = subprocess.run([str(bin_dir / args[0]), *args[1:]], cwd=out, env=env,
                              capture_output=True, text=True, check=False)  # fmt: skip
        if proc.returncode != 0:
            raise click.ClickException(
                f"seed {seed}: {' '.join(args)} failed:\n{proc.stderr[-3000:]}"
            )
    return out


def seed_row(seed: int, rep: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of one seed's :func:`report_from_store` report, with the constructed
    pairs never tradable at an eligible test (``missed``) and the tradable pairs without a
    relation (``spurious``), comma-separated."""
    s, by = rep["summary"], rep["by_pair"]
    missed = by.filter(pl.col("cointegrated") & ~pl.col("found").fill_null(False))["pair_id"]
    row = {"seed": seed, "precision": s.precision, "recall": s.recall,
           "n_tradable": s.n_tradable, "flag_precision": s.flag_precision,
           "fpr": s.fpr, "raw_fpr": s.raw_fpr, "post_break_rate": s.post_break_rate,
           "missed": ",".join(missed.sort()), "spurious": ",".join(rep["spurious"])}  # fmt: skip
    row.update({k: v for k, v in rep.get("pnl_summary", {}).items() if k != "run_id"})
    return row


def seeds_table(
    project: Path, seeds: list[int], keep: Path | None = None, params: str | None = None
) -> pl.DataFrame:
    """One row per seed (:func:`seed_row`) of a full run on that seed, with ``kedro run
    --params params`` when given."""
    rows = []
    for seed in seeds:
        base = Path(tempfile.mkdtemp(prefix=f"statarb_seed{seed}_", dir=keep))
        try:
            click.echo(f"seed {seed}: generate + kedro run in {base} ...", err=True)
            _seed_project(
                project, seed, base / "p", "ingestion,preprocessing,alpha,backtest", params
            )
            rep = report_from_store(base / "p", f"sqlite:///{base / 'p/data/statarb.db'}")
            rows.append(seed_row(seed, rep))
        finally:
            if keep is None:
                shutil.rmtree(base, ignore_errors=True)
    return pl.DataFrame(rows)


@click.command(name="recovery")
@project_options
@click.option(
    "--seeds",
    default=None,
    help="Comma-separated generator seeds: run each in a throw-away copy of the project and "
    "print one line per seed (takes about a minute per seed).",
)
@click.option(
    "--params",
    "params",
    default=None,
    help="With --seeds: runtime parameters for every seed's `kedro run`, as `kedro run --params` "
    'takes them (e.g. "alpha.selection.confirmation.max_shared=null").',
)
@storage_errors
def recovery_cli(
    project: str, env: str | None, db_url: str | None, seeds: str | None, params: str | None
) -> None:
    """Ground-truth recovery of the last alpha run and backtest on synthetic data (docs/alpha.md)."""
    if params and not seeds:
        raise click.UsageError("--params needs --seeds (it configures the seed runs)")
    if seeds:
        table = seeds_table(
            Path(project).resolve(), [int(s) for s in seeds.split(",")], params=params
        )
        with pl.Config(tbl_rows=50, tbl_cols=30, tbl_width_chars=200, float_precision=4):
            click.echo(table)
        return
    _print_report(report_from_store(project, db_url, env))
