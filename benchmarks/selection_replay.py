"""Shared helpers of the scripts that replay the selection funnel on finished runs
(``bench_confirmation.py``, ``bench_matching_horizon.py``; they run as
``python benchmarks/<name>.py``): a project's run read back through its Kedro configuration, and
the pair-level precision / recall row of a replayed tradable set."""

from __future__ import annotations

import polars as pl

from statarb.alpha import recovery as rc
from statarb.alpha.config import AlphaConfig
from statarb.storage.database import get_engine
from statarb.storage.resolver import load_project
from statarb.storage.sql_io import read_table


def load_run(project: str) -> tuple[AlphaConfig, set[str], pl.DataFrame]:
    """``(alpha config, constructed pair ids, selection_log)`` of ``project``."""
    proj = load_project(project)
    cfg = AlphaConfig.from_params(proj.params["alpha"], "alpha")
    truth, _ = rc.load_ground_truth(
        proj.entry_path("ground_truth_pairs"), proj.entry_path("ground_truth_beta_paths")
    )
    true = set(truth.filter(pl.col("cointegrated"))["pair_id"])
    log = read_table(get_engine(proj.db_url(), read_only=True), "selection_log")
    return cfg, true, log


def tradable_row(project: str, label: dict, sel: set[str], true: set[str], rows: int) -> dict:
    """One output row: ``label`` then the precision and recall of the tradable set ``sel``."""
    return {
        "project": project, **label, "precision": round(len(sel & true) / max(len(sel), 1), 3),
        "recall": f"{len(sel & true)}/{len(true)}", "tradable_rows": rows,
        "false_pairs": ", ".join(sorted(sel - true)), "missed": ", ".join(sorted(true - sel)),
    }  # fmt: skip


def print_rows(rows: list[dict]) -> None:
    """The rows as one table."""
    with pl.Config(
        tbl_rows=-1, tbl_width_chars=250, fmt_str_lengths=60, tbl_hide_dataframe_shape=True
    ):
        print(pl.DataFrame(rows))
