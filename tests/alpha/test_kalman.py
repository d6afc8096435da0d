"""Kalman hedge-ratio filter: numba kernel vs the NumPy matrix loop (1e-12) and pykalman (1e-9)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pykalman import KalmanFilter

from statarb.alpha.kalman_filter import KalmanState, kalman_hedge, process_covariance
from statarb.alpha.kalman_ref import kalman_hedge_reference


def _pair(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """y = beta_t x + alpha_t + noise with a slowly drifting beta (random walk)."""
    rng = np.random.default_rng(seed)
    x = 50.0 + np.cumsum(rng.normal(0, 0.2, n))
    beta = 1.3 + np.cumsum(rng.normal(0, 1e-3, n))
    y = beta * x + 2.0 + rng.normal(0, 0.3, n)
    return y, x


def _pykalman(y, x, Q, R, state0, P0, missing=None):
    """pykalman with time-varying H_t = [[x_t, 1]]; its first bar is not predicted, so P0 + Q."""
    kf = KalmanFilter(
        transition_matrices=np.eye(2),
        observation_matrices=np.stack([x, np.ones_like(x)], axis=1)[:, None, :],
        transition_covariance=Q,
        observation_covariance=np.array([[R]]),
        initial_state_mean=state0,
        initial_state_covariance=P0 + Q,
    )
    obs = np.ma.masked_invalid(y)[:, None]
    if missing is not None:
        obs[missing] = np.ma.masked
    return kf.filter(obs)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kernel_equals_numpy_loop(seed: int) -> None:
    y, x = _pair(2000, seed)
    Q = process_covariance(delta=1e-4)
    init = KalmanState(1.0, 0.5, ((2.0, 0.1), (0.1, 3.0)))
    res = kalman_hedge(y, x, Q, 0.05, init)
    ref = kalman_hedge_reference(
        y, x, Q, 0.05, np.array([1.0, 0.5]), np.array([[2.0, 0.1], [0.1, 3.0]])
    )
    for name in ("beta", "alpha", "innovation", "innovation_var", "z_score", "spread"):
        np.testing.assert_allclose(
            getattr(res, name), ref[name], rtol=1e-12, atol=1e-12, err_msg=name
        )
    np.testing.assert_allclose(res.final_state.to_array()[:2], ref["state"], rtol=1e-12)
    np.testing.assert_allclose(np.array(res.final_state.P), ref["P"], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("seed", [3, 4])
def test_kernel_equals_pykalman(seed: int) -> None:
    y, x = _pair(1500, seed)
    Q = process_covariance(q=np.array([[1e-5, 2e-7], [2e-7, 1e-4]]))
    R = 0.09
    s0, P0 = np.array([0.0, 0.0]), np.eye(2)
    res = kalman_hedge(y, x, Q, R, KalmanState(0.0, 0.0, ((1.0, 0.0), (0.0, 1.0))))
    means, covs = _pykalman(y, x, Q, R, s0, P0)
    np.testing.assert_allclose(res.beta, means[:, 0], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(res.alpha, means[:, 1], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(np.array(res.final_state.P), covs[-1], rtol=1e-9, atol=1e-12)
    # innovation and its variance from the one-step prediction of pykalman's filtered path
    pred_P = np.concatenate([[P0], covs[:-1]]) + Q
    pred_m = np.concatenate([[s0], means[:-1]])
    S = x * (pred_P[:, 0, 0] * x + pred_P[:, 0, 1]) + (pred_P[:, 1, 0] * x + pred_P[:, 1, 1]) + R
    e = y - (pred_m[:, 0] * x + pred_m[:, 1])
    np.testing.assert_allclose(res.innovation_var, S, rtol=1e-9)
    np.testing.assert_allclose(res.z_score, e / np.sqrt(S), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(res.spread, y - means[:, 0] * x - means[:, 1], rtol=1e-9, atol=1e-9)


def test_nan_bars_predict_only_matches_pykalman_missing() -> None:
    y, x = _pair(800, 5)
    y[[10, 11, 400]] = np.nan
    x[[57, 401]] = np.nan
    Q = process_covariance(delta=1e-3)
    res = kalman_hedge(y, x, Q, 0.1, KalmanState(1.0, 0.0, ((1.0, 0.0), (0.0, 1.0))))
    bad = ~(np.isfinite(y) & np.isfinite(x))
    assert np.isnan(res.beta[bad]).all() and np.isnan(res.z_score[bad]).all()
    assert np.isnan(res.spread[bad]).all() and np.isfinite(res.beta[~bad]).all()
    xf = np.where(np.isfinite(x), x, 0.0)  # H_t is irrelevant on masked bars
    means, _ = _pykalman(y, xf, Q, 0.1, np.array([1.0, 0.0]), np.eye(2), missing=bad)
    np.testing.assert_allclose(res.beta[~bad], means[~bad, 0], rtol=1e-9)
    ref = kalman_hedge_reference(y, x, Q, 0.1, np.array([1.0, 0.0]), np.eye(2))
    np.testing.assert_allclose(res.beta, ref["beta"], rtol=1e-12)


def test_segmented_run_equals_one_run_and_json_roundtrip() -> None:
    """Warm start: running window by window from the saved state reproduces one long run exactly."""
    y, x = _pair(1000, 6)
    Q = process_covariance(delta=1e-4)
    whole = kalman_hedge(y, x, Q, 0.05)
    state, betas = KalmanState(), []
    for lo, hi in [(0, 137), (137, 500), (500, 1000)]:
        part = kalman_hedge(y[lo:hi], x[lo:hi], Q, 0.05, KalmanState.from_json(state.to_json()))
        betas.append(part.beta)
        state = part.final_state
    assert np.array_equal(np.concatenate(betas), whole.beta)
    assert state == whole.final_state


def test_chan_delta_parametrisation_and_errors() -> None:
    np.testing.assert_allclose(process_covariance(delta=1e-4), 1e-4 / (1 - 1e-4) * np.eye(2))
    with pytest.raises(ValueError, match="delta"):
        process_covariance(delta=1.0)
    with pytest.raises(ValueError, match="exactly one"):
        process_covariance()
    with pytest.raises(ValueError, match="R must be finite and > 0"):
        kalman_hedge(np.ones(3), np.ones(3), np.eye(2), 0.0)
    with pytest.raises(ValueError, match="initial_state"):
        KalmanState.from_json(json.dumps({"alpha": 1.0}))
    assert KalmanState.from_json("[1.5, 0.2]") == KalmanState(1.5, 0.2)


def test_tracks_true_beta_and_handles_1e5_bars() -> None:
    """Data simulated from the model itself: beta tracked, standardised innovations ~ N(0, 1)."""
    n, q, R = 100_000, 1e-8, 0.05**2
    rng = np.random.default_rng(7)
    x = 100.0 + np.cumsum(rng.normal(0, 0.05, n))
    beta = 0.8 + np.cumsum(rng.normal(0, np.sqrt(q), n))
    alpha = 1.0 + np.cumsum(rng.normal(0, np.sqrt(q), n))
    y = beta * x + alpha + rng.normal(0, np.sqrt(R), n)
    res = kalman_hedge(y, x, process_covariance(q=q), R, KalmanState(0.8, 1.0))
    assert np.isfinite(res.beta).all()
    assert np.max(np.abs(res.beta[n // 10 :] - beta[n // 10 :])) < 0.005
    z = res.z_score[n // 10 :]
    # mean 0 / variance 1 within ~5 standard errors of an iid N(0, 1) sample of this size
    assert abs(z.mean()) < 5 / np.sqrt(z.size)
    assert abs(z.var() - 1.0) < 5 * np.sqrt(2 / z.size)
