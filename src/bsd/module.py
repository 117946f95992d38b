"""BSDModule: the LightningModule that holds the stack and delegates training to a rule."""

from __future__ import annotations

import math
import time
from typing import Any

import lightning as L
import torch
from omegaconf import DictConfig, OmegaConf
from torchmetrics import MeanMetric, MetricCollection
from torchmetrics.classification import MulticlassAccuracy

from .coding import LabelCode
from .nets import build_stack, cnn_stages, mlp_stages
from .rules import RuleConfig, make_rule

ARCHS = ("mlp", "cnn")


class NonFiniteLossError(FloatingPointError):
    """Raised when a training loss is NaN or infinite (training stops, no checkpoint is written)."""


def lif_config(model_cfg: Any) -> dict:
    """LIF keyword arguments from ``model.neuron`` (validated)."""
    n = model_cfg.neuron
    if n.threshold <= 0:
        raise ValueError(f"model.neuron.threshold must be > 0, got {n.threshold}")
    return dict(threshold=n.threshold, beta=n.beta, reset=n.reset, surrogate=n.surrogate, alpha=n.alpha,
                compile=bool(n.get("compile", False)), graph=n.get("graph", "fused"))


def rule_config(model_cfg: Any) -> RuleConfig:
    """The settings every rule reads, from the ``model`` config group."""
    w = model_cfg.loss_weights
    freq = model_cfg.reco.get("frequency") or {}
    return RuleConfig(T=model_cfg.T, encoder=model_cfg.encoder, reduce_T=model_cfg.reduce_T,
                      lam=model_cfg.reco.lam, same_class=model_cfg.reco.same_class,
                      w_hidden=w.hidden if isinstance(w.hidden, (int, float)) else list(w.hidden),
                      w_concept=w.concept, w_recall=w.recall, decorrelation=model_cfg.get("decorrelation", 0.0),
                      reco_on=model_cfg.reco.get("on", "voltage"), reco_axis=model_cfg.reco.get("axis", "sample"),
                      reco_center=model_cfg.reco.get("center", "none"),
                      push_weight=model_cfg.reco.get("push_weight", "uniform"),
                      push_margin=model_cfg.reco.get("margin", "zero"), reco_pool=model_cfg.reco.get("pool"),
                      freq_cutoff=freq.get("cutoff") if freq.get("enabled", False) else None,
                      lam_low=freq.get("lam_low", 0.3), lam_high=freq.get("lam_high", 0.9),
                      w_high=float(freq.get("w_high", 1.0)),
                      image_readout=float(model_cfg.get("image_readout", 0.0)),
                      decoder_match=float(model_cfg.get("decoder_match", 0.0)),
                      through_time=model_cfg.reco.get("through_time", 0),
                      time_feedback=str(model_cfg.reco.get("time_feedback", "transport")),
                      time_path=str(model_cfg.reco.get("time_path", "rest")),
                      bp_credit=str(model_cfg.get("bp_credit", "sequence")),
                      free_units=float(model_cfg.reco.get("free_units", 0.0)))


THETA_MODES = ("learned", "fixed")


def apply_theta_mode(stack: Any, model_cfg: Any) -> Any:
    """``stack``, its hidden layers' apical weights frozen at their random init if ``model.reco.theta=fixed``.

    Our extension: the apical target becomes a fixed random projection of the code above, as in
    feedback alignment; the stimulus recall map stays learned. Only ``bsd`` reads Θ.
    """
    mode = str(model_cfg.reco.get("theta", "learned"))
    if mode not in THETA_MODES:
        raise ValueError(f"model.reco.theta must be one of {THETA_MODES}, got {mode!r}")
    if mode == "fixed":
        for layer in stack.hidden:
            for p in layer.apical_parameters():
                p.requires_grad_(False)
    return stack


def sample_axis_only(cfg: RuleConfig, arch: str) -> RuleConfig:
    """``cfg`` unchanged; an error if it asks for ReCo over units or code-weighted pushes (the rnn only)."""
    if cfg.reco_axis != "sample":
        raise ValueError(f"model.reco.axis={cfg.reco_axis!r} is implemented for model=rnn only; "
                         f"use model.reco.axis=sample with model.arch={arch}")
    if cfg.through_time:
        raise ValueError(f"model.reco.through_time={cfg.through_time} trains a recurrence through time; it is "
                         f"implemented for model=rnn only: use model.reco.through_time=0 with model.arch={arch}")
    if cfg.time_path != "rest":
        raise ValueError(f"model.reco.time_path={cfg.time_path} reads a recurrence's own simulation; it is "
                         f"implemented for model=rnn only: use model.reco.time_path=rest with model.arch={arch}")
    if cfg.bp_credit != "sequence":
        raise ValueError(f"model.bp_credit={cfg.bp_credit} sets how far back-propagation reaches through a recurrence; "
                         f"it is implemented for model=rnn only: use model.bp_credit=sequence with model.arch={arch}")
    if cfg.push_weight != "uniform":
        raise ValueError(f"model.reco.push_weight={cfg.push_weight!r} is implemented for model=rnn only; "
                         f"use model.reco.push_weight=uniform with model.arch={arch}")
    return cfg


