"""What a timeseries_elec forecaster would gain from knowing its own previous errors.

A trained forecaster makes one forecast per test (and validation) window; consecutive windows end at
consecutive steps, so when the window ending at step ``t`` is forecast, the error of the forecast made one step
earlier (for step ``t``, now observed) is known. This probe fits, on the validation span by least squares,
``forecast + sum_j beta_j * error_{t-j}`` for the last ``k`` errors and scores it on the test span, next to the
model's own test MSE and the lag-1 autocorrelation of its errors. A large gain says the model's errors persist
from step to step, which a recurrence trained through time can learn to correct and a per-position rule cannot
see; it is an upper-bound style estimate for feeding the previous error back as an input.

Usage: python -m bsd.probes.forecast_error_probe RUN_DIR [RUN_DIR ...] [--lags 1 2 4 8] [--batch 512]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf

from ..data.timeseries import TimeSeriesDataModule
from ..tasks import ForecastModule


def forecasts(model: ForecastModule, dm: TimeSeriesDataModule, split: str, batch: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """Forecast and target of every window of ``split``, in time order, in normalised level units."""
    ds = dm.windows(split)
    preds, targets = [], []
    with torch.no_grad():
        for i in range(0, len(ds), batch):
            items = [ds[j] for j in range(i, min(i + batch, len(ds)))]
            x = torch.stack([it[0] for it in items])
            y = torch.stack([it[1] for it in items])
            y = y[:, -1, 0] if y.dim() == 3 else y[:, -1]
            preds.append(model(x)[:, -1, 0].double().numpy())
            targets.append(y.double().numpy())
    k = model.level_scale
    return np.concatenate(preds) * k, np.concatenate(targets) * k


def error_design(err: np.ndarray, lags: int) -> np.ndarray:
    """``[N - lags, lags]``: for each forecast from the ``lags``-th on, the errors 1..lags steps before it."""
    return np.stack([err[lags - j:len(err) - j] for j in range(1, lags + 1)], axis=1)


def fed_back_mse(val_err: np.ndarray, test_err: np.ndarray, k: int, skip: int) -> float:
    """Test MSE of the forecasts corrected by the last ``k`` errors (coefficients fitted on the validation errors).

    The first ``skip >= k`` forecasts of each span are left out, so that rows with different ``k`` compare alike.
    """
    a, at = error_design(val_err, k)[skip - k:], error_design(test_err, k)[skip - k:]
    beta, *_ = np.linalg.lstsq(a, val_err[skip:], rcond=None)
    return float(np.mean((test_err[skip:] - at @ beta) ** 2))


def probe(run_dir: Path, lags: list[int], batch: int) -> None:
    """Print one run's table."""
    cfg = OmegaConf.load(run_dir / "config_resolved.yaml")
    data = OmegaConf.to_container(cfg.data)
    data.pop("_target_", None)
    dm = TimeSeriesDataModule(**data)
    model = ForecastModule.load_from_checkpoint(run_dir / "checkpoints" / "last.ckpt", map_location="cpu").eval()
    pv, yv = forecasts(model, dm, "val", batch)
    pt, yt = forecasts(model, dm, "test", batch)
    ev, et = yv - pv, yt - pt
    rho = float(np.corrcoef(et[1:], et[:-1])[0, 1])
    print(f"{run_dir} (rule {cfg.model.rule}): test MSE {np.mean(et ** 2):.5f}, lag-1 error autocorrelation "
          f"{rho:.3f} ({len(et)} test forecasts)")
    print("| previous errors fed back | test MSE | change |\n|---|---|---|")
    m = max(lags)
    base = float(np.mean(et[m:] ** 2))
    print(f"| none | {base:.5f} | |")
    for k in lags:
        mse = fed_back_mse(ev, et, k, m)
        print(f"| {k} | {mse:.5f} | {100 * (mse / base - 1):+.0f} % |")


def main() -> None:
    """Probe every run directory named."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run_dirs", type=Path, nargs="+")
    p.add_argument("--lags", type=int, nargs="+", default=[1, 2, 4, 8])
    p.add_argument("--batch", type=int, default=512)
    a = p.parse_args()
    torch.set_num_threads(1)
    for d in a.run_dirs:
        probe(d, a.lags, a.batch)


if __name__ == "__main__":
    main()
