"""Accuracy of a weight-averaged checkpoint on one validation batch, four ways.

The average, the raw weights, the raw weights with the average's BatchNorm statistics, and the average with the
raw weights' statistics.

Usage: python -m bsd.probes.ema_probe RUN_DIR [--ckpt last.ckpt]  (a run trained with ema.decay set)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from ..tasks import ClassifyModule


def main() -> None:
    """Print the four accuracies."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--ckpt", default="last.ckpt")
    args = ap.parse_args()
    ck = torch.load(args.run_dir / "checkpoints" / args.ckpt, weights_only=True, map_location="cpu")
    if "current_model_state" not in ck:
        raise SystemExit(f"{args.run_dir}: this checkpoint holds no weight average (train with ema.decay set)")
    hp = ck["hyper_parameters"]
    module = ClassifyModule(hp["model"], hp["in_shape"], hp["num_classes"]).eval()
    dm = instantiate(OmegaConf.load(args.run_dir / "config_resolved.yaml").data)
    dm.prepare_data()
    dm.setup("fit")
    x, y = next(iter(dm.val_dataloader()))
    avg, raw = ck["state_dict"], ck["current_model_state"]

    def stats_from(weights: dict, stats: dict) -> dict:
        return {k: (stats[k] if "running_" in k else v) for k, v in weights.items()}

    for name, sd in (("average", avg), ("raw", raw), ("raw weights, averaged BN statistics", stats_from(raw, avg)),
                     ("averaged weights, raw BN statistics", stats_from(avg, raw))):
        module.load_state_dict(sd)
        with torch.no_grad():
            acc = (module(x).argmax(1) == y).float().mean().item()
        print(f"{name}: {100 * acc:.1f} % on the first validation batch ({len(y)} images)")


if __name__ == "__main__":
    main()
