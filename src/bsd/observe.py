"""Observability: firing rates, W / Theta alignment, synaptic operations, energy, spike rasters.

All are cheap reductions on one validation batch (no spike history is stored during training).

Energy uses the usual 45 nm figures of SNN papers: 0.9 pJ per accumulate (a spike reaching a synapse)
and 4.6 pJ per multiply-accumulate of the equivalent ANN (Horowitz, ISSCC 2014).
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch
import torch.nn.functional as F

E_AC_PJ, E_MAC_PJ = 0.9, 4.6


def _weight(mod) -> torch.Tensor | None:
    """The weight of a linear map (``nn.Linear`` or a Sequential ending in one), else None."""
    if isinstance(mod, torch.nn.Linear):
        return mod.weight
    if isinstance(mod, torch.nn.Sequential) and isinstance(mod[-1], torch.nn.Linear) and len(mod) <= 2:
        return mod[-1].weight
    return None


@torch.no_grad()
def alignment(stack) -> dict[str, float]:
    """Cosine between W_i and Theta_{i-1}^T for fully connected layers (C1: should stay low)."""
    out = {}
    for i in range(1, len(stack.layers)):
        w, th = _weight(stack.layers[i].basal), _weight(stack.layers[i - 1].apical)
        if w is not None and th is not None and w.shape == th.T.shape:
            out[f"align/W{i}_Theta{i - 1}T"] = F.cosine_similarity(w.flatten(), th.T.flatten(), dim=0).item()
    return out


@torch.no_grad()
def spike_stats(stack, rule, x: torch.Tensor) -> tuple[dict[str, float], list[torch.Tensor]]:
    """Forward-net firing rates, synaptic operations per sample and energy ratio SNN / ANN on batch ``x``.

    A spike costs one accumulate at every synapse it reaches, so a layer's operations are
    (mean input rate) x (its multiply-accumulates per step) x T; the analog input of ``direct`` coding
    costs full multiply-accumulates. The ANN reference is one pass of the same network.
    """
    from .rules.base import spiking

    s = rule.encode(stack, x)
    spikes: list[torch.Tensor] = []
    stats: dict[str, float] = {}
    snn_pj = ann_pj = 0.0
    sops = 0.0
    for i, layer in enumerate(stack.layers[1:], start=1):
        macs = sum(p.numel() for n, p in layer.basal.named_parameters() if n.endswith("weight"))
        if len(layer.shape) == 3:  # a conv weight is used at every position before the 2x2 pooling
            macs *= layer.shape[1] * layer.shape[2] * 4
        ann_pj += macs * E_MAC_PJ
        if i == 1 and rule.cfg.encoder == "direct":
            snn_pj += macs * s.shape[0] * E_MAC_PJ
        else:
            ops = s.mean().item() * macs * s.shape[0]
            sops += ops
            snn_pj += ops * E_AC_PJ
        if i < len(stack.layers) - 1:
            s = spiking(layer, layer.basal_voltage(s)[0])
            spikes.append(s)
            stats[f"rate/val_{i}"] = s.mean().item()
    stats["energy/sops_per_sample"] = sops
    stats["energy/snn_over_ann"] = snn_pj / ann_pj
    return stats, spikes


def raster_figure(spikes: list[torch.Tensor], n_samples: int = 4, max_units: int = 64):
    """Matplotlib figure: one panel per hidden layer, spikes of ``n_samples`` samples x ``max_units`` units over T."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(spikes), figsize=(3 * len(spikes), 3), squeeze=False)
    for ax, (i, s) in zip(axes[0], enumerate(spikes, start=1), strict=True):
        flat = s[:, :n_samples].reshape(s.shape[0], n_samples, -1)[:, :, :max_units]  # [T, n, units]
        img = flat.permute(1, 0, 2).reshape(-1, flat.shape[-1]).cpu().numpy()  # rows: sample-major, then t
        ax.imshow(img, aspect="auto", cmap="Greys", interpolation="nearest")
        ax.set_title(f"layer {i}")
        ax.set_xlabel("unit")
        ax.set_ylabel(f"sample x t (T={s.shape[0]})")
    fig.tight_layout()
    return fig


class SpikeMonitor(L.Callback):
    """Logs rates, alignment and energy each validation epoch; saves a raster PNG every ``raster_every`` epochs."""

    def __init__(self, raster_every: int = 5, n_samples: int = 4, out_dir: str | Path | None = None) -> None:
        self.raster_every, self.n_samples = raster_every, n_samples
        self.out_dir = Path(out_dir) if out_dir else None
        self._batch: torch.Tensor | None = None

    def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0) -> None:  # noqa: D102
        if batch_idx == 0:
            self._batch = batch[0][:128]

    def on_validation_epoch_end(self, trainer, pl_module) -> None:  # noqa: D102
        if trainer.sanity_checking or self._batch is None:
            return
        from .rules.base import spiking

        stats, spikes = {}, []
        if pl_module.rule.activation is spiking:
            stats, spikes = spike_stats(pl_module.stack, pl_module.rule, self._batch)
        if pl_module.rule.name == "bsd":
            stats.update(alignment(pl_module.stack))
        pl_module.log_dict(stats)
        epoch = trainer.current_epoch
        due = self.raster_every > 0 and epoch % self.raster_every == 0
        if spikes and self.out_dir is not None and due and trainer.is_global_zero:
            import matplotlib.pyplot as plt

            fig = raster_figure(spikes, self.n_samples)
            self.out_dir.mkdir(parents=True, exist_ok=True)
            path = self.out_dir / f"raster_epoch{epoch:03d}.png"
            fig.savefig(path, dpi=80)
            plt.close(fig)
            for lg in trainer.loggers:
                if hasattr(lg, "log_image"):
                    lg.log_image(key="spikes/raster", images=[str(path)], step=trainer.global_step)
