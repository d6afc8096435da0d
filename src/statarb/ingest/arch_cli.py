"""``statarb fetch-arch``: write the real daily index data of the ``arch`` package as raw files.

Output (default ``data/01_raw_arch``, read by ``kedro run --env arch_daily``): ``symbols.csv``,
``corporate_actions.csv`` (header only) and ``bars/ARCH_bars_<YYYY>.csv`` in the dev-contract
raw bar layout. See docs/real-data.md.
"""

from __future__ import annotations

import time
from datetime import date

import click

from statarb.ingest.arch_data import ARCH_SERIES, ArchDataError, write_raw_dataset


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected YYYY-MM-DD, got {value!r}") from None


@click.command(name="fetch-arch")
@click.option(
    "--out", default="data/01_raw_arch", show_default=True, type=click.Path(file_okay=False)
)
@click.option(
    "--ticker",
    "tickers",
    multiple=True,
    type=click.Choice([s.ticker for s in ARCH_SERIES], case_sensitive=False),
    help="Series to write (repeatable) [default: all].",
)
@click.option("--start", callback=_date, default=None, help="First date (YYYY-MM-DD), inclusive.")
@click.option("--end", callback=_date, default=None, help="Last date (YYYY-MM-DD), inclusive.")
def fetch_arch(out: str, tickers: tuple[str, ...], start: date | None, end: date | None) -> None:
    """Convert the S&P 500 / NASDAQ Composite daily files shipped in `arch` into raw files in OUT.

    No network access: the files are read from the installed `arch` package (arch==8.0.0).
    """
    t0 = time.perf_counter()
    try:
        summary = write_raw_dataset(out, list(tickers) or None, start, end)
    except ArchDataError as exc:
        raise click.ClickException(str(exc)) from None
    rows = ", ".join(f"{k} {v}" for k, v in summary["rows"].items())
    n_bar_files = sum(1 for p in summary["files"] if p.parent.name == "bars")
    click.echo(
        f"wrote {len(summary['files'])} files to {out} in {time.perf_counter() - t0:.1f}s: "
        f"{n_bar_files} bar files ({rows} daily bars, {summary['first']} .. {summary['last']}), "
        "symbols.csv, corporate_actions.csv (no ticks in this data set)"
    )
    if summary["removed"]:
        click.echo(f"removed {len(summary['removed'])} stale bar file(s) outside the range")
    if summary["calendar_mismatch"]:
        d = summary["calendar_mismatch"]
        click.echo(f"warning: {len(d)} date(s) not shared by all series, e.g. {d[:3]}")
