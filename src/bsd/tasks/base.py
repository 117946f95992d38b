"""BSDModule: the LightningModule every task shares (the forward and backward nets, the rule, the optimiser).

A task (classify, text, forecast, autoencoder) is a small subclass: its metrics, its evaluation and the
callbacks that write its artefacts (text samples, image grids, floors, FID). Every subclass is built from
its typed model config and what the data says about itself (:meth:`BSDModule.from_data`).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, ClassVar

import lightning as L
import torch
from torchmetrics import MeanMetric

from ..config import ModelConfig, RunConfig, model_from_dict, plain


class NonFiniteLossError(FloatingPointError):
    """Raised when a training loss is NaN or infinite (training stops, no checkpoint is written)."""


def adamw(params, impl: str = "fused", **kwargs) -> torch.optim.AdamW:
    """AdamW with the named implementation (``model.optimizer.impl``): the same update, different kernels."""
    flags = {"fused": {"fused": True}, "foreach": {"foreach": True}, "for_loop": {"foreach": False}}[str(impl)]
    return torch.optim.AdamW(params, **kwargs, **flags)


class BSDModule(L.LightningModule):
    """Holds the forward and backward spiking nets of one task (``stack``), its target ``code`` and its ``rule``.

    Shared here: the rule's training step with a NaN guard, per-epoch step time and peak memory, AdamW with
    an optional cosine schedule, and ``artefacts`` (what the task's callbacks add to ``metrics.json``).
    """

    #: (metric, mode) the best checkpoint is chosen by
    monitor: ClassVar[tuple[str, str]] = ("val/acc", "max")
    #: the task's name (saved in checkpoints under ``bsd``): classify | text | forecast | generate
    task: ClassVar[str] = ""
    #: what ``data`` must provide (the DataModule's ``kind``) and the architectures this task trains
    data_kind: ClassVar[str] = "image"
    archs: ClassVar[tuple[str, ...]] = ()

    def __init__(self, model: ModelConfig | dict[str, Any], **data_info: Any) -> None:
        super().__init__()
        self.cfg: ModelConfig = model_from_dict(model)
        self.save_hyperparameters({"model": plain(self.cfg), **data_info})
        self.step_time = MeanMetric()
        self._t0 = 0.0
        #: extra entries for metrics.json, filled by the task's callbacks (floors, sample, generation)
        self.artefacts: dict[str, Any] = {}
        #: what checkpoints record about the run (experiment, arch, rule, W&B run id), set by ``bsd.train.run``
        self.run_info: dict[str, Any] = {}

    # ---- construction ---------------------------------------------------------------
    @classmethod
    def from_data(cls, cfg: RunConfig, dm: Any) -> BSDModule:
        """The module of this run on the data module ``dm`` (each task reads the settings it needs)."""
        raise NotImplementedError

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Record which task and module class the checkpoint holds (read by ``bsd.generate``)."""
        checkpoint["bsd"] = {"task": self.task, "module": f"{type(self).__module__}.{type(self).__qualname__}",
                             **self.run_info}

    def task_callbacks(self, cfg: RunConfig, run_dir: Path) -> list[L.Callback]:
        """Callbacks that produce this task's artefacts; refuses run settings the task does not support."""
        if cfg.ema.decay is not None:
            raise ValueError(f"ema.decay is supported for the image classifiers (model=mlp or model=cnn), not "
                             f"model.arch={self.cfg.arch!r}; set ema.decay=null")
        return []

    def test_checkpoint(self, trainer: L.Trainer, dm: Any, ckpt_path: str | None) -> dict[str, Any]:
        """Test the weights of ``ckpt_path`` (the current ones if None); the logged test metrics."""
        res = trainer.test(self, datamodule=dm, ckpt_path=ckpt_path, verbose=False, weights_only=True)
        return {k: _scalar(v) for k, v in (res[0] if res else {}).items()}

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        """Batch input as the rule expects it."""
        return x

    # ---- training -------------------------------------------------------------------
    def on_train_batch_start(self, batch, batch_idx) -> None:  # noqa: D102
        self._t0 = time.perf_counter()

    def training_step(self, batch, batch_idx):  # noqa: D102
        x, y = batch
        loss, logs = self.rule.loss(self.stack, self.code, self.inputs(x), y, **self._local_kwargs())
        if not torch.isfinite(loss):
            raise NonFiniteLossError(
                f"training loss is {loss.item()} at epoch {self.current_epoch}, step {self.global_step} "
                f"(rule {self.rule.name}). Nothing was checkpointed from this step. Lower model.optimizer.lr, "
                "keep trainer.gradient_clip_val set, or check the input data for NaNs.")
        self.log("train/loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(y))
        self.log_dict({f"train/{k}": v for k, v in logs.items()}, on_step=False, on_epoch=True, batch_size=len(y))
        return loss

    def _local_kwargs(self) -> dict[str, float]:
        """What a layer-local rule's loss needs from the trainer: the loss scale of float16 mixed precision.

        A rule that takes each layer's gradient inside its loss (``model.backward=layer``) differentiates the
        scaled loss, as the trainer's backward pass would, so that small float16 gradients do not underflow.
        """
        if not getattr(self.rule, "layer_local", False):
            return {}
        scaler = getattr(getattr(self._trainer, "precision_plugin", None), "scaler", None)
        return {"grad_scale": float(scaler.get_scale())} if scaler is not None and scaler.is_enabled() else {}

    def on_train_batch_end(self, outputs, batch, batch_idx) -> None:  # noqa: D102
        self.step_time.update(time.perf_counter() - self._t0)

    def on_train_epoch_end(self) -> None:  # noqa: D102
        from ..runs import peak_memory_mb

        self.log("perf/step_time_s", self.step_time.compute())
        self.step_time.reset()
        self.log_dict({f"perf/{k}": v for k, v in peak_memory_mb().items()})

    # ---- optimisation ---------------------------------------------------------------
    def total_steps(self) -> int:
        """Optimiser steps of the whole run (the cosine schedule's length).

        Counted from the data module directly rather than by Lightning's ``estimated_stepping_batches``, which
        builds the training loader before a resumed run's loader state is restored.
        """
        t = self.trainer
        if t.datamodule is None or t.fast_dev_run:
            return int(t.estimated_stepping_batches)
        steps = _steps_per_epoch(t) * t.max_epochs
        return min(steps, t.max_steps) if t.max_steps != -1 else steps

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None) -> None:
        """``trainer.gradient_clip_val`` over all gradients, or per layer / not at all for a layer-local rule.

        ``model.optimizer.clip_local`` decides for rules whose losses each reach one layer (``rule.layer_local``):
        one norm over every layer couples their updates, which such a rule otherwise never does.
        """
        scope = str(self.cfg.optimizer.clip_local)
        if gradient_clip_val is None or not getattr(self.rule, "layer_local", False) or scope == "all":
            super().configure_gradient_clipping(optimizer, gradient_clip_val, gradient_clip_algorithm)
            return
        if scope == "off":
            return
        for layer in self.stack.layers:
            grads = [p for p in layer.parameters() if p.grad is not None]
            if not grads:
                continue
            if gradient_clip_algorithm == "value":
                torch.nn.utils.clip_grad_value_(grads, gradient_clip_val)
            else:
                torch.nn.utils.clip_grad_norm_(grads, gradient_clip_val)

    def configure_optimizers(self):  # noqa: D102
        o = self.cfg.optimizer
        params = [p for p in self.stack.parameters() if p.requires_grad]  # model.reco.theta=fixed freezes some
        opt = adamw(params, o.impl, lr=o.lr, weight_decay=o.weight_decay, betas=tuple(o.betas))
        if o.scheduler == "none":
            return opt
        s = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, int(self.total_steps())))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": s, "interval": "step"}}


def _steps_per_epoch(trainer: L.Trainer) -> int:
    """Optimiser steps in one epoch of this process, counted from the data module's training set."""
    loader = trainer.datamodule.train_dataloader()
    per_process = math.ceil(len(loader.dataset) / trainer.world_size)
    batches = math.ceil(per_process / loader.batch_size)
    limit = trainer.limit_train_batches
    batches = min(batches, int(limit)) if isinstance(limit, int) else int(batches * limit)
    return math.ceil(batches / trainer.accumulate_grad_batches)


def _scalar(v: Any) -> Any:
    return v.item() if isinstance(v, torch.Tensor) else v
