"""Kalman settings from parameters: Chan delta, explicit Q/R, default R and warm starts."""

from __future__ import annotations

import pytest

from statarb.alpha.kalman_filter import KalmanState
from statarb.alpha.spreads import kalman_settings


def test_defaults_and_explicit_noise() -> None:
    q, r, st = kalman_settings({"delta": 1e-4, "r_frac": 0.01}, price_a0=50.0)
    assert q == pytest.approx(1e-4 / (1 - 1e-4)) and r == pytest.approx(0.25)
    assert st == KalmanState(1.0, 0.0, ((1.0, 0.0), (0.0, 2500.0)))
    q, r, _ = kalman_settings({"process_noise": 2e-9, "measurement_noise": 0.3}, price_a0=50.0)
    assert (q, r) == (2e-9, 0.3)
    with pytest.raises(ValueError, match="measurement noise"):
        kalman_settings({"measurement_noise": 0.0}, price_a0=50.0)


def test_warm_start_from_kalman_params_json() -> None:
    saved = KalmanState(1.37, -2.5, ((1e-4, -2e-3), (-2e-3, 0.5)))
    params = {"warm_start": {"AAA_BBB": saved.to_json()}, "initial_state": {"beta": 0.5}}
    assert kalman_settings(params, 10.0, "AAA_BBB")[2] == saved
    other = kalman_settings(params, 10.0, "CCC_DDD")[2]
    assert other.beta == 0.5 and other.P[1][1] == 100.0
    assert kalman_settings({"initial_state": saved.to_json()}, 10.0)[2] == saved
