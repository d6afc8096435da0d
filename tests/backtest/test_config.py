"""Cost files (YAML/JSON), parameter validation and the stored config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from statarb.backtest.config import BacktestConfig, BacktestConfigError, CostModel, load_costs
from tests.config_helpers import base_params

CONF = Path(__file__).resolve().parents[2] / "conf" / "base"


def test_shipped_cost_files_load() -> None:
    c = load_costs(CONF / "costs" / "default.yml")
    assert (c.per_share, c.min_per_order, c.fixed_bps) == (0.005, 1.0, 1.0)
    assert (c.impact_k_bps, c.impact_alpha, c.max_participation, c.remainder) == (
        10.0,
        0.5,
        0.1,
        "carry",
    )
    assert load_costs(CONF / "costs" / "zero.json") == CostModel()


def test_yaml_and_json_layouts_round_trip(tmp_path: Path) -> None:
    c = CostModel(per_share=0.01, min_per_order=2, fee_bps=0.3, fixed_bps=1.5, impact_k_bps=7,
                  impact_alpha=0.6, max_participation=0.2, remainder="cancel")  # fmt: skip
    (tmp_path / "c.yml").write_text(yaml.safe_dump(c.to_mapping()))
    (tmp_path / "c.json").write_text(json.dumps(c.to_mapping()))
    assert load_costs(tmp_path / "c.yml") == c == load_costs(tmp_path / "c.json")


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ({"fees": {"per_share": -1}}, r"bad.yml: costs.per_share must be >= 0"),
        ({"volume_cap": {"remainder": "later"}}, r"remainder must be one of"),
        ({"fee": {}}, r"unknown cost sections \['fee'\]"),
        ({"impact": {"alpha": 0}}, r"impact_alpha must be > 0"),
    ],
)
def test_bad_cost_files_are_named(tmp_path: Path, body: dict, match: str) -> None:
    (tmp_path / "bad.yml").write_text(yaml.safe_dump(body))
    with pytest.raises(BacktestConfigError, match=match):
        load_costs(tmp_path / "bad.yml")


def test_parameter_rules() -> None:
    with pytest.raises(BacktestConfigError, match="0 <= exit_z < entry_z < stop_z"):
        BacktestConfig(entry_z=2.0, exit_z=2.5)
    with pytest.raises(BacktestConfigError, match="latency_bars must be >= 1"):
        BacktestConfig(latency_bars=0)
    with pytest.raises(BacktestConfigError, match="signal_source"):
        BacktestConfig(signal_source="magic")
    with pytest.raises(BacktestConfigError, match=r"no weight for pairs \['C_D'\]"):
        BacktestConfig(allocation={"A_B": 1.0}).weights(["A_B", "C_D"])


def test_shipped_parameters_build_the_config(monkeypatch) -> None:
    monkeypatch.chdir(CONF.parents[1])
    params = base_params("backtest")
    cfg = BacktestConfig.from_params(params)
    assert cfg.costs == load_costs(CONF / "costs" / "default.yml")
    assert cfg.weights(["A_B", "C_D"]) == [0.5, 0.5]
    d = cfg.to_dict()
    assert d["costs"]["fees"]["per_share"] == 0.005 and d["entry_z"] == params["entry_z"]
    again = BacktestConfig.from_params({**d, "costs": d["costs"]})
    assert again == cfg
