"""``statarb generate``: write the seeded synthetic raw data set.

Where and how come from the project's Kedro configuration (:mod:`statarb.storage.resolver`,
``--project``/``--env``): the folder of the catalog entry ``raw_symbols`` (``data/01_raw``) and
the ``synthetic`` parameters section; ``--out`` overrides the folder and ``--config`` (a YAML
with a ``synthetic`` section) overrides the keys it lists. Outside a project: ``data/01_raw``, and
``--config`` must list every key (the defaults live only in ``conf/base/parameters_synthetic.yml``).
"""

from __future__ import annotations

import time

import click

from statarb.config.strict import ConfigError
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
    help="YAML with a 'synthetic' section overriding the project's parameters.",
)
@click.option("--symbols", "n_symbols", type=int, default=None, help="Universe size (any N >= 2).")
@click.option(
    "--days",
    "n_days",
    type=int,
    default=None,
    help="N sessions from synthetic.start (NYSE calendar, past synthetic.end if needed).",
)
@click.option(
    "--bar-format",
    type=click.Choice(["csv", "parquet"]),
    default=None,
    help="Raw vendor bar files [default: synthetic.bar_format].",
)
@click.option("--force", is_flag=True, help="Regenerate even if the files match the config.")
def generate(
    out: str | None,
    project: str,
    env: str | None,
    seed: int | None,
    config_path: str | None,
    n_symbols: int | None,
    n_days: int | None,
    bar_format: str | None,
    force: bool,
) -> None:
    """Write vendor-style bars, ticks, symbols, corporate actions and ground truth to OUT."""
    proj = maybe_project(project, env)
    if out is None:
        raw = proj.file_entries().get("raw_symbols") if proj is not None else None
        out = str(raw.parent) if raw is not None else DEFAULT_OUT
    section = proj.params.get("synthetic") if proj is not None else None
    try:
        if config_path is not None:
            base = load_config(config_path, base=section)
        elif section is not None:
            base = config_from_dict(dict(section))
        else:
            raise click.ClickException(
                f"no Kedro project at {project!r} with a 'synthetic' section: run inside the "
                "project or pass --config with every key of conf/base/parameters_synthetic.yml"
            )
        cfg = base.with_overrides(
            seed=seed, n_symbols=n_symbols, n_days=n_days, bar_format=bar_format
        )
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
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
