"""Environments are overlays: both shipped environments resolve through Kedro's config loader
(the project's own arguments), ``arch_daily`` differs from base only where its globals move the
files, its parameter files repeat no base value, the bar length is one setting, and every
catalog entry of every environment carries a kedro-viz layer."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from statarb.config.registry import validate_parameters
from statarb.config.strict import ConfigError
from tests.config_helpers import shipped

REPO = Path(__file__).resolve().parents[1]
ENVS = ("base", "local", "arch_daily")
LAYERS = ("raw", "intermediate", "primary", "feature", "model_output", "reporting")
PATH_KEYS = ("path", "filepath", "equity_path")


def _leaves(d: Any, prefix: str = ""):
    if isinstance(d, dict):
        for k, v in d.items():
            yield from _leaves(v, f"{prefix}.{k}" if prefix else str(k))
    else:
        yield prefix, d


def _get(d: dict, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(d, dict) or part not in d:
            raise KeyError(dotted)
        d = d[part]
    return d


@pytest.mark.parametrize("env", ENVS)
def test_environment_resolves_with_kedros_loader(env):
    """No ``${...}`` is left unresolved and the parameters validate."""
    for key in ("catalog", "parameters", "globals"):
        text = repr(shipped(key, env))
        assert "${" not in text, f"{env}/{key}: unresolved interpolation"
    validate_parameters(shipped("parameters", env))


def test_arch_daily_catalog_differs_from_base_only_in_its_file_locations():
    base, arch = shipped("catalog"), shipped("catalog", "arch_daily")
    g_base, g_arch = shipped("globals"), shipped("globals", "arch_daily")
    assert set(arch) == set(base)  # same entries, nothing re-declared or dropped
    moves = [(g_base["raw_dir"], g_arch["raw_dir"]), (g_base["store_dir"], g_arch["store_dir"])]
    changed = set()
    for name, entry in base.items():
        other = arch[name]
        assert {k: v for k, v in other.items() if k not in PATH_KEYS} == {
            k: v for k, v in entry.items() if k not in PATH_KEYS
        }, f"{name}: arch_daily changes more than a path"
        for key in PATH_KEYS:
            if key not in entry:
                continue
            b, a = entry[key], other[key]
            old, new = next((o, n) for o, n in moves if b == o or b.startswith(o + "/"))
            assert a == new + b[len(old) :], f"{name}.{key}: {a!r} is not {b!r} moved"
            changed.add(name)
    assert {"raw_bars", "bars", "spread_series", "backtest_run", "ingestion_report"} <= changed
    assert not (REPO / "conf/arch_daily/catalog.yml").exists()  # the globals say it all


def test_arch_daily_parameter_files_state_only_what_differs_from_base():
    base = shipped("parameters")
    repeated = []
    for f in sorted((REPO / "conf/arch_daily").glob("parameters*.yml")):
        for dotted, value in _leaves(yaml.safe_load(f.read_text())):
            try:
                if _get(base, dotted) == value:
                    repeated.append(f"{f.name}: {dotted} = {value!r}")
            except KeyError:
                pass  # a key base does not have (e.g. ingestion.sources.arch_daily)
    assert repeated == []


@pytest.mark.parametrize(("env", "minutes"), [("base", 1), ("arch_daily", 390)])
def test_bar_length_is_one_setting(env, minutes):
    params = shipped("parameters", env)
    assert shipped("globals", env)["bar_minutes"] == minutes
    assert params["alpha"]["bar_minutes"] == params["backtest"]["bar_interval_minutes"] == minutes
    for f in (REPO / "conf").glob("*/parameters*.yml"):  # no file states a number of its own
        doc = yaml.safe_load(f.read_text()) or {}
        for dotted in ("alpha.bar_minutes", "backtest.bar_interval_minutes"):
            with contextlib.suppress(KeyError):
                assert _get(doc, dotted) == "${globals:bar_minutes}", f"{f}: {dotted}"
    params["backtest"]["bar_interval_minutes"] = 5  # e.g. --params on one section only
    with pytest.raises(ConfigError, match="the bar length is one setting"):
        validate_parameters(params)


@pytest.mark.parametrize("env", ENVS)
def test_every_catalog_entry_has_a_kedro_viz_layer(env):
    missing = {
        name: (entry.get("metadata") or {}).get("kedro-viz", {}).get("layer")
        for name, entry in shipped("catalog", env).items()
    }
    assert {n: v for n, v in missing.items() if v not in LAYERS} == {}


def _layer(entry: dict) -> str:
    return entry["metadata"]["kedro-viz"]["layer"]


def test_every_pipeline_dataset_is_a_catalog_entry(tmp_path, monkeypatch):
    """kedro-viz layers only reach declared entries: no node output is left implicit. The
    catalog builds (every dataset takes its ``metadata``)."""
    from kedro.framework.project import configure_project, pipelines
    from kedro.io import DataCatalog

    configure_project("statarb")
    catalog = shipped("catalog")
    used = {
        d
        for p in pipelines.values()
        for d in p.datasets()
        if not d.startswith("params:") and d != "parameters"
    }
    assert sorted(used - set(catalog)) == []
    memory = {n for n, e in catalog.items() if e["type"].endswith("MemoryDataset")}
    assert sorted(memory - used) == []  # no stale declaration of an in-memory hand-off
    backwards = [
        f"{n.name}: {i} ({_layer(catalog[i])}) -> {o} ({_layer(catalog[o])})"
        for p in pipelines.values()
        for n in p.nodes
        for i in n.inputs
        if i in catalog
        for o in n.outputs
        if LAYERS.index(_layer(catalog[i])) > LAYERS.index(_layer(catalog[o]))
    ]
    assert backwards == []  # kedro-viz orders layers by the data flow: no cycle among them
    monkeypatch.chdir(tmp_path)
    built = DataCatalog.from_config(catalog, credentials={"db": {"con": "sqlite:///x.db"}})
    assert set(built.keys()) >= set(catalog)
