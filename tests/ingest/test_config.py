"""The ``ingestion`` parameters section is validated strictly at start-up (IngestionConfig)."""

from __future__ import annotations

import copy

import pytest

from statarb.config.registry import SECTIONS, model_for, validate_parameters
from statarb.config.strict import ConfigError
from statarb.ingest import IngestionConfig
from tests.ingest.kedro_helpers import load_params


@pytest.fixture
def raw() -> dict:
    return copy.deepcopy(load_params(("ingestion",))["ingestion"])


def test_registered_and_shipped_sections_validate():
    assert model_for("ingestion") is IngestionConfig and "ingestion" in SECTIONS
    for env, source in (("base", "synthetic"), ("arch_daily", "arch_daily")):
        cfg = validate_parameters(load_params(("ingestion",), env))["ingestion"]
        assert cfg.source == source and cfg.calendar.timezone == "America/New_York"
        assert cfg.active.file_date is not None and cfg.validation.price_min > 0


@pytest.mark.parametrize(
    "path, typo, closest",
    [
        (("source",), "sourc", "ingestion.source"),
        (("streaming", "files_per_group"), "files_per_grup", None),
        (("validation", "price_max"), "price_mx", "ingestion.validation.price_max"),
        (("calendars", "us_equities", "holidays"), "holiday", None),
        (("sources", "synthetic", "bars", "date_column"), "date_colum", None),
        (("sources", "synthetic", "ticks", "side_map"), "sidemap", None),
    ],
)
def test_a_typo_is_refused_with_its_path_and_the_closest_name(raw, path, typo, closest):
    node = raw
    for key in path[:-1]:
        node = node[key]
    node[typo] = node.pop(path[-1])
    with pytest.raises(ConfigError) as info:
        validate_parameters({"ingestion": raw})
    message = str(info.value)
    where = ".".join(("ingestion", *path[:-1], typo))
    want = closest or ".".join(("ingestion", *path))
    assert f"{where}: unknown key (did you mean {want!r}?)" in message
    assert f"{'.'.join(('ingestion', *path))}: required key is missing" in message


@pytest.mark.parametrize(
    "edit, fragment",
    [
        (lambda r: r["calendars"]["us_equities"].update(timezone="America/NewYork"), "time zone"),
        (lambda r: r["calendars"]["us_equities"].update(session_open="16:30"), "session_open"),
        (lambda r: r["validation"].update(currencies=["usd"]), "ISO 4217"),
        (lambda r: r["validation"].update(price_min=2e6), "price_min must be below"),
        (lambda r: r["validation"].update(ticker_pattern="([A-Z"), "regular expression"),
        (lambda r: r["sources"]["synthetic"].update(calendar="lse"), "not an entry of calendars"),
        (lambda r: r.update(source="vendor_x"), "not an entry of sources"),
        (lambda r: r["sources"]["synthetic"]["file_date"].update(pattern=r"\d{8}"), "group"),
        (lambda r: r["sources"]["synthetic"]["bars"]["columns"].pop("Volume"), "lacks target"),
        (lambda r: r["sources"]["synthetic"]["ticks"].update(csv_separator=","), "csv_separator"),
        (lambda r: r["sources"]["synthetic"]["bars"].update(datetime_column="ts"), "either"),
        (lambda r: r["validation"].update(volume_max="lots"), "volume_max"),
        (lambda r: r["streaming"].update(files_per_group=0), "files_per_group"),
        (lambda r: r["sources"]["synthetic"]["bars"].update(csv_separator=None), "csv_separator"),
        (lambda r: r["sources"]["synthetic"]["bars"].update(format="xlsx"), "format"),
    ],
)
def test_inconsistent_values_are_refused(raw, edit, fragment):
    edit(raw)
    with pytest.raises(ConfigError, match=fragment):
        IngestionConfig.from_params(raw, "ingestion")


def test_a_missing_key_is_refused_no_default_in_code(raw):
    del raw["validation"]["max_ex_date_days_after_last_bar"]
    with pytest.raises(ConfigError, match="max_ex_date_days_after_last_bar: required key"):
        IngestionConfig.from_params(raw, "ingestion")


def test_auto_format_reads_each_file_by_its_extension(raw):
    bars = IngestionConfig.from_params(raw, "ingestion").active.bars
    assert bars.format == "auto" and bars.file_patterns == ["*.csv", "*.parquet"]
    assert bars.file_format("SYNTH_bars_20260302.csv") == "csv"
    assert bars.file_format("SYNTH_bars_20260302.parquet") == "parquet"
    raw["sources"]["synthetic"]["bars"].update(format="csv", file_pattern="*.csv")
    bars = IngestionConfig.from_params(raw, "ingestion").active.bars
    assert bars.file_format("SYNTH_bars_20260302.parquet") == "csv" and bars.file_patterns == [
        "*.csv"
    ]