def build_from_config(model_cfg: Any, in_shape: tuple[int, ...], num_classes: int):
    """Stack, label code and rule from the ``model`` config group."""
    arch = model_cfg.arch
    if arch not in ARCHS:
        raise ValueError(f"model.arch={arch!r} is unknown; choose one of {ARCHS}")
    code = LabelCode(num_classes, model_cfg.code.kind, model_cfg.code.get("dim"), model_cfg.code.get("density", 0.5),
                     model_cfg.code.get("seed", 0))
    if arch == "mlp":
        stages = mlp_stages(list(model_cfg.widths))
        in_shape = (math.prod(in_shape),)
    else:
        stages = cnn_stages(list(model_cfg.channels), list(model_cfg.fc))
    stack = apply_theta_mode(build_stack(in_shape, stages, code.dim, lif_config(model_cfg), norm=model_cfg.norm),
                             model_cfg)
    return stack, code, make_rule(model_cfg.rule, sample_axis_only(rule_config(model_cfg), arch))


ADAMW_IMPLS = ("fused", "foreach", "for_loop")


def adamw(params, impl: str = "fused", **kwargs) -> torch.optim.AdamW:
    """AdamW with the named implementation (``model.optimizer.impl``): the same update, different kernels."""
    if impl not in ADAMW_IMPLS:
        raise ValueError(f"model.optimizer.impl must be one of {ADAMW_IMPLS}, got {impl!r}")
    flags = {"fused": {"fused": True}, "foreach": {"foreach": True}, "for_loop": {"foreach": False}}[impl]
    return torch.optim.AdamW(params, **kwargs, **flags)


class RuleModule(L.LightningModule):
    """What every BSD LightningModule shares.

    A rule's training step with a NaN guard, per-epoch step time and peak memory, and AdamW
    with an optional cosine schedule. Subclasses set ``stack``, ``code``, ``rule`` and ``cfg``.
    """

    #: (metric, mode) the best checkpoint is chosen by
    monitor = ("val/acc", "max")

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        """Batch input as the rule expects it."""
        return x

    # ---- training -------------------------------------------------------------------
    def on_train_batch_start(self, batch, batch_idx) -> None:  # noqa: D102
        self._t0 = time.perf_counter()

    def training_step(self, batch, batch_idx):  # noqa: D102
        x, y = batch
        loss, logs = self.rule.loss(self.stack, self.code, self.inputs(x), y)
        if not torch.isfinite(loss):
            raise NonFiniteLossError(
                f"training loss is {loss.item()} at epoch {self.current_epoch}, step {self.global_step} "
                f"(rule {self.rule.name}). Nothing was checkpointed from this step. Lower model.optimizer.lr, "
                "keep trainer.gradient_clip_val set, or check the input data for NaNs.")
        self.log("train/loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(y))
        self.log_dict({f"train/{k}": v for k, v in logs.items()}, on_step=False, on_epoch=True, batch_size=len(y))
        return loss

    def on_train_batch_end(self, outputs, batch, batch_idx) -> None:  # noqa: D102
        self.step_time.update(time.perf_counter() - self._t0)

    def on_train_epoch_end(self) -> None:  # noqa: D102
        from .runs import peak_memory_mb

        self.log("perf/step_time_s", self.step_time.compute())
        self.step_time.reset()
        self.log_dict({f"perf/{k}": v for k, v in peak_memory_mb().items()})

    # ---- optimisation ---------------------------------------------------------------
    def configure_optimizers(self):  # noqa: D102
        o = self.cfg.optimizer
        if o.lr <= 0:
            raise ValueError(f"model.optimizer.lr must be > 0, got {o.lr}")
        params = [p for p in self.stack.parameters() if p.requires_grad]  # model.reco.theta=fixed freezes some
        opt = adamw(params, o.get("impl", "fused"), lr=o.lr, weight_decay=o.weight_decay,
                    betas=tuple(o.get("betas", (0.9, 0.999))))
        sched = o.get("scheduler", "none")
        if sched == "none":
            return opt
        if sched != "cosine":
            raise ValueError(f"model.optimizer.scheduler must be 'none' or 'cosine', got {sched!r}")
        total = self.trainer.estimated_stepping_batches
        s = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, int(total)))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": s, "interval": "step"}}


class BSDModule(RuleModule):
    """Image classification: holds the forward and backward nets (one stack of pyramidal layers) and a rule."""

    def __init__(self, model: dict, in_shape: tuple[int, ...], num_classes: int) -> None:
        super().__init__()
        if isinstance(model, DictConfig):
            model = OmegaConf.to_container(model, resolve=True)
        self.save_hyperparameters({"model": model, "in_shape": list(in_shape), "num_classes": num_classes})
        self.cfg = model = OmegaConf.create(model)
        self.stack, self.code, self.rule = build_from_config(model, tuple(in_shape), num_classes)
        metric = MetricCollection({"acc": MulticlassAccuracy(num_classes, average="micro")})
        self.val_metrics = metric.clone(prefix="val/")
        self.test_metrics = metric.clone(prefix="test/")
        self.step_time = MeanMetric()
        self._t0 = 0.0

    # ---- evaluation -----------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores from the forward net alone."""
        return self.rule.predict(self.stack, self.code, x)

    def validation_step(self, batch, batch_idx) -> None:  # noqa: D102
        x, y = batch
        self.val_metrics.update(self(x), y)

    def on_validation_epoch_end(self) -> None:  # noqa: D102
        self.log_dict(self.val_metrics.compute(), prog_bar=True)
        self.val_metrics.reset()

    def test_step(self, batch, batch_idx) -> None:  # noqa: D102
        x, y = batch
        self.test_metrics.update(self(x), y)

    def on_test_epoch_end(self) -> None:  # noqa: D102
        self.log_dict(self.test_metrics.compute())
        self.test_metrics.reset()
