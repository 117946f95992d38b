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

from .ae_module import AutoencoderModule
from .callbacks import EpochTimer, TimeToTarget, WeightEMA
from .loggers import build_logger
from .module import BSDModule, RuleModule
from .observe import SpikeMonitor
from .runs import AtomicCheckpointIO, atomic_write_bytes, atomic_write_json, format_table, peak_memory_mb
from .seq_module import SequenceBSDModule

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
    module = build_module(cfg.model, dm, cfg.get("generation"))  # validates the model config before data work
    ema_cfg = cfg.get("ema") or {}
    ema = None  # built (and so checked) before any data work
    if ema_cfg.get("decay") is not None:
        if type(module) is not BSDModule:
            raise ValueError(f"ema.decay is supported for the image classifiers (model=mlp or model=cnn), not "
                             f"model.arch={cfg.model.arch!r}; set ema.decay=null")
        ema = WeightEMA(float(ema_cfg.decay), int(ema_cfg.get("start_epoch") or 0))
    dm.prepare_data()
    dm.setup("fit")
    gen_info: dict[str, Any] = {}
    if isinstance(module, AutoencoderModule):
        module.grid_dir = out / "grids"
        gen_info = setup_fid(module, cfg.generation, dm, cfg.seed) if cfg.get("test", True) else {}

    name = f"{cfg.experiment_name}-{cfg.model.rule}-s{cfg.seed}"
    logger = build_logger(cfg.logger, out, name, OmegaConf.to_container(cfg, resolve=True),
                          resume=cfg.get("resume") is not None)
    ckpt = ModelCheckpoint(dirpath=out / "checkpoints", filename="best", monitor=module.monitor[0],
                           mode=module.monitor[1], save_last=True, auto_insert_metric_name=False,
                           enable_version_counter=False)
    timer = EpochTimer()
    callbacks = [ckpt, timer]
    ttt = cfg.get("time_to_target")
    to_target = None
    if ttt is not None and ttt.get("target") is not None:
        to_target = TimeToTarget(ttt.metric, ttt.target, ttt.get("mode", "max"))
        callbacks.append(to_target)
    if ema is not None:
        callbacks.append(ema)
    obs = cfg.get("observe")
    if obs is not None and obs.enabled and isinstance(module, BSDModule):
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
        if ema is not None and best is not None:  # the raw weights of the same checkpoint, for comparison
            raw = torch.load(best, map_location="cpu", weights_only=False).get("current_model_state")
            if raw is not None:
                module.load_state_dict(raw)
                res = trainer.test(module, datamodule=dm, verbose=False)
                test |= {k.replace("test/", "test_raw/", 1): _scalar(v) for k, v in (res[0] if res else {}).items()}

    extra: dict[str, Any] = {}
    if isinstance(module, AutoencoderModule):
        batch = next(iter(dm.test_dataloader()))[0]
        module.write_grid(batch, "final")
        grids = sorted(str(p.relative_to(out)) for p in (out / "grids").glob("*.png"))
        extra["generation"] = {**gen_info, "grids": grids}
    if hasattr(dm, "floors") and cfg.get("floors", True):
        extra["floors"] = dm.floors()
    sample = cfg.get("sample")
    if isinstance(module, SequenceBSDModule) and module.task == "classify" and sample and sample.length > 0:
        extra["sample"] = {"prompt": sample.prompt, "temperature": sample.temperature,
                           "text": module.generate(sample.prompt, sample.length, sample.temperature, cfg.seed)}
        atomic_write_bytes(out / "sample.txt", (sample.prompt + extra["sample"]["text"] + "\n").encode())
        _log_text(logger, "sample", sample.prompt + extra["sample"]["text"])

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
        # the best value of the monitored metric (accuracy or MSE; runs before 2026-12-02 wrote it as best_val_acc)
        "best_val": {"metric": module.monitor[0], "mode": module.monitor[1],
                     "value": _scalar(ckpt.best_model_score) if ckpt.best_model_score is not None else None},
        "test": test,
        "wall_time_s": time.perf_counter() - t_start,
        "epoch_times_s": timer.times,
        "time_per_epoch_s": sum(timer.times) / len(timer.times) if timer.times else None,
        **({"time_to_target": to_target.result} if to_target is not None else {}),
        "ema_decay": ema.decay if ema is not None else None,
        "criteria": list(module.rule.criteria),
        "monitor": list(module.monitor),
        **extra,
        "command": "python src/train.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        **peak_memory_mb(),
    }
    if "wandb" in sys.modules and getattr(sys.modules["wandb"], "run", None) is not None:
        sys.modules["wandb"].finish()  # flush and close this run (the next run in the process gets its own)
    atomic_write_json(out / "metrics.json", metrics)
    rows = [("experiment", metrics["experiment"]), ("rule", metrics["rule"]), ("seed", metrics["seed"]),
            ("epochs", metrics["epochs"])]
    rows += [(k, v) for k, v in sorted(val.items())] + [(k, v) for k, v in sorted(test.items())]
    if to_target is not None:
        r = to_target.result
        rows.append((f"time to {r['metric']} >= {r['target']} (s)",
                     f"{r['train_time_s']:.1f}" if r["reached"] else f"not reached (best {r.get('best')})"))
    rows += [("time/epoch (s)", metrics["time_per_epoch_s"] or 0.0), ("wall time (s)", metrics["wall_time_s"]),
             ("peak RSS (MB)", metrics["peak_rss_mb"]), ("run dir", str(out))]
    print(format_table(rows, title=f"BSD result: {name}"), flush=True)
    if extra.get("floors"):
        frows = [(f"{k}: {m}", v) for k, d in extra["floors"].items() for m, v in d.items()]
        print(format_table(frows, title="floors (same code, same test split)"), flush=True)
    if "sample" in extra:
        print(f"--- sample (prompt {sample.prompt!r}, temperature {sample.temperature}) ---\n"
              f"{sample.prompt}{extra['sample']['text']}\n---", flush=True)
    return metrics


