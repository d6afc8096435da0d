"""Measurement: confirmation on an earlier, partly disjoint window, replayed on finished runs.

A candidate remedy for the funnel's remaining false pairs (docs/cointegration.md "Measured"),
now the funnel's confirmation stage (``alpha.selection.confirmation``, which counts
shared bars instead of test times; this replay is how it was first measured): a pair passes at
test ``t`` only if it passes stages 1-3 and matching at ``t`` (as run) **and** its raw p-value
(the intersection-union p of the configured tests, before the multiple-testing correction) was
below ``--level`` at the test ``--lag`` test times earlier, whose window shares only
``window - lag`` sessions with today's. Persistence (the project's ``enter_after`` /
``exit_after``, :func:`statarb.alpha.selection.persistence.hysteresis`) then
runs on the confirmed passes.

The replay reads each project's ``selection_log`` (the per-stage pass/fail of every
(pair, test_ts)) and ground truth through the project's Kedro configuration. It first replays
the funnel as the project ran it from the logged stage passes (the confirmation stage's too)
and checks that it reproduces the stored ``tradable`` (so the comparison is like for like),
then prints, per project and per lag, the
pair-level precision and recall of the tradable set and the number of tradable (pair, test)
rows. With ``reserve_within_window`` the logged matching passes carry the leg reservations of
the run as stored; they are not recomputed for the confirmed decisions (measured before the
reservation existed: docs/cointegration.md). It cannot price the backtest (the spreads of newly excluded pairs are what the alpha run
stored); PnL figures need a full run.

Run on projects kept by ``statarb recovery`` (``seeds_table(..., keep=DIR)``) or after
``make run``:

    .venv/bin/python benchmarks/bench_confirmation.py --projects DIR [DIR ...] [--lags 10 20]
"""

from __future__ import annotations

import argparse

import numpy as np
import polars as pl
from selection_replay import load_run, print_rows, tradable_row

from statarb.alpha.selection.persistence import hysteresis

STAGES = ["pass_test", "pass_half_life", "pass_hurst", "pass_crossings", "pass_matching"]


def replay(log: pl.DataFrame, enter: int, exit_: int, lag: int, level: float) -> pl.DataFrame:
    """``log`` (sorted by pair, test_ts) with ``tradable_replay``: hysteresis over the logged
    passes of every stage, confirmed (``lag > 0``) by ``pvalue < level`` ``lag`` tests back."""
    passed = pl.all_horizontal([pl.col(c).fill_null(False) for c in STAGES])
    passed = passed & pl.col("pass_confirmation").fill_null(True)  # the funnel's stage, if on
    if lag > 0:
        prior = (pl.col("pvalue") < level).fill_null(False).shift(lag).over("pair_id")
        passed = passed & prior.fill_null(False)
    log = log.with_columns(_p=passed)
    starts = np.flatnonzero(log["pair_id"] != log["pair_id"].shift(1, fill_value=""))
    starts = np.append(starts, log.height)
    _, on, _ = hysteresis(log["_p"].to_numpy(), starts, enter, exit_)
    return log.drop("_p").with_columns(tradable_replay=pl.Series(on))


def project_rows(project: str, lags: list[int], level: float) -> list[dict]:
    cfg, true, log = load_run(project)
    log = log.with_columns(pl.col([*STAGES, "pass_confirmation"]).cast(pl.Boolean))
    log = log.sort("pair_id", "test_ts")
    per = cfg.selection.persistence
    base = replay(log, per.enter_after, per.exit_after, 0, level)
    mismatch = base.filter(pl.col("tradable") != pl.col("tradable_replay")).height
    if mismatch:
        raise SystemExit(
            f"{project}: the replay differs from the stored tradable on {mismatch} rows"
        )
    rows = []
    for lag in [0, *lags]:
        out = replay(log, per.enter_after, per.exit_after, lag, level).filter("tradable_replay")
        rows.append(tradable_row(project, {"lag": lag}, set(out["pair_id"]), true, out.height))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--projects", nargs="+", default=["."])
    ap.add_argument("--lags", nargs="+", type=int, default=[10, 20])
    ap.add_argument("--level", type=float, default=0.05)
    args = ap.parse_args()
    rows = [r for p in args.projects for r in project_rows(p, args.lags, args.level)]
    print_rows(rows)
    tot = pl.DataFrame(rows).group_by("lag").agg(
        pl.col("false_pairs").str.split(", ").list.eval(pl.element().filter(pl.element() != ""))
        .list.len().sum().alias("false_pairs"),
        pl.col("missed").str.split(", ").list.eval(pl.element().filter(pl.element() != ""))
        .list.len().sum().alias("missed_pairs"),
        (pl.col("precision") >= 0.9).sum().alias("projects_precision_ge_0.9"),
    ).sort("lag")  # fmt: skip
    print("lag 0 = the funnel as each project ran it; totals over the projects:")
    print(tot)


if __name__ == "__main__":
    main()
