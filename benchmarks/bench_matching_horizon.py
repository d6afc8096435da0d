"""Measurement: leg matching over the window, three rules replayed on finished runs.

The funnel's matching stage (docs/cointegration.md "Selection funnel") keeps one partner per
symbol at each test time. This script replays stages 4 and 6 (matching, persistence) from each
project's ``selection_log`` (its logged stage 1-3 passes, p-values and statistics, and the
confirmation stage's pass where it ran) under three rules and prints the pair-level precision
and recall of the tradable set for each:

* ``per_test``: matching among the candidates of one test time only (``reserve_within_window:
  false``);
* ``tradable_holds``: a leg of a pair tradable at a test inside the candidate's window is reserved
  for it (the shipped ``reserve_within_window: true``, :mod:`statarb.alpha.selection.matching`);
* ``candidates_hold``: every candidate of the last ``window`` test times competes for the legs
  with its strongest evidence over those times (rejected: a one-off spurious candidate then
  blocks a true pair for a whole window).

The window is counted in test times, ``--window`` (20 = the shipped 20-session window with a test
at every session close). The replay of the rule the project ran with must reproduce the stored
``tradable`` on every row; the script stops otherwise (so the comparison is like for like).

Run on projects kept by ``statarb recovery`` (``seeds_table(..., keep=DIR)``) or after
``make run``:

    .venv/bin/python benchmarks/bench_matching_horizon.py --projects DIR [DIR ...]
"""

from __future__ import annotations

import argparse

import numpy as np
import polars as pl
from selection_replay import load_run, print_rows, tradable_row

from statarb.alpha.selection.matching import match_legs
from statarb.alpha.selection.persistence import Carry, hysteresis
from statarb.conventions import split_pair_id

QUALITY = ["pass_test", "pass_half_life", "pass_hurst", "pass_crossings"]
RULES = ("per_test", "tradable_holds", "candidates_hold")


def _persist(state: dict, ids: list[str], passed: np.ndarray, enter: int, exit_: int) -> np.ndarray:
    """One persistence step of the pairs ``ids`` of a test time with the funnel's own kernel
    (:func:`statarb.alpha.selection.persistence.hysteresis`), from and into ``state``."""
    prev = [state.get(p, (0, 0, False)) for p in ids]
    start = Carry(
        np.array([c[0] for c in prev], dtype=np.int64),
        np.array([c[1] for c in prev], dtype=np.int64),
        np.array([c[2] for c in prev], dtype=np.bool_),
    )
    _, on, end = hysteresis(passed, np.arange(len(ids) + 1), enter, exit_, start)
    for p, ok, bad, flag in zip(ids, end.ok, end.bad, end.on, strict=True):
        state[p] = (int(ok), int(bad), bool(flag))
    return on


def replay(groups: list[pl.DataFrame], rule: str, window: int, max_per: int, enter: int,
           exit_: int) -> list[np.ndarray]:  # fmt: skip
    """Tradable flags of every test time's rows (``groups``: one frame per test time, in order)."""
    state: dict[str, tuple[int, int, bool]] = {}  # pair -> (ok, bad, on) of the hysteresis
    last_on: dict[str, int] = {}
    pool: list[pl.DataFrame] = []
    out = []
    for k, g in enumerate(groups):
        ids = g["pair_id"].to_list()
        cand = g["cand"].to_numpy().copy()
        if rule == "tradable_holds":
            held: dict[str, set[str]] = {}
            for pid, kk in last_on.items():
                if kk > k - window:
                    for s in split_pair_id(pid):
                        held.setdefault(s, set()).add(pid)
            for i, pid in enumerate(ids):
                if cand[i] and any(held.get(s, set()) - {pid} for s in split_pair_id(pid)):
                    cand[i] = False
        if rule == "candidates_hold":
            pool = [*pool[-(window - 1) :], g.filter("cand").with_columns(k=pl.lit(k))]
            best = (
                pl.concat(pool)
                .sort("pvalue", "statistic", "k", descending=[False, False, True])
                .unique("pair_id", keep="first", maintain_order=True)
            )
            b_ids = best["pair_id"].to_list()
            legs = [split_pair_id(x) for x in b_ids]
            won = match_legs([a for a, _ in legs], [b for _, b in legs], np.ones(len(b_ids), bool),
                             best["pvalue"].to_numpy(), best["statistic"].to_numpy(), b_ids,
                             max_per)  # fmt: skip
            winners = {p for p, w in zip(b_ids, won, strict=True) if w}
            keep = cand & np.array([p in winners for p in ids], dtype=bool)
        else:
            legs = [split_pair_id(x) for x in ids]
            keep = match_legs([a for a, _ in legs], [b for _, b in legs], cand,
                              g["pvalue"].to_numpy(), g["statistic"].to_numpy(), ids, max_per)  # fmt: skip
        on = _persist(state, ids, keep & g["confirmed"].to_numpy(), enter, exit_)
        for p in np.array(ids, dtype=object)[on]:
            last_on[p] = k
        out.append(on)
    return out


def project_rows(project: str, window: int) -> list[dict]:
    cfg, true, log = load_run(project)
    log = log.with_columns(
        cand=pl.all_horizontal([pl.col(c).cast(pl.Boolean).fill_null(False) for c in QUALITY]),
        tradable=pl.col("tradable").cast(pl.Boolean),
        # the confirmation stage (after matching) as logged; null where it was off
        confirmed=pl.col("pass_confirmation").cast(pl.Boolean).fill_null(True),
    ).sort("test_ts", "pair_id")
    groups = log.partition_by("test_ts", maintain_order=True)
    m, per = cfg.selection.matching, cfg.selection.persistence
    shipped = "tradable_holds" if m.reserve_within_window else "per_test"
    rows = []
    for rule in RULES:
        on = np.concatenate(replay(groups, rule, window, m.max_pairs_per_symbol,
                                   per.enter_after, per.exit_after))  # fmt: skip
        if rule == shipped and (diff := int((on != log["tradable"].to_numpy()).sum())):
            raise SystemExit(f"{project}: the replay of {rule} differs from the stored "
                             f"tradable on {diff} rows")  # fmt: skip
        label = {"rule": rule + (" (as run)" if rule == shipped else "")}
        sel = set(log.filter(pl.Series(on))["pair_id"])
        rows.append(tradable_row(project, label, sel, true, int(on.sum())))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--projects", nargs="+", default=["."])
    ap.add_argument("--window", type=int, default=20, help="test times per screening window")
    args = ap.parse_args()
    print_rows([r for p in args.projects for r in project_rows(p, args.window)])


if __name__ == "__main__":
    main()
