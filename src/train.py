"""Hydra entry point: ``python src/train.py +experiment=NAME [key=value ...]``."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run from a checkout without installing

import hydra  # noqa: E402
from hydra.core.hydra_config import HydraConfig  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

import bsd.config  # noqa: E402, F401 - registers the typed config schemas with Hydra
from bsd.errors import user_errors  # noqa: E402


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> float | None:
    """Train and test one configuration; returns the test accuracy (for sweepers)."""
    from bsd.train import run  # noqa: PLC0415 - import after Hydra parsed the command line (fast --help)

    with user_errors():
        hc = HydraConfig.get()
        metrics = run(cfg, hc.runtime.output_dir, list(hc.overrides.task))
    return metrics["test"].get("test/acc")


if __name__ == "__main__":
    main()
