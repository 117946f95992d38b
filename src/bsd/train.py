"""One run: build data, task module, callbacks and trainer from the composed config; fit, test, write metrics.json.

``src/train.py`` is the thin Hydra wrapper around :func:`run`. Nothing here asks which task it runs: the task
module adds its own callbacks and artefacts (:meth:`bsd.tasks.BSDModule.task_callbacks`).
"""

from __future__ import annotations

import shlex
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.utils import instantiate
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities.rank_zero import rank_zero_only
from omegaconf import DictConfig, OmegaConf

from .callbacks import EpochTimer, TimeToTarget
from .config import RunConfig, plain, to_objects
from .data import derive
from .loggers import build_logger
from .resume import ResumeState, resolve_resume
from .rules import family_of, lookup
from .runs import (
    AtomicCheckpointIO,
    atomic_write_bytes,
    atomic_write_json,
    format_table,
    git_commit,
    load_checkpoint,
    peak_memory_mb,
)
from .tasks import BSDModule, build_module


def run(cfg: DictConfig, out_dir: str | Path, overrides: list[str] | None = None) -> dict[str, Any]:
    """Fit, test, write ``metrics.json`` into ``out_dir`` (the run directory) and return it.

    ``overrides``: the command line's Hydra overrides, recorded so the run can be repeated.
    """
    out = Path(out_dir)
    t_start = time.perf_counter()
    dm, derived = None, {}
    if derive.unset(cfg):  # keys the series decides (bsd.data.derive): read it first, then check the whole config
        dm = data_module(cfg)
        derived = derive.fill(cfg, dm)
    conf: RunConfig = to_objects(cfg)  # every range check, before anything else is written or read
    lookup(family_of(conf.model.arch), conf.model.rule)  # an unknown rule for this family, before any data
    resume = resolve_resume(conf.resume, out, conf.experiment_name, conf.model.arch)
    if resume is not None and conf.resume != "auto" and Path(resume).parent.name == "checkpoints":
        out = Path(resume).parent.parent  # a run resumed by path goes on in its own directory
    if rank_zero_only.rank == 0:  # under DDP every process runs this function; one writes the run's files
        atomic_write_bytes(out / "config_resolved.yaml", OmegaConf.to_yaml(cfg, resolve=True).encode())
    torch.set_num_threads(conf.threads or torch.get_num_threads())
    L.seed_everything(conf.seed, workers=True)

    dm = dm if dm is not None else data_module(cfg)
    module = build_module(conf, dm)
    run_id = (load_checkpoint(resume).get("bsd") or {}).get("wandb_id") if resume else None
    module.run_info = {"experiment": conf.experiment_name, "arch": conf.model.arch, "rule": conf.model.rule,
                       "wandb_id": run_id}
    ckpt = ModelCheckpoint(dirpath=out / "checkpoints", filename="best", monitor=module.monitor[0],
                           mode=module.monitor[1], save_last=True, auto_insert_metric_name=False,
                           enable_version_counter=False)
    timer = EpochTimer()
    ttt = conf.time_to_target
    to_target = TimeToTarget(ttt.metric, ttt.target, str(ttt.mode)) if ttt.target is not None else None
    callbacks = [ckpt, *mid_epoch_checkpoints(conf, out), ResumeState(), timer, *([to_target] if to_target else []),
                 *module.task_callbacks(conf, out), *(instantiate(c) for c in cfg.callbacks.values())]
    dm.prepare_data()
    dm.setup("fit")

    name = f"{conf.experiment_name}-{conf.model.rule}-s{conf.seed}"
    logger = build_logger(conf.logger, out, name, plain(cfg), resume=resume is not None, run_id=run_id,
                          monitor=module.monitor)
    if logger and type(logger).__name__ == "WandbLogger":
        module.run_info["wandb_id"] = logger.version
    trainer = L.Trainer(**trainer_kwargs(conf), logger=logger, callbacks=callbacks, plugins=[AtomicCheckpointIO()],
                        default_root_dir=str(out))
    split_batch(dm, trainer.world_size)
    trainer.fit(module, datamodule=dm, ckpt_path=resume, weights_only=True)
    val = {k: _scalar(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
    test: dict[str, Any] = {}
    if conf.test:
        best = ckpt.best_model_path if ckpt.best_model_path and Path(ckpt.best_model_path).is_file() else None
        test = module.test_checkpoint(trainer, dm, best)

    metrics = {
        "experiment": conf.experiment_name,
        "variant": conf.variant,
        "device": torch.cuda.get_device_name() if trainer.strategy.root_device.type == "cuda" else "cpu",
        "rule": conf.model.rule,
        "arch": conf.model.arch,
        "dataset": dm.name,
        "seed": conf.seed,
        "T": module.rule.T,
        "epochs": trainer.current_epoch,
        "processes": trainer.world_size,
        "val": val,
        "best_val": {"metric": module.monitor[0], "mode": module.monitor[1],
                     "value": _scalar(ckpt.best_model_score) if ckpt.best_model_score is not None else None},
        "test": test,
        **({"derived": derived} if derived else {}),
        "wall_time_s": time.perf_counter() - t_start,
        "epoch_times_s": timer.times,
        "time_per_epoch_s": sum(timer.times) / len(timer.times) if timer.times else None,
        **({"time_to_target": to_target.result} if to_target is not None else {}),
        "ema_decay": conf.ema.decay,
        "criteria": list(module.rule.criteria),
        "monitor": list(module.monitor),
        **module.artefacts,
        "command": "python src/train.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "overrides": list(overrides) if overrides is not None else None,
        "git_commit": git_commit(),
        **peak_memory_mb(),
    }
    if "wandb" in sys.modules and getattr(sys.modules["wandb"], "run", None) is not None:
        sys.modules["wandb"].finish()  # flush and close this run (the next run in the process gets its own)
    if trainer.is_global_zero:
        atomic_write_json(out / "metrics.json", metrics)
        print_summary(metrics, module, to_target, name, out)
    return metrics


def data_module(cfg: DictConfig) -> Any:
    """``cfg.data``'s DataModule; a data or value error it raises comes out as itself, not wrapped by Hydra."""
    from hydra.errors import InstantiationException

    from .data.sources import DataSourceError

    try:
        return instantiate(cfg.data)
    except InstantiationException as e:
        if isinstance(e.__cause__, (DataSourceError, ValueError)):
            raise e.__cause__ from None
        raise


def mid_epoch_checkpoints(conf: RunConfig, out: Path) -> list[ModelCheckpoint]:
    """``checkpoints/mid.ckpt`` every ``checkpoint.every_n_steps`` steps or ``every_minutes`` minutes of training."""
    c = conf.checkpoint
    if c.every_n_steps is None and c.every_minutes is None:
        return []
    when = ({"every_n_train_steps": c.every_n_steps} if c.every_n_steps is not None
            else {"train_time_interval": timedelta(minutes=c.every_minutes)})
    return [ModelCheckpoint(dirpath=out / "checkpoints", filename="mid", save_top_k=1, monitor=None,
                            enable_version_counter=False, save_on_train_epoch_end=False, **when)]


def split_batch(dm: Any, processes: int) -> None:
    """``data.batch_size`` is the batch of one step over all processes: each process takes its share.

    Refused when the processes cannot share it evenly (their ReCo would compare unequal halves).
    """
    if processes == 1:
        return
    if dm.batch_size % processes:
        raise ValueError(f"data.batch_size={dm.batch_size} is the batch of one step over all {processes} processes; "
                         f"choose a multiple of {processes}")
    dm.batch_size //= processes


def trainer_kwargs(conf: RunConfig) -> dict[str, Any]:
    """``lightning.Trainer`` arguments from ``trainer.*`` (null is Lightning's own default for every key there)."""
    return plain(conf.trainer)


def print_summary(metrics: dict[str, Any], module: BSDModule, to_target: TimeToTarget | None, name: str,
                  out: Path) -> None:
    """The result table, the floors and the generated sample, as the run ends."""
    rows = [(k, metrics[k]) for k in ("experiment", "rule", "seed", "epochs")]
    rows += [(f"{k} (derived)", v) for k, v in (metrics.get("derived") or {}).items()]
    rows += sorted(metrics["val"].items()) + sorted(metrics["test"].items())
    if to_target is not None:
        r = to_target.result
        rows.append((f"time to {r['metric']} >= {r['target']} (s)",
                     f"{r['train_time_s']:.1f}" if r["reached"] else f"not reached (best {r.get('best')})"))
    rows += [("time/epoch (s)", metrics["time_per_epoch_s"] or 0.0), ("wall time (s)", metrics["wall_time_s"]),
             ("peak RSS (MB)", metrics["peak_rss_mb"]), ("run dir", str(out))]
    print(format_table(rows, title=f"BSD result: {name}"), flush=True)
    if metrics.get("floors"):
        frows = [(f"{k}: {m}", v) for k, d in metrics["floors"].items() for m, v in d.items()]
        print(format_table(frows, title="floors (same code, same test split)"), flush=True)
    if s := metrics.get("sample"):
        print(f"--- sample (prompt {s['prompt']!r}, temperature {s['temperature']}) ---\n{s['prompt']}{s['text']}\n---",
              flush=True)


def _scalar(v: Any) -> Any:
    return v.item() if isinstance(v, torch.Tensor) else v
