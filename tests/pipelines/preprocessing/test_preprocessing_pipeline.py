"""Ingestion + preprocessing pipelines on a small generated data set, checked against ground truth."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from kedro.runner import SequentialRunner
from tests.ingest.kedro_helpers import build_catalog, load_params

from statarb.pipelines.ingestion import create_pipeline as ingestion
from statarb.pipelines.preprocessing import create_pipeline as preprocessing
from statarb.preprocess import ticks_to_bars
from statarb.storage.database import dispose_engines
from statarb.synthetic.config import load_config
from statarb.synthetic.generator import generate

# generator rule names -> ingestion rule names (missing bars and spikes are not quarantined)
RULES = {
    "duplicate_row": "duplicate",
    "unknown_ticker": "unknown_symbol",
    "non_increasing_time": "non_increasing_datetime",
    "negative_price": "negative_price",
    "high_lt_low": "high_lt_low",
    "nan_close": "non_finite_price",
}

SYNTH_PARAMS = Path(__file__).resolve().parents[3] / "conf/base/parameters_synthetic.yml"


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("raw")
    cfg = load_config(SYNTH_PARAMS).with_overrides(
        n_symbols=6, n_days=5, tick_days=2, tick_symbols=2, n_missing=20
    )
    generate(out, cfg, force=True)
    return out


def test_pipelines_against_ground_truth(tmp_path, raw):
    params = load_params()
    params["preprocessing"]["fill_missing"]["enabled"] = True
    catalog = build_catalog(tmp_path, raw, f"sqlite:///{tmp_path / 'statarb.db'}", params)
    try:
        SequentialRunner().run(ingestion() + preprocessing(), catalog)
    finally:
        dispose_engines()
    truth = json.loads((raw / "ground_truth/anomalies.json").read_text())["anomalies"]

    # every injected bad row is quarantined with its file, row and rule, and nothing else is
    q = pl.read_parquet(tmp_path / "data/02_intermediate/quarantine/bars.parquet")
    want = {
        (a["file"].removeprefix("bars/"), a["row"], RULES[a["rule"]])
        for a in truth
        if a["rule"] in RULES
    }
    assert want, "the generated data should contain bad rows"
    assert set(q.select("source_file", "source_row", "rule").rows()) == want

    adj = catalog.load("bars_adjusted").collect()
    assert adj.schema["outlier_flag"] == pl.Int8
    # adjustment factors equal the generator's per-segment factors
    segs = json.loads((raw / "ground_truth/corporate_actions.json").read_text())["segments"]
    local = adj.with_columns(
        pl.col("datetime").dt.convert_time_zone("America/New_York").dt.date().alias("d")
    )
    assert segs
    for s in segs:
        sel = local.filter(
            (pl.col("symbol") == s["symbol"])
            & pl.col("d").is_between(
                dt.date.fromisoformat(s["start_date"]), dt.date.fromisoformat(s["end_date"])
            )
        )
        assert sel.height > 0
        assert sel["adj_factor"].to_list() == pytest.approx(
            [s["adj_factor"]] * sel.height, rel=1e-12
        )

    # Hampel flags recover the injected spikes, with few false positives
    spikes = {
        (a["symbol"], dt.datetime.fromisoformat(a["datetime"].replace("Z", "+00:00")))
        for a in truth
        if a["rule"] == "price_spike"
    }
    flagged = set(adj.filter(pl.col("outlier_flag") == 1).select("symbol", "datetime").rows())
    recall = len(spikes & flagged) / len(spikes)
    assert recall >= 0.9, f"spike recall {recall:.0%}"
    assert len(flagged - spikes) <= 0.002 * adj.height

    # missing bars were filled (fill enabled above) and only inside sessions
    missing = {
        (a["symbol"], dt.datetime.fromisoformat(a["datetime"].replace("Z", "+00:00")))
        for a in truth
        if a["rule"] == "missing_bar"
    }
    # quarantined rows leave gaps too (unless a duplicate/other copy of that bar was kept)
    holes = missing | set(q.select("symbol", "datetime").rows())
    filled = set(adj.filter(pl.col("missing_filled")).select("symbol", "datetime").rows())
    assert filled <= holes and len(filled & missing) >= 0.8 * len(missing)

    # tick bars: stored, equal to aggregating the stored ticks
    tb = catalog.load("tick_bars").collect()
    assert tb.height > 0 and (tb["source"] == "ticks").all()
    ref = ticks_to_bars(catalog.load("ticks"))
    assert tb.select(ref.columns).sort("symbol", "datetime").equals(ref)


def _store_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.parquet")}


def test_chunked_preprocessing_writes_the_same_partitions(tmp_path, raw):
    """Chunks of 2 symbols spooled in blocks of 2 dates store the very files of one pass."""
    stores = {}
    for name, chunk, block in (("one_pass", 1000, 1000), ("chunked", 2, 2)):
        params = load_params()
        params["preprocessing"]["fill_missing"]["enabled"] = True
        params["preprocessing"]["chunk_symbols"] = chunk
        params["preprocessing"]["block_days"] = block
        root = tmp_path / name
        catalog = build_catalog(root, raw, f"sqlite:///{root / 'statarb.db'}", params)
        try:
            SequentialRunner().run(ingestion() + preprocessing(), catalog)
        finally:
            dispose_engines()
        stores[name] = _store_files(root / "data" / "bars_adjusted")
    assert len(stores["one_pass"]) == 5  # one partition per session date
    assert stores["chunked"] == stores["one_pass"]
