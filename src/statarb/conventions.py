"""Project-wide conventions in one place (docs/dev-contract.md "Conventions"; spec §9).

* **Time**: frames use :data:`UTC_US` (``Datetime("us", "UTC")``); :func:`to_utc` makes any
  datetime or ISO string a UTC-aware ``datetime`` (naive = UTC).
* **Identifiers**: ``pair_id = f"{A}_{B}"`` with ``A < B`` by code point (spec §9.1);
  :func:`pair_id`, :func:`ordered_pair`, :func:`split_pair_id` and the Polars twin
  :func:`pair_id_expr`.
* **Enums**: signal directions and fill sides as stored (spec §4.3).
* **Latest run**: the newest ``backtest_runs`` row by ``created_at``, ties by ``run_id``
  (:data:`LATEST_RUN_ORDER`; :data:`LATEST_RUN_SQL` in SQL, :func:`sort_runs` on a frame).
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

UTC_US = pl.Datetime("us", "UTC")

DIRECTIONS: tuple[str, ...] = ("long_spread", "short_spread", "flat")
DIRECTION_CODES: dict[int, str] = {1: "long_spread", -1: "short_spread", 0: "flat"}
SIDES: tuple[str, ...] = ("buy", "sell")
SIDE_CODES: dict[int, str] = {1: "buy", -1: "sell"}

#: The newest run is the last in this order (``created_at``, ties by ``run_id``).
LATEST_RUN_ORDER: tuple[str, ...] = ("created_at", "run_id")
LATEST_RUN_SQL = (
    "SELECT run_id FROM backtest_runs ORDER BY "
    + ", ".join(f"{c} DESC" for c in LATEST_RUN_ORDER)
    + " LIMIT 1"
)


def to_utc(value: datetime | str) -> datetime:
    """A UTC-aware datetime from a datetime or ISO-8601 string (no offset = UTC)."""
    t = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC)


def ordered_pair(a: str, b: str) -> tuple[str, str]:
    """``(a, b)`` in code-point order (the ``symbol_a < symbol_b`` rule)."""
    if a == b:
        raise ValueError(f"a pair needs two different symbols, got {a!r} twice")
    return (a, b) if a < b else (b, a)


def pair_id(a: str, b: str) -> str:
    """The canonical ``pair_id`` of symbols ``a`` and ``b`` (any order)."""
    lo, hi = ordered_pair(a, b)
    return f"{lo}_{hi}"


def split_pair_id(pid: str) -> tuple[str, str]:
    """``(symbol_a, symbol_b)`` of a canonical pair id (symbols never contain ``_``)."""
    parts = pid.split("_")
    if len(parts) != 2 or not parts[0] or not parts[1] or not parts[0] < parts[1]:
        raise ValueError(f"{pid!r} is not a pair id of the form A_B with A < B")
    return parts[0], parts[1]


def pair_id_expr(a: str = "symbol_a", b: str = "symbol_b") -> pl.Expr:
    """Polars expression building ``pair_id`` from two (ordered) symbol columns."""
    return pl.concat_str([pl.col(a), pl.col(b)], separator="_")


def sort_runs(runs: pl.DataFrame) -> pl.DataFrame:
    """``backtest_runs`` rows oldest first, the latest run last (:data:`LATEST_RUN_ORDER`)."""
    return runs.sort(*LATEST_RUN_ORDER, nulls_last=True)
