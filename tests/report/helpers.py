"""Small run directories for the report's tests."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from bsd.report.labels import default_config


def default(experiment: str, rule: str, key: str):
    """Today's default of ``key`` for ``experiment`` under ``rule``."""
    return default_config(experiment, rule)[key]


def write_run(root: Path, exp: str, rule: str, seed: int, test: dict | None, *, arch: str = "mlp",
              model: dict | None = None, data: dict | None = None, trainer: dict | None = None, cfg: dict | None = None,
              variant: str | None = None, epochs: int = 2, device: str = "cpu", command: str | None = None,
              name: str | None = None, curve: list[float] | None = None, **metrics) -> Path:
    """A run directory: a stored config with only the given keys (the rest is today's default), metrics.json
    unless ``test`` is None, and a CSV log of validation accuracies when ``curve`` is given."""
    d = root / (name or f"{exp}/{rule}/seed{seed}{'_' + variant if variant else ''}")
    d.mkdir(parents=True)
    c = {"experiment_name": exp, "seed": seed, "variant": variant,
         "model": {"arch": arch, "rule": rule, **(model or {})}, **({"data": data} if data else {}),
         **({"trainer": trainer} if trainer else {}), **(cfg or {})}
    (d / "config_resolved.yaml").write_text(yaml.safe_dump(c))
    if curve is not None:
        (d / "csv").mkdir()
        (d / "csv" / "metrics.csv").write_text(
            "epoch,step,train/loss,val/acc\n" + "".join(f"{i},{10 * i},0.5,\n{i},{10 * i + 9},,{v}\n"
                                                         for i, v in enumerate(curve)))
    if test is not None:
        m = {"experiment": exp, "rule": rule, "arch": arch, "seed": seed, "dataset": "mnist", "variant": variant,
             "epochs": epochs, "test": test, "time_per_epoch_s": 3.0, "device": device,
             "command": command or f"python src/train.py +experiment={exp} model.rule={rule} seed={seed}", **metrics}
        (d / "metrics.json").write_text(json.dumps(m))
    return d
