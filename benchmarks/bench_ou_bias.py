"""Monte-Carlo bias of the OU speed estimators: plain AR(1) MLE vs Kendall and jackknife.

Run on demand: ``.venv/bin/python benchmarks/bench_ou_bias.py [--reps 2000] [--n 3900]``.
Simulates exact OU paths (Vasicek discretisation, ``dt = 1`` bar) at several ``theta`` over ``n``
bars (the default OU window, 10 sessions) and prints, per estimator of
:func:`statarb.alpha.ou_fit.fit_ou`, the mean and median of ``theta_hat / theta``, the RMSE
relative to ``theta`` and the share of windows judged not mean-reverting (``b >= 1``, no fit).
The plain estimator is the reference the corrections are measured against in the same run.
"""

from __future__ import annotations

import argparse

import numpy as np

from statarb.alpha.ou_fit import fit_ou

ESTIMATORS = ("mle", "kendall", "jackknife")


def simulate(n: int, theta: float, reps: int, rng: np.random.Generator) -> np.ndarray:
    b = np.exp(-theta)
    sd = np.sqrt((1 - b * b) / (2 * theta))  # sigma = 1
    x = np.empty((reps, n))
    x[:, 0] = rng.normal(0, 1 / np.sqrt(2 * theta), reps)  # stationary start
    eps = rng.normal(0, sd, (reps, n))
    for t in range(1, n):
        x[:, t] = b * x[:, t - 1] + eps[:, t]
    return x


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--n", type=int, default=3900)
    ap.add_argument("--thetas", default="0.002,0.005,0.02")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"OU speed estimators, n = {args.n} bars, {args.reps} paths per theta")
    print(f"{'theta':>8} {'half-life':>10} {'estimator':>10} {'mean':>8} {'median':>8} "
          f"{'rmse':>8} {'no fit':>7}")  # fmt: skip
    for theta in (float(t) for t in args.thetas.split(",")):
        paths = simulate(args.n, theta, args.reps, rng)
        for est in ESTIMATORS:
            th = np.array([fit_ou(p, estimator=est).theta for p in paths])
            ok = np.isfinite(th)
            r = th[ok] / theta
            print(f"{theta:>8.4f} {np.log(2) / theta:>10.0f} {est:>10} {r.mean():>8.3f} "
                  f"{np.median(r):>8.3f} {np.sqrt(np.mean((r - 1) ** 2)):>8.3f} "
                  f"{1 - ok.mean():>7.1%}")  # fmt: skip


if __name__ == "__main__":
    main()
