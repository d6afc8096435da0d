"""Ingestion nodes: raw vendor files -> symbols, corporate_actions, bars, ticks + quarantine/report.

Two phases (docs/ingestion.md, "All or nothing", "Streaming"): the ``ingest_*`` nodes parse and
validate every input of the run -- bar and tick files ``streaming.files_per_group`` at a time,
each group's valid and quarantined rows staged to disk (:mod:`statarb.ingest.staging`), only
per-symbol state carried between groups -- and any :class:`statarb.ingest.IngestionError` (file,
row, rule) stops the run before anything is written to the store; :func:`publish_ingestion`
hands every result to the datasets of the write batch ``ingestion``, which publishes them
together or not at all. Rows that violate a rule go to the quarantine Parquet files with
``rule``, ``source_file``, ``source_row``.
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
from statarb.ingest.parse import output_schema
from statarb.ingest.staging import StagedSeries, StagingArea, cleanup_all
from statarb.ingest.validate import Carry
from statarb.storage import write_batch
from statarb.storage.frame_chunks import PartitionChunks  # noqa: F401  (docstrings)

log = logging.getLogger(__name__)

BAR_STORE_COLUMNS = ["symbol", "datetime", "open", "high", "low", "close", "volume"]
TICK_STORE_COLUMNS = ["symbol", "datetime", "price", "size", "side", "exchange"]


def _select(partitions: Mapping[str, Any], spec: FileSpec) -> dict[str, Any]:
    """The files matching ``file_pattern``; with ``format: auto`` a file delivered both as CSV
    and as Parquet (same name but the extension) is read from the Parquet file."""
    patterns = spec.file_patterns
    chosen = {
        k: v
        for k, v in partitions.items()
        if any(fnmatch.fnmatch(k.rsplit("/", 1)[-1], p) for p in patterns)
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
    if spec.format == "auto":
        stems = {k.rsplit(".", 1)[0] for k in chosen if spec.file_format(k) == "parquet"}
        twice = sorted(
            k for k in chosen if spec.file_format(k) == "csv" and k.rsplit(".", 1)[0] in stems
        )
        if twice:
            log.warning(
                "%s: %d day(s) delivered as CSV and Parquet, reading the Parquet file: %s",
                spec.kind,
                len(twice),
                twice[:5],
            )
        chosen = {k: v for k, v in chosen.items() if k not in twice}
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


def _last_session_date(last: dt.datetime | None, cfg: IngestionConfig) -> dt.date | None:
    """Exchange-local date of the latest valid bar of the run (None without bars)."""
    if last is None:
        return None
    utc = pl.Series("datetime", [last], dtype=pl.Datetime("us", "UTC"))
    return utc_to_local(utc, cfg.calendar.timezone).dt.date()[0]


def ingest_corporate_actions(
    raw_corporate_actions: bytes,
    known_symbols: list[str],
    bars: StagedSeries,
    params: Mapping[str, Any],
) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """``corporate_actions.csv`` -> rows, quarantine, report section. An action dated beyond
    the run's last bar (plus ``max_ex_date_days_after_last_bar``) is held in quarantine."""
    cfg = ingestion_config(params)
    last = _last_session_date(bars.last_datetime, cfg)
    try:
        res = parse_corporate_actions(raw_corporate_actions, known_symbols, cfg.validation, last)
    except BaseException:
        cleanup_all()  # nothing of a failed run stays staged
        raise
    n = res.valid.height + res.quarantine.height
    report = _summary(
        "corporate_actions", ["corporate_actions.csv"], n, res.valid.height, res.counts()
    )
    report["last_bar_date"] = None if last is None else last.isoformat()
    return res.valid, res.quarantine, report


def _groups(names: list[str], size: int) -> list[list[str]]:
    return [names[i : i + size] for i in range(0, len(names), size)]


