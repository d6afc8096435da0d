"""``statarb generate``: write the seeded synthetic raw data set (default ``data/01_raw``)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from statarb.synthetic.config import load_config
from statarb.synthetic.generator import generate as _generate

DEFAULT_CONFIG = "conf/base/parameters_synthetic.yml"


@click.command(name="generate")
@click.option("--out", default="data/01_raw", show_default=True, type=click.Path(file_okay=False))
@click.option("--seed", type=int, default=None, help="Override the config seed.")
@click.option(
    "--config",
    "config_path",
    default=None,
    type=click.Path(dir_okay=False),
    help=f"Parameters YAML with a 'synthetic' section [default: {DEFAULT_CONFIG} if present].",
)
@click.option("--symbols", "n_symbols", type=int, default=None, help="Universe size (small runs).")
@click.option("--days", "n_days", type=int, default=None, help="Use only the first N trading days.")
@click.option("--force", is_flag=True, help="Regenerate even if the files match the config.")
def generate(
    out: str,
    seed: int | None,
    config_path: str | None,
    n_symbols: int | None,
    n_days: int | None,
    force: bool,
) -> None:
    """Write vendor-style bars, ticks, symbols, corporate actions and ground truth to OUT."""
    if config_path is None and Path(DEFAULT_CONFIG).exists():
        config_path = DEFAULT_CONFIG
    cfg = load_config(config_path).with_overrides(seed=seed, n_symbols=n_symbols, n_days=n_days)
    t0 = time.perf_counter()
    wrote, paths = _generate(out, cfg, force=force)
    if not wrote:
        click.echo(
            f"{out}: up to date for seed {cfg.seed} ({len(paths)} files); use --force to rewrite"
        )
        return
    n_bars = sum(1 for p in paths if p.parent.name == "bars")
    n_ticks = sum(1 for p in paths if p.parent.name == "ticks")
    click.echo(
        f"wrote {len(paths)} files to {out} in {time.perf_counter() - t0:.1f}s "
        f"(seed {cfg.seed}, {cfg.n_symbols} symbols): {n_bars} bar files, {n_ticks} tick files, "
        "symbols.csv, corporate_actions.csv, ground_truth/"
    )
