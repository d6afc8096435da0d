"""Configuration of the synthetic market (``conf/base/parameters_synthetic.yml``, key ``synthetic``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_DATE_FIELDS = ("start", "end")


@dataclass(frozen=True)
class SyntheticConfig:
    """Every knob of the generator. Defaults give the project's default data set.

    Ranges are ``(low, high)`` pairs sampled uniformly (log-uniformly for half-lives and prices).
    ``n_days`` truncates the calendar to its first ``n_days`` trading days (small test configs).
    """

    seed: int = 7
    start: dt.date = dt.date(2026, 2, 2)
    end: dt.date = dt.date(2026, 5, 29)
    holidays: tuple[dt.date, ...] = (
        dt.date(2026, 2, 16),
        dt.date(2026, 4, 3),
        dt.date(2026, 5, 25),
    )
    n_days: int | None = None
    timezone: str = "America/New_York"
    session_open: str = "09:30"
    bars_per_day: int = 390
    file_prefix: str = "SYNTH"
    bar_format: str = "csv"  # csv | parquet
    # universe
    n_symbols: int = 30
    sectors: tuple[str, ...] = ("Technology", "Financials", "Energy", "Healthcare")
    start_price: tuple[float, float] = (35.0, 300.0)
    daily_vol: tuple[float, float] = (0.01, 0.02)
    variance_shares: tuple[float, float, float] = (0.3, 0.3, 0.4)  # market, sector, idiosyncratic
    # cointegrated pairs
    pairs_constant: int = 4
    pairs_drift: int = 2
    pairs_break: int = 1
    pairs_reference_symbols: int = 30  # the counts above are for this many names (scaled up)
    half_life_bars: tuple[float, float] = (30.0, 240.0)
    beta_range: tuple[float, float] = (0.6, 1.6)
    spread_sd_frac: tuple[float, float] = (0.002, 0.005)  # stationary sd of s_t / price_A
    beta_drift: float = 0.01  # total relative beta change of the drifting pairs
    # corporate actions
    n_splits: int = 2
    split_ratios: tuple[float, ...] = (2.0, 3.0)
    n_dividends: int = 4
    dividend_yield: tuple[float, float] = (0.004, 0.012)
    # anomalies
    n_missing: int = 300
    n_duplicates: int = 4
    n_spikes: int = 20
    spike_sigma: tuple[float, float] = (8.0, 15.0)
    n_bad_each: int = 2  # per bad-row rule
    unknown_ticker: str = "QQZX"
    n_lowercase: int = 3
    # ticks
    tick_days: int = 5
    tick_symbols: int = 6
    tick_rate_per_sec: float = 2.0
    venues: tuple[str, ...] = ("XNYS", "XNAS", "ARCX", "BATS", "IEXG")

    def with_overrides(self, **kw: Any) -> SyntheticConfig:
        """Copy with the given fields replaced (``None`` values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in kw.items() if v is not None})

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-ready dict (dates as ISO strings, tuples as lists) of the settings that shape the
        files. Keys added after generator version 1 are left out while they have no effect
        (:data:`V1_NEUTRAL`), so a version-1 data set keeps its fingerprint and manifest."""
        doc = json.loads(json.dumps(dataclasses.asdict(self), default=str))
        for key, neutral in V1_NEUTRAL.items():
            if neutral(self):
                doc.pop(key)
        return doc

    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON form: equal configs give equal files."""
        blob = json.dumps(self.to_json_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()


#: settings added after generator version 1 -> "has no effect on the files" (key left out of the
#: fingerprint): CSV bars; pair counts not scaled (the universe is not above the reference size)
V1_NEUTRAL: dict[str, Callable[[SyntheticConfig], bool]] = {
    "bar_format": lambda c: c.bar_format == "csv",
    "pairs_reference_symbols": lambda c: c.n_symbols <= c.pairs_reference_symbols,
}


def _coerce(name: str, value: Any, default: Any) -> Any:
    if name in _DATE_FIELDS:
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    if name == "holidays":
        return tuple(v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)) for v in value)
    if isinstance(default, tuple):
        return tuple(value)
    return value


def config_from_dict(raw: dict[str, Any]) -> SyntheticConfig:
    """Build a config from a plain dict; unknown keys raise ``ValueError`` naming the key."""
    defaults = SyntheticConfig()
    names = {f.name for f in dataclasses.fields(SyntheticConfig)}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise ValueError(
            f"parameters_synthetic: unknown key(s) {unknown}; allowed: {sorted(names)}"
        )
    kw = {k: _coerce(k, v, getattr(defaults, k)) for k, v in raw.items()}
    return SyntheticConfig(**kw)


def load_config(path: str | Path | None) -> SyntheticConfig:
    """Read the ``synthetic`` section of a Kedro parameters YAML file (defaults if ``path`` is None)."""
    if path is None:
        return SyntheticConfig()
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"synthetic config {p} does not exist")
    doc = yaml.safe_load(p.read_text()) or {}
    section = doc.get("synthetic", doc)
    if not isinstance(section, dict):
        raise ValueError(f"{p}: key 'synthetic' must be a mapping")
    return config_from_dict(section)
