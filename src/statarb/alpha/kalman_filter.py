"""Public API of the hedge-ratio Kalman filter (wraps :func:`statarb.kernels.kalman.kalman_hedge_kernel`).

State ``[beta_t, alpha_t]`` follows a random walk with process covariance ``Q``; the observation is
``price_a_t = beta_t * price_b_t + alpha_t + eps_t``, ``eps_t ~ N(0, R)``. ``Q`` is either given
explicitly (scalar -> ``q*I``, or 2x2) or from Chan's parametrisation ``Q = delta / (1 - delta) * I``
(Chan 2013, *Algorithmic Trading*, ch. 3). See ``docs/alpha.md`` for the output definitions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from statarb.kernels.kalman import kalman_hedge_kernel


@dataclass(frozen=True)
class KalmanState:
    """Posterior ``(beta, alpha)`` and its covariance ``P`` (2x2, symmetric) between two bars."""

    beta: float = 0.0
    alpha: float = 0.0
    P: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 0.0), (0.0, 0.0))

    def to_array(self) -> np.ndarray:
        """Kernel layout ``[beta, alpha, p00, p01, p11]``."""
        return np.array([self.beta, self.alpha, self.P[0][0], self.P[0][1], self.P[1][1]])

    @classmethod
    def from_array(cls, a: np.ndarray) -> KalmanState:
        """Inverse of :meth:`to_array`."""
        return cls(
            float(a[0]), float(a[1]), ((float(a[2]), float(a[3])), (float(a[3]), float(a[4])))
        )

    def to_json(self) -> str:
        """JSON for ``kalman_params.initial_state``: ``{"beta", "alpha", "P"}`` (round-trips exactly)."""
        return json.dumps({"beta": self.beta, "alpha": self.alpha, "P": [list(r) for r in self.P]})

    @classmethod
    def from_json(cls, text: str) -> KalmanState:
        """Parse :meth:`to_json` output; a bare ``[beta, alpha]`` list gives ``P = 0``."""
        obj = json.loads(text)
        if isinstance(obj, list):
            if len(obj) != 2:
                raise ValueError(f"initial_state JSON list must be [beta, alpha], got {text!r}")
            return cls(float(obj[0]), float(obj[1]))
        try:
            P = obj.get("P", [[0.0, 0.0], [0.0, 0.0]])
            return cls(
                float(obj["beta"]),
                float(obj["alpha"]),
                ((float(P[0][0]), float(P[0][1])), (float(P[1][0]), float(P[1][1]))),
            )
        except (KeyError, TypeError, IndexError) as exc:
            raise ValueError(
                f"initial_state JSON must be {{'beta','alpha','P'}}, got {text!r}"
            ) from exc


def process_covariance(
    delta: float | None = None, q: float | np.ndarray | None = None
) -> np.ndarray:
    """Process-noise covariance ``Q`` (2x2): explicit ``q`` (scalar -> ``q*I``) or Chan's
    ``delta / (1 - delta) * I`` with ``0 <= delta < 1``. Exactly one must be given."""
    if (delta is None) == (q is None):
        raise ValueError("give exactly one of delta (Chan parametrisation) or q (explicit Q)")
    if q is not None:
        Q = np.asarray(q, dtype=np.float64)
        Q = Q * np.eye(2) if Q.ndim == 0 else Q.reshape(2, 2)
    else:
        if not 0.0 <= delta < 1.0:
            raise ValueError(f"Kalman delta must be in [0, 1), got {delta}")
        Q = delta / (1.0 - delta) * np.eye(2)
    check_process_covariance(Q)
    return Q


def check_process_covariance(Q: np.ndarray, name: str = "process covariance Q") -> None:
    """Raise ``ValueError`` naming ``name`` unless ``Q`` is a finite symmetric PSD 2x2 matrix."""
    Q = np.asarray(Q, dtype=np.float64)
    if (
        Q.shape != (2, 2)
        or not np.all(np.isfinite(Q))
        or not np.allclose(Q, Q.T)
        or np.linalg.eigvalsh(Q).min() < 0
    ):
        raise ValueError(f"{name} must be a finite symmetric PSD 2x2 matrix, got {Q.tolist()}")


@dataclass
class KalmanResult:
    """Per-bar outputs (float64 arrays, NaN on skipped bars) and the final posterior."""

    beta: np.ndarray
    alpha: np.ndarray
    innovation: np.ndarray
    innovation_var: np.ndarray
    z_score: np.ndarray
    spread: np.ndarray
    final_state: KalmanState = field(default_factory=KalmanState)


def kalman_hedge(
    y: np.ndarray,
    x: np.ndarray,
    Q: np.ndarray,
    R: float,
    initial: KalmanState | None = None,
) -> KalmanResult:
    """Filter the hedge ratio of ``y`` (leg A) on ``x`` (leg B).

    Per bar ``t``: ``beta``/``alpha`` are the filtered state after bar ``t``;
    ``innovation = y_t - beta_{t|t-1} x_t - alpha_{t|t-1}`` and ``innovation_var = S_t`` use the
    predicted state (data through ``t-1``), so ``z_score = innovation / sqrt(S_t)`` is Chan's
    signal; ``spread = y_t - beta_t x_t - alpha_t`` (filtered state: the posterior residual, which
    stays stationary when beta and alpha trade off along their ridge). ``initial`` is the posterior entering the first bar (default zeros).
    """
    y = np.ascontiguousarray(y, dtype=np.float64)
    x = np.ascontiguousarray(x, dtype=np.float64)
    if y.shape != x.shape or y.ndim != 1:
        raise ValueError(f"y and x must be 1-D of equal length, got {y.shape} and {x.shape}")
    if not (np.isfinite(R) and R > 0):
        raise ValueError(f"measurement noise R must be finite and > 0, got {R}")
    Q = np.asarray(Q, dtype=np.float64).reshape(2, 2)
    check_process_covariance(Q)
    init = (initial or KalmanState()).to_array()
    b, a, e, s, z, sp, st = kalman_hedge_kernel(y, x, Q[0, 0], Q[0, 1], Q[1, 1], float(R), init)
    return KalmanResult(b, a, e, s, z, sp, KalmanState.from_array(st))
