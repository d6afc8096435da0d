"""The ``ingestion`` pipeline: raw files -> symbols, corporate_actions, bars, ticks (spec §6.1).

``symbols`` is written first (its node feeds ``known_symbols`` to the others), so the foreign keys
of ``corporate_actions`` hold and bar/tick rows are checked against the symbol list.
"""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    build_ingestion_report,
    ingest_bars,
    ingest_corporate_actions,
    ingest_symbols,
    ingest_ticks,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                ingest_symbols, "raw_symbols", ["symbols", "known_symbols"], name="ingest_symbols"
            ),
            Node(
                ingest_corporate_actions,
                ["raw_corporate_actions", "known_symbols"],
                ["corporate_actions", "quarantine_corporate_actions", "corporate_actions_report"],
                name="ingest_corporate_actions",
            ),
            Node(
                ingest_bars,
                ["raw_bars", "known_symbols", "params:ingestion"],
                ["bars", "quarantine_bars", "bars_report"],
                name="ingest_bars",
            ),
            Node(
                ingest_ticks,
                ["raw_ticks", "known_symbols", "params:ingestion"],
                ["ticks", "quarantine_ticks", "ticks_report"],
                name="ingest_ticks",
            ),
            Node(
                build_ingestion_report,
                ["params:ingestion", "corporate_actions_report", "bars_report", "ticks_report"],
                "ingestion_report",
                name="build_ingestion_report",
            ),
        ]
    )
