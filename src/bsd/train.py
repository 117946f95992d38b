"""Training entry point logic (``src/train.py`` is the thin Hydra wrapper around :func:`run`)."""

from __future__ import annotations

import logging
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.utils import instantiate
from lightning.pytorch.callbacks import ModelCheckpoint
from omegaconf import DictConfig, OmegaConf

from .callbacks import EpochTimer
from .loggers import build_logger
from .module import BSDModule
from .observe import SpikeMonitor
from .runs import AtomicCheckpointIO, atomic_write_bytes, atomic_write_json, format_table, peak_memory_mb

log = logging.getLogger("bsd")


def _scalar(v: Any) -> Any:
    return v.item() if isinstance(v, torch.Tensor) else v


def run(cfg: DictConfig, out_dir: str | Path) -> dict[str, Any]:
    """Fit, test, write ``metrics.json`` and return it. ``out_dir`` is the Hydra run directory."""
    out = Path(out_dir)
    t_start = time.perf_counter()
    atomic_write_bytes(out / "config_resolved.yaml", OmegaConf.to_yaml(cfg, resolve=True).encode())
    torch.set_num_threads(cfg.get("threads") or torch.get_num_threads())
    L.seed_everything(cfg.seed, workers=True)

    dm = instantiate(cfg.data)
    module = BSDModule(cfg.model, dm.in_shape, dm.num_classes)  # validates the model config before any data work
    dm.prepare_data()
    dm.setup("fit")

    name = f"{cfg.experiment_name}-{cfg.model.rule}-s{cfg.seed}"
    logger = build_logger(cfg.logger, out, name, OmegaConf.to_container(cfg, resolve=True))
    ckpt = ModelCheckpoint(dirpath=out / "checkpoints", filename="best", monitor="val/acc", mode="max",
                           save_last=True, auto_insert_metric_name=False, enable_version_counter=False)
    timer = EpochTimer()
    callbacks = [ckpt, timer]
    obs = cfg.get("observe")
    if obs is not None and obs.enabled:
        callbacks.append(SpikeMonitor(obs.raster_every, obs.n_samples, out / "rasters"))
    trainer = L.Trainer(**OmegaConf.to_container(cfg.trainer, resolve=True), logger=logger,
                        callbacks=callbacks, plugins=[AtomicCheckpointIO()], default_root_dir=str(out))
    trainer.fit(module, datamodule=dm, ckpt_path=cfg.get("resume"))
    val = {k: _scalar(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}

    test: dict[str, Any] = {}
    if cfg.get("test", True):
        best = ckpt.best_model_path if ckpt.best_model_path and Path(ckpt.best_model_path).is_file() else None
        res = trainer.test(module, datamodule=dm, ckpt_path=best, verbose=False)
        test = {k: _scalar(v) for k, v in (res[0] if res else {}).items()}

    metrics = {
        "experiment": cfg.experiment_name,
        "variant": cfg.get("variant"),
        "device": torch.cuda.get_device_name() if trainer.strategy.root_device.type == "cuda" else "cpu",
        "rule": cfg.model.rule,
        "arch": cfg.model.arch,
        "dataset": cfg.data.name,
        "seed": cfg.seed,
        "T": cfg.model.T if cfg.model.rule != "bp_ann" else 1,
        "epochs": trainer.current_epoch,
        "val": val,
        "best_val_acc": _scalar(ckpt.best_model_score) if ckpt.best_model_score is not None else None,
        "test": test,
        "wall_time_s": time.perf_counter() - t_start,
        "epoch_times_s": timer.times,
        "time_per_epoch_s": sum(timer.times) / len(timer.times) if timer.times else None,
        "criteria": list(module.rule.criteria),
        "command": "python src/train.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        **peak_memory_mb(),
    }
    if "wandb" in sys.modules and getattr(sys.modules["wandb"], "run", None) is not None:
        sys.modules["wandb"].finish()  # flush and close this run (the next run in the process gets its own)
    atomic_write_json(out / "metrics.json", metrics)
    rows = [("experiment", metrics["experiment"]), ("rule", metrics["rule"]), ("seed", metrics["seed"]),
            ("epochs", metrics["epochs"])]
    rows += [(k, v) for k, v in sorted(val.items())] + [(k, v) for k, v in sorted(test.items())]
    rows += [("time/epoch (s)", metrics["time_per_epoch_s"] or 0.0), ("wall time (s)", metrics["wall_time_s"]),
             ("peak RSS (MB)", metrics["peak_rss_mb"]), ("run dir", str(out))]
    print(format_table(rows, title=f"BSD result: {name}"), flush=True)
    return metrics
