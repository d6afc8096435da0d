"""Ingestion of vendor raw files: parsing, local-time -> UTC, validation and quarantine.

Pure Polars functions; the Kedro wiring lives in ``statarb.pipelines.ingestion``.
"""

from .config import BarFileSpec, FileSpec, IngestionConfig, TickFileSpec, ingestion_config
from .errors import IngestionError
from .parse import parse_file, parse_partitions
from .reference import parse_corporate_actions, parse_symbols
from .rules import RULES, RowChecks
from .validate import ValidationResult, validate

__all__ = [
    "RULES",
    "BarFileSpec",
    "FileSpec",
    "IngestionConfig",
    "IngestionError",
    "RowChecks",
    "TickFileSpec",
    "ValidationResult",
    "ingestion_config",
    "parse_corporate_actions",
    "parse_file",
    "parse_partitions",
    "parse_symbols",
    "validate",
]
