"""Ingestion of vendor raw files: parsing, local-time -> UTC, validation and quarantine.

Pure Polars functions; the Kedro wiring lives in ``statarb.pipelines.ingestion``.
"""

from .config import FileSpec
from .errors import IngestionError
from .parse import parse_file, parse_partitions
from .reference import parse_corporate_actions, parse_symbols
from .validate import ValidationResult, validate

__all__ = [
    "FileSpec",
    "IngestionError",
    "ValidationResult",
    "parse_corporate_actions",
    "parse_file",
    "parse_partitions",
    "parse_symbols",
    "validate",
]
