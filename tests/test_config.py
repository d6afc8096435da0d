"""Typed configuration: a typo in a section is refused at start-up with its path and the closest
valid name; section models carry no defaults (the YAML is the only place they live); the shipped
environments validate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from statarb.config.registry import SECTIONS, model_for, validate_parameters
from statarb.config.strict import ConfigError
from tests.config_helpers import base_params

REPO = Path(__file__).resolve().parents[1]


def _walk(model: type[BaseModel], path: str):
    for name, field in model.model_fields.items():
        yield f"{path}.{name}", field
        ann = field.annotation
        for cand in (ann, *getattr(ann, "__args__", ())):
            if isinstance(cand, type) and issubclass(cand, BaseModel):
                yield from _walk(cand, f"{path}.{name}")


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_models_declare_no_defaults(section):
    with_default = [p for p, f in _walk(model_for(section), section)
                    if f.default is not PydanticUndefined or f.default_factory is not None]  # fmt: skip
    assert with_default == [], f"defaults belong in the YAML: {with_default}"


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_shipped_section_validates_and_a_typo_is_refused(section):
    raw = base_params(section)
    validate_parameters({section: raw})
    key = next(iter(raw))
    raw[key + "x"] = raw.pop(key)
    with pytest.raises(ConfigError) as exc:
        validate_parameters({section: raw})
    msg = str(exc.value)
    assert f"{section}.{key}x: unknown key (did you mean '{section}.{key}'" in msg
    assert f"{section}.{key}: required key is missing" in msg


def test_nested_typo_names_the_full_path():
    raw = base_params("alpha")
    raw["screening"]["params"]["eg"]["autolagg"] = "aic"
    with pytest.raises(ConfigError, match=r"alpha\.screening\.params\.eg\.autolagg: unknown key"):
        validate_parameters({"alpha": raw})


def test_kedro_run_stops_at_start_up_on_a_typo(tmp_path: Path):
    """The hook validates every section before any node runs: nothing is written."""
    import shutil

    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(
        REPO / "conf", tmp_path / "conf", ignore=shutil.ignore_patterns("credentials.yml")
    )
    shutil.copy(REPO / "conf/base/credentials.yml", tmp_path / "conf/base")
    (tmp_path / "conf/local").mkdir(exist_ok=True)
    shutil.copytree(REPO / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "conf/local/parameters_typo.yml").write_text("alpha:\n  bar_minutez: 1\n")
    kedro = Path(sys.executable).parent / "kedro"
    proc = subprocess.run([str(kedro), "run", "--pipelines", "alpha"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "alpha.bar_minutez: unknown key (did you mean 'alpha.bar_minutes'" in out
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").rglob("*.parquet"))


@pytest.mark.parametrize("env", ["local", "arch_daily"])
def test_shipped_environments_validate(env):
    from kedro.config import OmegaConfigLoader

    from statarb.settings import CONFIG_LOADER_ARGS

    args = {k: v for k, v in CONFIG_LOADER_ARGS.items() if k != "default_run_env"}
    params = OmegaConfigLoader(str(REPO / "conf"), env=env, **args)["parameters"]
    out = validate_parameters(params)
    assert set(out) == set(SECTIONS) & set(params)


def test_backtest_section_refuses_two_cost_sources_and_bad_ranges():
    raw = base_params("backtest")
    validate_parameters({"backtest": {**raw, "costs_path": None, "costs": {"fees": {"bps": 1}}}})
    with pytest.raises(ConfigError, match="costs_path or an inline costs schedule, not both"):
        validate_parameters({"backtest": {**raw, "costs": {"fees": {"bps": 1}}}})
    with pytest.raises(ConfigError, match=r"backtest\.latency_bars"):
        validate_parameters({"backtest": {**raw, "latency_bars": 0}})


def test_reporting_typo_in_the_tearsheet_block_is_refused_with_its_path():
    raw = base_params("reporting")
    raw["tearsheet"]["max_pair_plot"] = raw["tearsheet"].pop("max_pair_plots")
    with pytest.raises(ConfigError) as exc:
        validate_parameters({"reporting": raw})
    assert (
        "reporting.tearsheet.max_pair_plot: unknown key "
        "(did you mean 'reporting.tearsheet.max_pair_plots'?)" in str(exc.value)
    )
    with pytest.raises(ConfigError, match=r"reporting\.thresholds_in"):
        validate_parameters({"reporting": {**base_params("reporting"), "thresholds_in": "sigma"}})


def test_library_defaults_that_mirror_a_yaml_key_equal_the_yaml():
    """Functions callable outside Kedro (tests, notebooks) keep keyword defaults; where one
    stands for a YAML key it must have the YAML's value, so the two cannot drift apart."""
    import inspect

    from statarb.reporting import metrics, tearsheet

    rep = base_params("reporting")
    page = inspect.signature(tearsheet.tearsheet_html).parameters  # render_tearsheet forwards
    for key, value in rep["tearsheet"].items():
        assert page[key].default == value, f"tearsheet_html({key}=...) vs reporting.tearsheet"
    assert page["thresholds_in"].default == rep["thresholds_in"]
    index = inspect.signature(tearsheet.render_index).parameters
    assert index["max_points"].default == rep["index_max_points"]
    assert rep["session_minutes"] == metrics.SESSION_MINUTES
    assert rep["trading_days"] == metrics.TRADING_DAYS_PER_YEAR
