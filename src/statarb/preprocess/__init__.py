"""Preprocessing of stored bars/ticks: adjustment, outliers, tick bars, fills, panels."""

from .adjust import adjust_bars, factor_table
from .aggregate import ticks_to_bars
from .fill import fill_missing_bars
from .outliers import flag_outliers, hampel_flags
from .panel import aligned_pair_panel, wide_panel

__all__ = [
    "adjust_bars",
    "aligned_pair_panel",
    "factor_table",
    "fill_missing_bars",
    "flag_outliers",
    "hampel_flags",
    "ticks_to_bars",
    "wide_panel",
]
