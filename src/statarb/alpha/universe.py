"""Pair universe (``pair_universe`` rows, spec §4.1) from the alpha parameters.

Modes (``parameters_alpha.yml`` -> ``alpha.universe.mode``):

- ``explicit``: ``pairs`` is a list of ``"A_B"`` strings or ``[A, B]`` lists;
- ``groups``: every combination inside each list of ``groups: {name: [symbols]}``;
- ``sector``: every combination inside each sector of the raw ``symbols.csv`` ``sector`` column
  (optionally only the sectors listed in ``sectors``);
- ``all``: every combination of the ``symbols`` table.

Symbols are upper-cased and stripped; each pair is ordered so that ``symbol_a < symbol_b``
(code-point order) and ``pair_id = f"{symbol_a}_{symbol_b}"``. In ``explicit`` and ``groups``
mode a symbol missing from ``symbols`` is an error naming the parameter entry; in ``sector`` mode
tickers of ``symbols.csv`` that ingestion did not load are skipped (logged).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from itertools import combinations
from typing import Any

import polars as pl

from statarb.conventions import UTC_US, pair_id

log = logging.getLogger(__name__)

PAIR_UNIVERSE_COLUMNS = ("pair_id", "symbol_a", "symbol_b", "created_at", "notes")
MODES = ("explicit", "groups", "sector", "all")


class UniverseError(ValueError):
    """A pair-universe parameter is invalid (names the parameter entry and the rule)."""


def _norm(sym: Any, where: str) -> str:
    if not isinstance(sym, str) or not sym.strip():
        raise UniverseError(
            f"alpha.universe.{where}: symbol must be a non-empty string, got {sym!r}"
        )
    s = sym.strip().upper()
    if any(ch.isspace() for ch in s) or "_" in s:
        raise UniverseError(f"alpha.universe.{where}: symbol {sym!r} contains a space or '_'")
    return s


def _parse_pair(entry: Any, where: str) -> tuple[str, str]:
    if isinstance(entry, str):
        parts = entry.split("_")
        if len(parts) != 2:
            raise UniverseError(f"alpha.universe.{where}: pair {entry!r} is not of the form A_B")
    elif isinstance(entry, list | tuple) and len(entry) == 2:
        parts = list(entry)
    else:
        raise UniverseError(f"alpha.universe.{where}: pair must be 'A_B' or [A, B], got {entry!r}")
    a, b = (_norm(p, where) for p in parts)
    if a == b:
        raise UniverseError(f"alpha.universe.{where}: pair {entry!r} has the same symbol twice")
    return (a, b) if a < b else (b, a)


def _combos(members: Iterable[str]) -> list[tuple[str, str]]:
    return list(combinations(sorted(set(members)), 2))


def build_pair_universe(
    symbols: pl.DataFrame,
    params: Mapping[str, Any],
    sectors: pl.DataFrame | None = None,
    created_at: datetime | None = None,
) -> pl.DataFrame:
    """Build ``pair_universe`` rows (``pair_id, symbol_a, symbol_b, created_at, notes``).

    ``symbols`` is the ``symbols`` table (``symbol_id``); ``sectors`` the raw ``symbols.csv``
    (``ticker``, ``sector``), needed only in ``sector`` mode. ``notes`` records the origin
    (``explicit``, ``group=<name>``, ``sector=<name>``, ``all``). Rows are sorted by ``pair_id``.
    """
    mode = params.get("mode", "explicit")
    if mode not in MODES:
        raise UniverseError(f"alpha.universe.mode must be one of {MODES}, got {mode!r}")
    known = set(symbols["symbol_id"].to_list())
    origin: dict[tuple[str, str], list[str]] = {}

    def add(pair: tuple[str, str], note: str, where: str) -> None:
        for s in pair:
            if s not in known:
                raise UniverseError(
                    f"alpha.universe.{where}: symbol {s!r} of pair {pair[0]}_{pair[1]} is not in "
                    f"the symbols table ({len(known)} symbols loaded by ingestion)"
                )
        origin.setdefault(pair, [])
        if note not in origin[pair]:
            origin[pair].append(note)

    if mode == "explicit":
        entries = params.get("pairs") or []
        if not entries:
            raise UniverseError("alpha.universe.pairs is empty in explicit mode")
        for i, entry in enumerate(entries):
            add(_parse_pair(entry, f"pairs[{i}]"), "explicit", f"pairs[{i}]")
    elif mode == "groups":
        groups = params.get("groups") or {}
        if not groups:
            raise UniverseError("alpha.universe.groups is empty in groups mode")
        for name, members in groups.items():
            norm = [_norm(m, f"groups.{name}[{j}]") for j, m in enumerate(members)]
            for pair in _combos(norm):
                add(pair, f"group={name}", f"groups.{name}")
    elif mode == "sector":
        if sectors is None or not {"ticker", "sector"} <= set(sectors.columns):
            raise UniverseError(
                "alpha.universe.mode 'sector' needs the raw symbols.csv with 'ticker' and 'sector' "
                "columns (catalog entry alpha_symbols_sectors)"
            )
        sec = sectors.select(
            pl.col("ticker").cast(pl.String).str.strip_chars().str.to_uppercase(),
            pl.col("sector").cast(pl.String).str.strip_chars(),
        ).drop_nulls()
        wanted = params.get("sectors")
        if wanted:
            missing = set(wanted) - set(sec["sector"].to_list())
            if missing:
                raise UniverseError(f"alpha.universe.sectors: {sorted(missing)} not in symbols.csv")
            sec = sec.filter(pl.col("sector").is_in(list(wanted)))
        skipped = sorted(set(sec["ticker"].to_list()) - known)
        if skipped:
            log.warning("pair universe: tickers not in the symbols table skipped: %s", skipped)
        sec = sec.filter(pl.col("ticker").is_in(list(known)))
        for name in sorted(set(sec["sector"].to_list())):
            for pair in _combos(sec.filter(pl.col("sector") == name)["ticker"].to_list()):
                add(pair, f"sector={name}", f"sector {name}")
    else:  # all
        for pair in _combos(known):
            add(pair, "all", "all")

    if not origin:
        hint = (
            ": the symbols table is empty, run the ingestion pipeline first "
            "(kedro run --pipelines ingestion)"
            if not known
            else ""
        )
        raise UniverseError(f"alpha.universe (mode {mode!r}) produced no pairs{hint}")
    ts = (created_at or datetime.now(UTC)).replace(microsecond=0)
    pairs = sorted(origin)
    return pl.DataFrame(
        {
            "pair_id": [pair_id(a, b) for a, b in pairs],
            "symbol_a": [a for a, _ in pairs],
            "symbol_b": [b for _, b in pairs],
            "created_at": pl.Series([ts] * len(pairs), dtype=UTC_US),
            "notes": [";".join(origin[p]) for p in pairs],
        }
    ).sort("pair_id")
