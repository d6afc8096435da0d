"""Ingestion nodes: raw vendor files -> symbols, corporate_actions, bars, ticks + quarantine/report.

Two phases (docs/ingestion.md, "All or nothing"): the ``ingest_*`` nodes parse and validate every
input of the run in memory -- any :class:`statarb.ingest.IngestionError` (file, row, rule) stops
the run before anything is written -- and :func:`publish_ingestion` hands every result to the
datasets of the write batch ``ingestion``, which publishes them together or not at all. Rows that
violate a rule go to the quarantine Parquet files with ``rule``, ``source_file``, ``source_row``.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import logging
from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from statarb.ingest import (
    FileSpec,
    RowChecks,
    parse_corporate_actions,
    parse_partitions,
    parse_symbols,
    validate,
)
from statarb.ingest.calendar import utc_to_local
from statarb.ingest.config import IngestionConfig, ingestion_config

log = logging.getLogger(__name__)

BAR_STORE_COLUMNS = ["symbol", "datetime", "open", "high", "low", "close", "volume"]
TICK_STORE_COLUMNS = ["symbol", "datetime", "price", "size", "side", "exchange"]


def _select(partitions: Mapping[str, Any], spec: FileSpec) -> dict[str, Any]:
    chosen = {
        k: v
        for k, v in partitions.items()
        if fnmatch.fnmatch(k.rsplit("/", 1)[-1], spec.file_pattern)
    }
    skipped = sorted(set(partitions) - set(chosen))
    if skipped:
        log.warning(
            "%s: ignoring %d file(s) not matching %r: %s",
            spec.kind,
            len(skipped),
            spec.file_pattern,
            skipped[:5],
        )
    return chosen


def _summary(
    kind: str, files: list[str], n_rows: int, n_valid: int, counts: dict[str, int]
) -> dict:
    log.info(
        "%s: %d file(s), %d row(s) read, %d valid, %d quarantined %s",
        kind,
        len(files),
        n_rows,
        n_valid,
        n_rows - n_valid,
        counts or "",
    )
    return {
        "files": len(files),
        "rows_read": n_rows,
        "rows_valid": n_valid,
        "rows_quarantined": n_rows - n_valid,
        "quarantined_by_rule": counts,
    }


def ingest_symbols(raw_symbols: bytes, params: Mapping[str, Any]) -> tuple[pl.DataFrame, list[str]]:
    """``symbols.csv`` -> ``symbols`` rows and the known symbol list for validation."""
    df = parse_symbols(raw_symbols, ingestion_config(params).validation)
    log.info("symbols: %d symbol(s)", df.height)
    return df, df["symbol_id"].to_list()


def _last_session_date(bars: pl.DataFrame, cfg: IngestionConfig) -> dt.date | None:
    """Exchange-local date of the latest valid bar of the run (None without bars)."""
    last = bars.select(pl.col("datetime").max()).to_series()
    if last.null_count() == len(last):
        return None
    return utc_to_local(last, cfg.calendar.timezone).dt.date()[0]


def ingest_corporate_actions(
    raw_corporate_actions: bytes,
    known_symbols: list[str],
    bars: pl.DataFrame,
    params: Mapping[str, Any],
) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """``corporate_actions.csv`` -> rows, quarantine, report section. An action dated beyond
    the run's last bar (plus ``max_ex_date_days_after_last_bar``) is held in quarantine."""
    cfg = ingestion_config(params)
    last = _last_session_date(bars, cfg)
    res = parse_corporate_actions(raw_corporate_actions, known_symbols, cfg.validation, last)
    n = res.valid.height + res.quarantine.height
    report = _summary(
        "corporate_actions", ["corporate_actions.csv"], n, res.valid.height, res.counts()
    )
    report["last_bar_date"] = None if last is None else last.isoformat()
    return res.valid, res.quarantine, report


def _ingest_series(
    partitions: Mapping[str, Callable[[], bytes]],
    known_symbols: list[str],
    params: Mapping[str, Any],
    kind: str,
    store_columns: list[str],
) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    cfg = ingestion_config(params)
    spec = cfg.active.bars if kind == "bars" else cfg.active.ticks
    parts = _select(partitions, spec)
    parsed = parse_partitions(parts, spec)
    res = validate(parsed, kind, known_symbols, RowChecks.for_source(cfg, spec))
    store = res.valid.select(store_columns)
    if kind == "bars":
        store = store.with_columns(pl.lit(1.0).alias("adj_factor"))
    store = store.with_columns(pl.lit(cfg.source, pl.String).alias("source"))  # the store sorts
    report = _summary(kind, sorted(parts), parsed.height, res.valid.height, res.counts())
    per_file = (
        res.quarantine.group_by("source_file", "rule").len().sort("source_file", "rule").rows()
    )
    report["quarantined_by_file"] = {}
    for f, rule, n in per_file:
        report["quarantined_by_file"].setdefault(f, {})[rule] = int(n)
    return store, res.quarantine, report


def ingest_bars(
    raw_bars: Mapping[str, Callable[[], bytes]], known_symbols: list[str], params: Mapping[str, Any]
) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """Raw bar files -> valid ``bars`` (adj_factor 1.0, ``source`` column), quarantine, report."""
    return _ingest_series(raw_bars, known_symbols, params, "bars", BAR_STORE_COLUMNS)


def ingest_ticks(
    raw_ticks: Mapping[str, Callable[[], bytes]],
    known_symbols: list[str],
    params: Mapping[str, Any],
) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """Raw tick files -> valid ``ticks`` (``source`` column), quarantine, report."""
    return _ingest_series(raw_ticks, known_symbols, params, "ticks", TICK_STORE_COLUMNS)


def build_ingestion_report(
    params: Mapping[str, Any], corporate_actions: dict, bars: dict, ticks: dict
) -> dict:
    """The JSON report: per-kind counts, counts per rule and per file."""
    total: dict[str, int] = {}
    for section in (corporate_actions, bars, ticks):
        for rule, n in section["quarantined_by_rule"].items():
            total[rule] = total.get(rule, 0) + n
    log.info("ingestion: quarantined rows per rule %s", total or "{}")
    return {
        "source": params["source"],
        "quarantined_by_rule": total,
        "corporate_actions": corporate_actions,
        "bars": bars,
        "ticks": ticks,
    }


def publish_ingestion(batch: str, *outputs: Any) -> tuple[Any, ...]:
    """Pass every validated result on to its dataset; ``batch`` is the open write batch's name.

    The outputs are datasets with ``save_args``/``write_batch: ingestion``: Kedro's saves stage them and
    its ``confirm`` of ``ingestion_batch`` publishes them all at once (see the module docstring).
    """
    log.info("ingestion: publishing %d output(s) through write batch %r", len(outputs), batch)
    return outputs
