"""Small synthetic configs shared by the generator tests (built once per session)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from statarb.synthetic.config import SyntheticConfig, load_config
from statarb.synthetic.generator import SyntheticData, build, generate

# 2026-03-05, 06, 09, 10: crosses the 2026-03-08 DST change
PARAMS = Path(__file__).resolve().parents[2] / "conf" / "base" / "parameters_synthetic.yml"
DEFAULT = load_config(PARAMS)
SMALL = DEFAULT.with_overrides(
    start=dt.date(2026, 3, 5),
    n_days=4,
    n_symbols=8,
    n_splits=1,
    n_dividends=3,
    n_missing=25,
    n_duplicates=3,
    n_spikes=5,
    tick_days=2,
    tick_symbols=3,
    tick_rate_per_sec=0.5,
)


@pytest.fixture(scope="session")
def small_cfg() -> SyntheticConfig:
    return SMALL


@pytest.fixture(scope="session")
def small_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth_small")
    generate(out, SMALL)
    return out


@pytest.fixture(scope="session")
def small_data() -> SyntheticData:
    return build(SMALL)


def read_bar_files(root: Path) -> pl.DataFrame:
    """All bar files as strings-preserving frames with ``file`` and 1-based ``row`` columns."""
    frames = []
    for p in sorted((root / "bars").glob("*.csv")):
        df = pl.read_csv(p, schema_overrides={"Ticker": pl.String, "Volume": pl.Int64})
        frames.append(
            df.with_columns(
                pl.lit(f"bars/{p.name}").alias("file"),
                pl.int_range(1, pl.len() + 1).alias("row"),
            )
        )
    return pl.concat(frames)


def with_utc(df: pl.DataFrame, tz: str = "America/New_York") -> pl.DataFrame:
    """Add ``datetime`` (UTC) from local ``Date`` + ``Time`` (polars/chrono-tz conversion)."""
    local = pl.concat_str("Date", pl.lit(" "), "Time").str.to_datetime(
        "%Y-%m-%d %H:%M:%S", time_unit="us"
    )
    return df.with_columns(
        local.dt.replace_time_zone(tz).dt.convert_time_zone("UTC").alias("datetime")
    )


def anomalies(root: Path) -> list[dict]:
    return json.loads((root / "ground_truth" / "anomalies.json").read_text())["anomalies"]


def clean_rows(root: Path) -> pl.DataFrame:
    """Bar rows not listed in anomalies.json, with upper-case ``symbol`` and UTC ``datetime``."""
    flagged = pl.DataFrame(
        [(a["file"], a["row"]) for a in anomalies(root) if a["row"] is not None],
        schema={"file": pl.String, "row": pl.Int64},
        orient="row",
    )
    df = read_bar_files(root).join(flagged, on=["file", "row"], how="anti")
    return with_utc(df).with_columns(pl.col("Ticker").str.to_uppercase().alias("symbol"))


def bar_index(data: SyntheticData, df: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Panel coordinates (t, j) of rows with ``symbol`` and ``datetime`` columns."""
    clock = data.market.clock
    us = df["datetime"].dt.epoch("us").to_numpy()
    t = np.searchsorted(clock.utc_us, us)
    assert np.array_equal(clock.utc_us[t], us), "row time not on the bar clock"
    col = {s: j for j, s in enumerate(data.market.symbols)}
    j = np.array([col[s] for s in df["symbol"].to_list()])
    return t, j
