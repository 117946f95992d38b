"""Linear probe of a trained forecaster's top hidden layer (timeseries_elec or data=csv_timeseries runs).

How much of the next value can a least-squares (ridge) readout recover from the time-averaged
spikes of the top hidden layer at the last position of each window, compared with the model's own
readout, with the last input step alone and with both? Also the effective dimensionality
(participation ratio) of the spike rates. Fits on evenly spaced training windows, scores on test.

Usage: python -m bsd.probes.forecast_probe RUN_DIR [--n-train 8000] [--n-test 4000] [--ridge 1e-3]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf

from ..data.timeseries import TimeSeriesDataModule
from ..rules.seq import reduce_positions
from ..tasks import ForecastModule


def last_position(model: ForecastModule, dm: TimeSeriesDataModule, split: str, n: int):
    """Hidden rates, last input step, model forecast and target at the last position of ``n`` windows."""
    ds = dm.windows(split)
    idx = torch.linspace(0, len(ds) - 1, min(n, len(ds))).long()
    x = torch.stack([ds[int(i)][0] for i in idx])
    y = torch.stack([ds[int(i)][1] for i in idx])[:, -1]
    y = y[:, 0] if y.dim() == 2 else y  # the scored horizon (data.aux_horizons adds columns)
    with torch.no_grad():
        spikes, _ = model.rule.run(model.stack, x)
        rates = reduce_positions(spikes[-1], model.rule.T)[-1]
        out = model.rule.readout(model.stack, spikes)[-1, :, 0]
    return tuple(t.double().numpy() for t in (rates, x[:, -1], out, y))


def ridge_mse(a: np.ndarray, y: np.ndarray, a_test: np.ndarray, y_test: np.ndarray, lam: float) -> float:
    """Test MSE of a ridge regression (with intercept) fitted on ``a, y``."""
    a1, t1 = np.c_[a, np.ones(len(a))], np.c_[a_test, np.ones(len(a_test))]
    w = np.linalg.solve(a1.T @ a1 + lam * np.eye(a1.shape[1]), a1.T @ y)
    return float(np.mean((t1 @ w - y_test) ** 2))


def main() -> None:
    """Print the probe table for one run directory."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run_dir", type=Path)
    p.add_argument("--n-train", type=int, default=8000)
    p.add_argument("--n-test", type=int, default=4000)
    p.add_argument("--ridge", type=float, default=1e-3)
    a = p.parse_args()
    torch.set_num_threads(1)
    cfg = OmegaConf.load(a.run_dir / "config_resolved.yaml")
    data = OmegaConf.to_container(cfg.data)
    data.pop("_target_", None)
    dm = TimeSeriesDataModule(**data)
    model = ForecastModule.load_from_checkpoint(a.run_dir / "checkpoints" / "last.ckpt", map_location="cpu").eval()
    h, x, _, y = last_position(model, dm, "train", a.n_train)
    ht, xt, out, yt = last_position(model, dm, "test", a.n_test)
    c = h - h.mean(0)
    e = np.linalg.svd(c, compute_uv=False) ** 2
    e = e / e.sum()
    k2 = dm.change_scale ** 2  # data.predict=change: errors on the change times its scale are errors on the level
    rows = {
        "model readout": k2 * float(np.mean((out - yt) ** 2)),
        "ridge on hidden rates": k2 * ridge_mse(h, y, ht, yt, a.ridge),
        "ridge on the last input step": k2 * ridge_mse(x, y, xt, yt, a.ridge),
        "ridge on both": k2 * ridge_mse(np.c_[h, x], y, np.c_[ht, xt], yt, a.ridge),
    }
    print(f"{a.run_dir} (rule {cfg.model.rule}; {len(h)} train / {len(ht)} test windows)")
    print(f"| readout | test MSE (normalised level; target: {dm.predict}) |\n|---|---|")
    for k, v in rows.items():
        print(f"| {k} | {v:.4f} |")
    print(f"hidden units {h.shape[1]}, mean rate {h.mean():.3f}, effective dimensions {1 / np.sum(e ** 2):.1f}")


if __name__ == "__main__":
    main()
