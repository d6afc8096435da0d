"""The ``ingestion`` pipeline: raw files -> symbols, corporate_actions, bars, ticks (spec §6.1).

The ``ingest_*`` nodes only read, validate and stage (bar/tick files in groups, their rows staged
to disk under ``ingestion_staging``; nothing is written to the store). ``publish_ingestion`` runs
after all of them; its outputs belong to the write batch ``ingestion`` (opened by loading ``ingestion_batch``,
published by confirming it), so a run stores every output or none: the store, the database and
the quarantine files are unchanged by a run that fails (docs/ingestion.md, "All or nothing").
"""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    build_ingestion_report,
    ingest_bars,
    ingest_corporate_actions,
    ingest_symbols,
    ingest_ticks,
    publish_ingestion,
)

#: the datasets publish_ingestion saves (in this order; all in the write batch ``ingestion``)
PUBLISHED = (
    "symbols",
    "corporate_actions",
    "bars",
    "ticks",
    "quarantine_corporate_actions",
    "quarantine_bars",
    "quarantine_ticks",
    "ingestion_report",
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                ingest_symbols,
                ["raw_symbols", "params:ingestion"],
                ["symbols_rows", "known_symbols"],
                name="ingest_symbols",
            ),
            Node(
                ingest_bars,
                ["raw_bars", "known_symbols", "ingestion_staging", "params:ingestion"],
                ["bars_staged", "bars_report"],
                name="ingest_bars",
            ),
            Node(
                ingest_ticks,
                ["raw_ticks", "known_symbols", "ingestion_staging", "params:ingestion"],
                ["ticks_staged", "ticks_report"],
                name="ingest_ticks",
            ),
            Node(
                ingest_corporate_actions,
                ["raw_corporate_actions", "known_symbols", "bars_staged", "params:ingestion"],
                [
                    "corporate_actions_rows",
                    "quarantine_corporate_actions_rows",
                    "corporate_actions_report",
                ],
                name="ingest_corporate_actions",
            ),
            Node(
                build_ingestion_report,
                ["params:ingestion", "corporate_actions_report", "bars_report", "ticks_report"],
                "ingestion_report_rows",
                name="build_ingestion_report",
            ),
            Node(
                publish_ingestion,
                [
                    "ingestion_batch",
                    "ingestion_staging",
                    "params:ingestion",
                    "symbols_rows",
                    "corporate_actions_rows",
                    "bars_staged",
                    "ticks_staged",
                    "quarantine_corporate_actions_rows",
                    "ingestion_report_rows",
                ],
                list(PUBLISHED),
                name="publish_ingestion",
                confirms="ingestion_batch",
            ),
        ]
    )
