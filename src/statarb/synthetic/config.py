"""Configuration of the synthetic market (``conf/base/parameters_synthetic.yml``, key ``synthetic``).

A strict section model (:class:`~statarb.config.strict.StrictModel`, registered in
``statarb.config.registry.SECTIONS``): every key is required, the YAML holds the only defaults, an
unknown key fails with its path and the closest valid name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field

from statarb.config.strict import StrictModel

FloatRange = tuple[float, float]


class SyntheticConfig(StrictModel):
    """Every knob of the generator (meanings in ``conf/base/parameters_synthetic.yml`` and
    ``docs/synthetic-data.md``). Ranges are ``(low, high)`` pairs sampled uniformly
    (log-uniformly for half-lives and prices). ``n_days`` = that many sessions from ``start``
    (past ``end`` if needed); ``None`` = every session of ``[start, end]``.
    """

    seed: int = Field(ge=0)
    start: dt.date
    end: dt.date
    holidays: tuple[dt.date, ...]
    n_days: int | None = Field(ge=2)
    timezone: str
    session_open: str = Field(pattern=r"^\d{2}:\d{2}$")
    bars_per_day: int = Field(ge=4)
    file_prefix: str = Field(min_length=1)
    bar_format: Literal["csv", "parquet"]
    # universe
    n_symbols: int = Field(ge=2)
    sectors: tuple[str, ...] = Field(min_length=1)
    start_price: FloatRange
    daily_vol: FloatRange
    variance_shares: tuple[float, float, float]  # market, sector, idiosyncratic
    # cointegrated pairs
    pairs_constant: int = Field(ge=0)
    pairs_drift: int = Field(ge=0)
    pairs_break: int = Field(ge=0)
    pairs_reference_symbols: int = Field(ge=2)  # the counts above are for this many names
    half_life_bars: FloatRange
    beta_range: FloatRange
    spread_sd_frac: FloatRange  # stationary sd of s_t / price_A
    beta_drift: float  # total relative beta change of the drifting pairs
    # corporate actions
    n_splits: int = Field(ge=0)
    split_ratios: tuple[float, ...] = Field(min_length=1)
    n_dividends: int = Field(ge=0)
    dividend_yield: FloatRange
    # anomalies
    n_missing: int = Field(ge=0)
    n_duplicates: int = Field(ge=0)
    n_spikes: int = Field(ge=0)
    spike_sigma: FloatRange
    n_bad_each: int = Field(ge=0)  # per bad-row rule
    unknown_ticker: str = Field(min_length=1)
    n_lowercase: int = Field(ge=0)
    # ticks
    tick_days: int = Field(ge=0)
    tick_symbols: int = Field(ge=0)
    tick_rate_per_sec: float = Field(gt=0)
    venues: tuple[str, ...] = Field(min_length=1)

    def with_overrides(self, **kw: Any) -> SyntheticConfig:
        """Copy with the given fields replaced (``None`` values are ignored), validated again."""
        raw = self.model_dump()
        raw.update({k: v for k, v in kw.items() if v is not None})
        return SyntheticConfig.from_params(raw, "synthetic")

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-ready dict (dates as ISO strings, tuples as lists) of the settings that shape the
        files. Keys added after generator version 1 are left out while they have no effect
        (:data:`V1_NEUTRAL`), so a version-1 data set keeps its fingerprint and manifest."""
        doc = json.loads(json.dumps(self.model_dump(), default=str))
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


def config_from_dict(raw: Mapping[str, Any]) -> SyntheticConfig:
    """Validate a ``synthetic`` section (every key required; unknown keys refused)."""
    return SyntheticConfig.from_params(raw, "synthetic")


def _section(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise FileNotFoundError(f"synthetic config {path} does not exist")
    doc = yaml.safe_load(path.read_text()) or {}
    section = doc.get("synthetic", doc)
    if not isinstance(section, dict):
        raise ValueError(f"{path}: key 'synthetic' must be a mapping")
    return section


def load_config(path: str | Path, base: Mapping[str, Any] | None = None) -> SyntheticConfig:
    """The ``synthetic`` section of a parameters YAML file, validated.

    With ``base`` (a full section, e.g. the project's parameters) the file only overrides the
    keys it lists; without it the file must list every key.
    """
    section = _section(Path(path))
    raw = {**dict(base), **section} if base is not None else section
    return config_from_dict(raw)
