"""bsd.probes.forecast_error_probe: feeding back previous errors removes what of them persists, and nothing else."""

import numpy as np

from tests.probes import load_probe


def load():
    return load_probe("forecast_error_probe")


def test_the_design_holds_the_errors_before_each_forecast():
    mod = load()
    d = mod.error_design(np.arange(6.0), 2)
    assert d.tolist() == [[1, 0], [2, 1], [3, 2], [4, 3]]  # row t: errors t-1, t-2 (from t = 2 on)


def ar1(phi, n, seed):
    rng = np.random.default_rng(seed)
    e = np.zeros(n)
    for t in range(1, n):
        e[t] = phi * e[t - 1] + rng.normal()
    return e


def test_persistent_errors_are_corrected_and_white_ones_are_not():
    mod = load()
    persistent = mod.fed_back_mse(ar1(0.8, 20000, 0), ar1(0.8, 20000, 1), 1, 4)
    base = float(np.mean(ar1(0.8, 20000, 1)[4:] ** 2))
    assert abs(persistent / base - (1 - 0.8 ** 2)) < 0.03  # the predictable share phi^2 of the variance is gone
    white = mod.fed_back_mse(ar1(0.0, 20000, 0), ar1(0.0, 20000, 1), 4, 4)
    assert abs(white / float(np.mean(ar1(0.0, 20000, 1)[4:] ** 2)) - 1) < 0.01
