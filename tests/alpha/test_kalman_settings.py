"""Kalman settings from parameters: Chan delta, explicit Q/R, default R and warm starts."""

from __future__ import annotations

import pytest

from statarb.alpha.kalman_filter import KalmanState
from statarb.alpha.spreads import kalman_settings
from tests.config_helpers import alpha_config


def kcfg(**over):
    return alpha_config(**{f"kalman__{k}": v for k, v in over.items()}).kalman


def test_defaults_and_explicit_noise() -> None:
    q, r, st = kalman_settings(kcfg(delta=1e-4, r_frac=0.01), price_a0=50.0)
    assert q == pytest.approx(1e-4 / (1 - 1e-4)) and r == pytest.approx(0.25)
    assert st == KalmanState(1.0, 0.0, ((1.0, 0.0), (0.0, 2500.0)))
    q, r, _ = kalman_settings(kcfg(process_noise=2e-9, measurement_noise=0.3), price_a0=50.0)
    assert (q, r) == (2e-9, 0.3)
    q, _, _ = kalman_settings(kcfg(process_noise=0.0), price_a0=50.0)  # RLS: constant beta
    assert q == 0.0


def test_warm_start_from_kalman_params_json() -> None:
    saved = KalmanState(1.37, -2.5, ((1e-4, -2e-3), (-2e-3, 0.5)))
    cfg = kcfg(
        warm_start={"AAA_BBB": saved.to_json()},
        initial_state={"beta": 0.5, "alpha": 0.0, "P": None},
    )
    assert kalman_settings(cfg, 10.0, "AAA_BBB")[2] == saved
    other = kalman_settings(cfg, 10.0, "CCC_DDD")[2]
    assert other.beta == 0.5 and other.P[1][1] == 100.0
    mapping = kcfg(warm_start={"AAA_BBB": {"beta": 2.0, "alpha": 1.0, "P": [[1, 0], [0, 4]]}})
    assert kalman_settings(mapping, 10.0, "AAA_BBB")[2] == KalmanState(2.0, 1.0, ((1, 0), (0, 4)))