def _ingest_series(
    partitions: Mapping[str, Callable[[], bytes]],
    known_symbols: list[str],
    staging: StagingArea,
    params: Mapping[str, Any],
    kind: str,
    store_columns: list[str],
) -> tuple[StagedSeries, dict]:
    """Parse and validate the files ``files_per_group`` at a time, in delivery order, carrying
    the per-symbol ordering state between groups, and stage each group's rows to disk."""
    cfg = ingestion_config(params)
    spec = cfg.active.bars if kind == "bars" else cfg.active.ticks
    parts = _select(partitions, spec)
    checks = RowChecks.for_source(cfg, spec)
    names = sorted(parts)
    carry = Carry()
    n_rows = n_valid = 0
    counts: dict[str, int] = {}
    by_file: dict[str, dict[str, int]] = {}
    try:
        stager = staging.series(kind)
        for group in _groups(names, cfg.streaming.files_per_group):
            parsed = parse_partitions({n: parts[n] for n in group}, spec)
            res = validate(parsed, kind, known_symbols, checks, carry, stager.prior_rows)
            stager.stage(res.valid.select(store_columns), res.quarantine)
            n_rows += parsed.height
            n_valid += res.valid.height
            for rule, n in res.counts().items():
                counts[rule] = counts.get(rule, 0) + n
            per_file = res.quarantine.group_by("source_file", "rule").len().rows()
            for f, rule, n in per_file:
                by_file.setdefault(f, {})[rule] = int(n)
            del parsed, res
    except BaseException:
        cleanup_all()  # nothing of a failed run stays staged
        raise
    report = _summary(kind, names, n_rows, n_valid, dict(sorted(counts.items())))
    report["quarantined_by_file"] = {f: dict(sorted(r.items())) for f, r in sorted(by_file.items())}
    schema = {"rule": pl.String(), **output_schema(kind)}
    return stager.finish(schema, carry.last_valid), report


def ingest_bars(
    raw_bars: Mapping[str, Callable[[], bytes]],
    known_symbols: list[str],
    ingestion_staging: StagingArea,
    params: Mapping[str, Any],
) -> tuple[StagedSeries, dict]:
    """Raw bar files -> valid ``bars`` rows and quarantine staged on disk, report."""
    return _ingest_series(
        raw_bars, known_symbols, ingestion_staging, params, "bars", BAR_STORE_COLUMNS
    )


def ingest_ticks(
    raw_ticks: Mapping[str, Callable[[], bytes]],
    known_symbols: list[str],
    ingestion_staging: StagingArea,
    params: Mapping[str, Any],
) -> tuple[StagedSeries, dict]:
    """Raw tick files -> valid ``ticks`` rows and quarantine staged on disk, report."""
    return _ingest_series(
        raw_ticks, known_symbols, ingestion_staging, params, "ticks", TICK_STORE_COLUMNS
    )


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


def publish_ingestion(
    batch: str,
    staging: StagingArea,
    params: Mapping[str, Any],
    symbols: pl.DataFrame,
    corporate_actions: pl.DataFrame,
    bars: StagedSeries,
    ticks: StagedSeries,
    quarantine_corporate_actions: pl.DataFrame,
    report: dict,
) -> tuple[Any, ...]:
    """Hand every validated result to its dataset; ``batch`` is the open write batch's name.

    The outputs are datasets with ``save_args``/``write_batch: ingestion``: Kedro's saves stage them
    and its ``confirm`` of ``ingestion_batch`` publishes them all at once (module docstring). The
    staged bars/ticks go out one UTC day at a time (:class:`PartitionChunks`), their quarantine as
    a lazy scan; the staging folder is removed when the batch is published or aborted.
    """
    open_batch = write_batch.current(batch)
    if open_batch is not None:
        open_batch.on_close(staging.cleanup)
    source = pl.lit(ingestion_config(params).source, pl.String).alias("source")
    outputs = (
        symbols,
        corporate_actions,
        bars.store_chunks((pl.lit(1.0).alias("adj_factor"), source)),
        ticks.store_chunks((source,)),
        quarantine_corporate_actions,
        bars.quarantine(),
        ticks.quarantine(),
        report,
    )
    log.info("ingestion: publishing %d output(s) through write batch %r", len(outputs), batch)
    return outputs
