"""Where the forecaster's nonlinearity lies: least-squares models of the timeseries_elec input, no network.

Every model forecasts the next half-hour's change from the input of the last window step (the series' columns,
calendar features and the day of lags, as ``+experiment=timeseries_elec`` feeds each step), is fitted on the
training span and scored as the experiments are (test MSE on the normalised level):

- one linear map of the input (what a linear readout of the input can do),
- the same plus one offset per half-hour of the day (the time of day shifts the forecast),
- one linear map per part of the day (the time of day changes the slopes: K equal bins),
- random ReLU features of the input plus the input, with a ridge readout (an untrained wide hidden layer).

    python -m bsd.probes.forecast_gating_probe [--features 256 2048 8192] [--bins 4 8 16 48]
"""

from __future__ import annotations

import argparse

import numpy as np

from ..data.timeseries import TimeSeriesDataModule


def ridge(a: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """Ridge coefficients (with intercept; ``lam`` times the sample count on the diagonal)."""
    a1 = np.c_[a, np.ones(len(a))]
    return np.linalg.solve(a1.T @ a1 + lam * len(a1) * np.eye(a1.shape[1]), a1.T @ y)


def apply(a: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Predictions of a :func:`ridge` fit."""
    return np.c_[a, np.ones(len(a))] @ coef


def main() -> None:
    """Print the test MSE of each model."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--features", type=int, nargs="*", default=[256, 2048, 8192])
    ap.add_argument("--bins", type=int, nargs="*", default=[4, 8, 16, 48])
    a = ap.parse_args()
    dm = TimeSeriesDataModule(lags=48, predict="change")
    z, x, w, s = dm.series[:, 0].astype(np.float64), dm.inputs.astype(np.float64), dm.window, dm.change_scale
    sin, cos = dm.columns.index("tod_sin"), dm.columns.index("tod_cos")

    def rows(split: str):
        lo, hi = dm.spans[["train", "val", "test"].index(split)]
        t = np.arange(lo + w - 1, hi - 1)  # the last input step of every window
        slot = np.rint((np.arctan2(x[t, sin], x[t, cos]) / (2 * np.pi)) % 1.0 * 48).astype(int) % 48
        return x[t], dm.targets[t + 1].astype(np.float64), slot, z[t], z[t + 1]

    xtr, ytr, str_, _, _ = rows("train")
    xte, _, ste, zte, z1te = rows("test")

    def score(change: np.ndarray) -> float:
        return float(np.mean((zte + s * change - z1te) ** 2))

    print(f"vic_elec, window {w}, lags 48, next-step change; test MSE on the normalised level "
          f"({len(xtr)} training rows, {len(xte)} test rows)")
    print(f"one linear map: {score(apply(xte, ridge(xtr, ytr, 1e-6))):.5f}")
    onehot = np.eye(48)
    c = ridge(np.c_[xtr, onehot[str_]], ytr, 1e-6)
    print(f"one linear map + an offset per half-hour: {score(apply(np.c_[xte, onehot[ste]], c)):.5f}")
    for k in a.bins:
        pred = np.zeros(len(xte))
        for b in range(k):
            tr, te = str_ * k // 48 == b, ste * k // 48 == b
            pred[te] = apply(xte[te], ridge(xtr[tr], ytr[tr], 1e-4 if k < 48 else 1e-3))
        print(f"one linear map per part of the day, {k} parts: {score(pred):.5f}")
    g = np.random.default_rng(0)
    mu, sd = xtr.mean(0), xtr.std(0) + 1e-6
    for n in a.features:
        r, b = g.standard_normal((x.shape[1], n)) / np.sqrt(x.shape[1]), g.standard_normal(n)
        ftr, fte = (np.maximum((v - mu) / sd @ r + b, 0) for v in (xtr, xte))
        c = ridge(np.c_[ftr, xtr], ytr, 1e-3)
        print(f"{n} random ReLU features + the input, ridge readout: {score(apply(np.c_[fte, xte], c)):.5f}")


if __name__ == "__main__":
    main()
