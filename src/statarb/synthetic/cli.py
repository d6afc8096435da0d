"""``statarb generate``: write the seeded synthetic raw data set.

Where and how come from the project's Kedro configuration (:mod:`statarb.storage.resolver`,
``--project``/``--env``): the folder of the catalog entry ``raw_symbols`` (``data/01_raw``) and
the ``synthetic`` parameters section; ``--out`` and ``--config`` override them. Outside a project:
``data/01_raw`` and the generator's defaults.
"""

from __future__ import annotations

import time

import click

from statarb.project_cli import maybe_project
from statarb.synthetic.config import config_from_dict, load_config
from statarb.synthetic.generator import generate as _generate

DEFAULT_OUT = "data/01_raw"


@click.command(name="generate")
@click.option(
    "--out",
    default=None,
    type=click.Path(file_okay=False),
    help="Output folder [default: the folder of the catalog entry raw_symbols, data/01_raw].",
)
@click.option("--project", default=".", show_default=True, help="Kedro project root.")
@click.option("--env", default=None, help="Kedro environment (default $KEDRO_ENV or local).")
@click.option("--seed", type=int, default=None, help="Override the config seed.")
@click.option(
    "--config",
    "config_path",
    default=None,
    type=click.Path(dir_okay=False),
    help="Parameters YAML with a 'synthetic' section [default: the project's parameters].",
)
@click.option("--symbols", "n_symbols", type=int, default=None, help="Universe size (small runs).")
@click.option("--days", "n_days", type=int, default=None, help="Use only the first N trading days.")
@click.option("--force", is_flag=True, help="Regenerate even if the files match the config.")
def generate(
    out: str | None,
    project: str,
    env: str | None,
    seed: int | None,
    config_path: str | None,
    n_symbols: int | None,
    n_days: int | None,
    force: bool,
) -> None:
    """Write vendor-style bars, ticks, symbols, corporate actions and ground truth to OUT."""
    proj = maybe_project(project, env)
    if out is None:
        raw = proj.file_entries().get("raw_symbols") if proj is not None else None
        out = str(raw.parent) if raw is not None else DEFAULT_OUT
    if config_path is not None or proj is None or "synthetic" not in proj.params:
        base = load_config(config_path)
    else:
        base = config_from_dict(dict(proj.params["synthetic"]))
    cfg = base.with_overrides(seed=seed, n_symbols=n_symbols, n_days=n_days)
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