def build_module(model_cfg: DictConfig, dm, generation: DictConfig | None = None) -> RuleModule:
    """The LightningModule for ``model.arch`` on this data; a clear error when they do not fit."""
    task = getattr(dm, "task", "image")
    if model_cfg.arch == "ae":
        if task != "image":
            raise ValueError(f"model=ae (image generation) needs image data (data=mnist or fashion_mnist), got "
                             f"{task!r} data")
        g = generation or {}
        return AutoencoderModule(model_cfg, dm.in_shape, dm.name, n_fit=int(g.get("n_fit", 10000)),
                                 grid_every=int(g.get("grid_every", 1)), n_grid=int(g.get("n_grid", 8)))
    if model_cfg.arch == "rnn":
        if task == "image":
            raise ValueError("model=rnn needs sequence data (data=shakespeare, text_file, vic_elec or "
                             "csv_timeseries); use model=mlp or model=cnn for images")
        return SequenceBSDModule(model_cfg, **dm.module_kwargs())
    if task != "image":
        raise ValueError(f"model.arch={model_cfg.arch!r} needs image data; sequence data needs model=rnn")
    return BSDModule(model_cfg, dm.in_shape, dm.num_classes)


def setup_fid(module: AutoencoderModule, gen: DictConfig, dm, seed: int) -> dict[str, Any]:
    """Load (training and caching it first if needed) the FID feature network and hand it to the module.

    Runs before training, so a missing or wrong feature-network file stops the run before any work.
    """
    from .fid import InceptionFID, ensure_feature_net

    fid = gen.fid
    if not fid.enabled:
        return {}
    path, net, meta = ensure_feature_net(fid.get("features"), dm, log=log.info)
    inception = None
    if fid.get("inception_weights"):
        inception = (InceptionFID(fid.inception_weights), InceptionFID(fid.inception_weights))
    module.set_fid(net, inception, int(fid.n_samples), seed)
    return {"feature_net": str(path), "feature_net_sha256": meta["sha256"],
            "feature_net_test_acc": meta.get("test_acc"), "feature_net_command": meta.get("command"),
            "fid_n_samples": int(fid.n_samples),
            "inception": bool(inception)}


def _log_text(logger, key: str, text: str) -> None:
    """Log a generated text to W&B (as a one-cell table) when the run logs there."""
    exp = getattr(logger, "experiment", None)
    if logger is not None and type(logger).__name__ == "WandbLogger" and exp is not None:
        import wandb

        exp.log({key: wandb.Table(columns=["text"], data=[[text]])})
