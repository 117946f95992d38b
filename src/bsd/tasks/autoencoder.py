"""Image generation: a spiking autoencoder (forward and backward nets), its latent prior, grids and FID.

Training: the rule's reconstruction (and, for ``bsd``, layer-local distillation) losses.
Validation: reconstruction MSE; before each validation (and before the test) the latent prior is
refitted on training images (the ex-post density estimate of spec section 5, ``model.latent_prior``:
one Gaussian or a Gaussian mixture, saved in every checkpoint);
every ``grid_every`` epochs a PNG grid of originals, reconstructions and samples.
Test: reconstruction MSE and, when a feature network is set (:meth:`set_fid`), FID
(classifier features) of reconstructions and of samples against the test images.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torchmetrics import MeanSquaredError

from ..build import build_ae
from ..config import AeConfig, RunConfig
from ..fid import feed
from ..grids import image_grid, save_png, stack_panels
from ..priors import LATENT_PRIORS, fit_prior, sample_mixture
from ..rules.ae import LATENT_SPACES, latent_index
from .base import BSDModule


class AutoencoderModule(BSDModule):
    """Holds the autoencoder's forward and backward nets, its rule and the fitted latent prior."""

    monitor = ("val/mse", "min")
    task = "generate"
    data_kind = "image"
    archs = ("ae",)

    def __init__(self, model: AeConfig | dict, in_shape: list[int], dataset: str, n_fit: int = 10000,
                 grid_every: int = 1, n_grid: int = 8) -> None:
        super().__init__(model, in_shape=list(in_shape), dataset=dataset, n_fit=int(n_fit),
                         grid_every=int(grid_every), n_grid=int(n_grid))
        self.in_shape, self.dataset = tuple(in_shape), dataset
        net = build_ae(self.cfg, self.in_shape)
        self.stack, self.code, self.rule = net.stack, net.code, net.rule
        self.k = latent_index(self.stack)
        self.register_buffer("latent_fitted", torch.tensor(False))
        self.set_prior(str(self.cfg.latent_prior), self.cfg.latent_components, str(self.cfg.latent_space))
        self.val_mse, self.test_mse = MeanSquaredError(), MeanSquaredError()
        self.grid_dir: Path | None = None
        self._fid: dict[str, Any] = {}  # not registered: the feature nets stay out of checkpoints
        self._grid_batch: torch.Tensor | None = None

    @classmethod
    def from_data(cls, cfg: RunConfig, dm: Any) -> AutoencoderModule:  # noqa: D102
        g = cfg.generation
        return cls(cfg.model, list(dm.in_shape), dm.name, g.n_fit, g.grid_every, g.n_grid)

    def task_callbacks(self, cfg: RunConfig, run_dir: Path) -> list[L.Callback]:
        """Image grids in ``run_dir/grids`` and, when the run tests, FID with the feature network."""
        from ..callbacks import AutoencoderArtefacts

        return [*super().task_callbacks(cfg, run_dir), AutoencoderArtefacts(cfg.generation, cfg.seed, run_dir,
                                                                             cfg.test)]

    # ---- model API ---------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction of images ``x`` in [0, 1]."""
        return self.rule.reconstruct(self.stack, x)

    def set_prior(self, kind: str, k: int = 10, space: str | None = None) -> None:
        """Use the latent prior ``kind`` (``gaussian`` | ``gmm`` with ``k`` components), not yet fitted.

        ``space`` (``rate`` | ``current``; None keeps the current one) is what the prior is fitted to.
        """
        if space is not None:
            if space not in LATENT_SPACES:
                raise ValueError(f"model.latent_space must be one of {LATENT_SPACES}, got {space!r}")
            self.latent_space = space
        if kind not in LATENT_PRIORS:
            raise ValueError(f"model.latent_prior must be one of {LATENT_PRIORS}, got {kind!r}")
        if kind == "gmm" and int(k) < 1:
            raise ValueError(f"model.latent_components must be >= 1, got {k}")
        self.prior = kind
        k = int(k) if kind == "gmm" else 1
        d = self.stack.layers[self.k].shape[0]
        dev = self.latent_fitted.device
        self.register_buffer("prior_weights", torch.full((k,), 1.0 / k, device=dev))
        self.register_buffer("prior_means", torch.zeros(k, d, device=dev))
        self.register_buffer("prior_chols", torch.eye(d, device=dev).repeat(k, 1, 1))
        self.latent_fitted.fill_(False)

    @torch.no_grad()
    def _in_eval_batches(self, fn, images: torch.Tensor, batch_size: int) -> torch.Tensor:
        """``fn(batch)`` over ``images`` in batches of ``batch_size`` in eval mode, concatenated (mode restored)."""
        was = self.training
        self.eval()
        z = torch.cat([fn(images[i:i + batch_size].to(self.device).float()) for i in range(0, len(images), batch_size)])
        self.train(was)
        return z

    def layer_rates(self, images: torch.Tensor, k: int, batch_size: int = 1000) -> torch.Tensor:
        """Time-mean output of forward layer ``k`` for ``images`` (rates; ReLU outputs for ``bp_ann``), in eval mode."""
        return self._in_eval_batches(lambda x: self.rule.layer_rates(self.stack, x, k), images, batch_size)

    def latents(self, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Latent codes ``[N, D]`` of ``images`` in the prior's space (``model.latent_space``).

        ``rate``: :meth:`layer_rates` of the latent layer; ``current``: its time-mean basal voltages.
        """
        if self.latent_space == "rate":
            return self.layer_rates(images, self.k, batch_size)
        return self._in_eval_batches(lambda x: self.rule.latent_currents(self.stack, x), images, batch_size)

    @torch.no_grad()
    def _decode_chunks(self, chunks: Iterable[torch.Tensor], g: torch.Generator, sampling: str | None) -> torch.Tensor:
        """Decode each latent chunk in eval mode (spike trains drawn from ``g``) into images in [0, 1].

        ``chunks`` is consumed lazily, so a chunk drawn from ``g`` is drawn after the previous one's spikes.
        """
        was = self.training
        self.eval()
        out = [self.rule.decode(self.stack, z.to(self.device), sampling or str(self.cfg.latent_sampling), g,
                                self.latent_space).clamp(0, 1) for z in chunks]
        self.train(was)
        return torch.cat(out)

    def decode_latents(self, z: torch.Tensor, seed: int = 0, sampling: str | None = None,
                       batch_size: int = 1000) -> torch.Tensor:
        """Images ``[N, C, H, W]`` in [0, 1] decoded from latent codes ``z`` (spike trains drawn with ``seed``)."""
        g = torch.Generator(device=self.device).manual_seed(seed)
        return self._decode_chunks((z[i:i + batch_size] for i in range(0, len(z), batch_size)), g, sampling)

    @torch.no_grad()
    def fit_latent(self, images: torch.Tensor, batch_size: int = 1000) -> None:
        """Fit the latent prior (``model.latent_prior``) to the latent codes of ``images``."""
        z = self.latents(images, batch_size)
        w, mu, chol = fit_prior(z.cpu(), self.prior, len(self.prior_weights), seed=0)
        for buf, val in ((self.prior_weights, w), (self.prior_means, mu), (self.prior_chols, chol)):
            buf.copy_(val.to(buf))
        self.latent_fitted.fill_(True)

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0, sampling: str | None = None) -> torch.Tensor:
        """``n`` generated images ``[n, C, H, W]`` in [0, 1]: latents drawn from the fitted prior, decoded."""
        if not bool(self.latent_fitted):
            raise ValueError("this model has no fitted latent prior (it is fitted before each validation); "
                             "train for at least one epoch with validation")
        g = torch.Generator(device=self.device).manual_seed(seed)
        mix = (self.prior_weights, self.prior_means, self.prior_chols)
        return self._decode_chunks((sample_mixture(mix, min(1000, n - i), g) for i in range(0, n, 1000)), g, sampling)

    def grid(self, x: torch.Tensor, seed: int = 0) -> Any:
        """uint8 PNG array: a row of originals, a row of their reconstructions, two rows of samples."""
        n = self.hparams.n_grid
        x = x[:n].to(self.device)
        with torch.no_grad():
            rec = self(x).clamp(0, 1)
        panels = [image_grid(x.cpu(), n), image_grid(rec.cpu(), n)]
        if bool(self.latent_fitted):
            panels.append(image_grid(self.sample(2 * n, seed).cpu(), n))
        return stack_panels(panels)

    # ---- validation ----------------------------------------------------------------------
    def on_validation_epoch_start(self) -> None:  # noqa: D102
        dm = getattr(self.trainer, "datamodule", None)
        splits = getattr(dm, "splits", None)
        if splits and "train" in splits:
            tr = splits["train"]
            self.fit_latent(tr[torch.arange(min(len(tr), self.hparams.n_fit))][0])

    def validation_step(self, batch, batch_idx) -> None:  # noqa: D102
        x, _ = batch
        rec = self(x)
        self.val_mse.update(rec.flatten(1), x.flatten(1))
        if batch_idx == 0:
            self._grid_batch = x[: self.hparams.n_grid].detach()

    def on_validation_epoch_end(self) -> None:  # noqa: D102
        self.log("val/mse", self.val_mse.compute(), prog_bar=True, sync_dist=True)
        self.val_mse.reset()
        every = max(1, int(self.hparams.grid_every))
        last = self.trainer.max_epochs is not None and self.current_epoch + 1 >= self.trainer.max_epochs
        due = (self.current_epoch + 1) % every == 0 or last
        if self._grid_batch is not None and due and self.trainer.is_global_zero:
            self.write_grid(self._grid_batch, f"epoch_{self.current_epoch:03d}")

    def write_grid(self, x: torch.Tensor, tag: str) -> Any:
        """Save the grid as ``grid_dir/<tag>.png`` (when a run directory is set) and log it to W&B."""
        arr = self.grid(x)
        if self.grid_dir is not None:
            save_png(self.grid_dir / f"{tag}.png", arr)
        logger = self.logger
        if logger is not None and type(logger).__name__ == "WandbLogger":
            logger.log_image(key="grid", images=[arr], caption=[f"{tag}: originals / reconstructions / samples"])
        return arr

    # ---- test ----------------------------------------------------------------------------
    def set_fid(self, feature_net: torch.nn.Module | None, inception=None, n_samples: int = 10000,
                seed: int = 0) -> None:
        """Compute FID at test time: classifier-feature FID (and Inception FID if ``inception`` is given)."""
        from ..fid import make_fid

        self._fid = {}
        if feature_net is not None:
            self._fid["fid"] = {"recon": make_fid(feature_net), "samples": make_fid(feature_net)}
        if inception is not None:
            self._fid["inception_fid"] = {"recon": inception[0], "samples": inception[1]}
        self._fid_n, self._fid_seed = int(n_samples), int(seed)

    def on_test_epoch_start(self) -> None:  # noqa: D102
        self.on_validation_epoch_start()  # the prior of the weights under test (best, not last, checkpoint)
        for pair in self._fid.values():
            for m in pair.values():
                m.reset()
                m.to(self.device)
        self._n_test = 0

    def test_step(self, batch, batch_idx) -> None:  # noqa: D102
        x, _ = batch
        rec = self(x)
        self.test_mse.update(rec.flatten(1), x.flatten(1))
        self._n_test += len(x)
        rec = rec.clamp(0, 1).reshape(x.shape)
        for pair in self._fid.values():
            pair["recon"].update(x, real=True)
            pair["recon"].update(rec, real=False)
            pair["samples"].update(x, real=True)

    def on_test_epoch_end(self) -> None:  # noqa: D102
        self.log("test/mse", self.test_mse.compute(), sync_dist=True)
        self.test_mse.reset()
        if not self._fid:
            return
        n_test = int(self.trainer.strategy.reduce(torch.tensor(float(self._n_test)), reduce_op="sum"))
        n = min(self._fid_n, n_test) if self._fid_n > 0 else n_test
        # every process draws the same samples and feeds its share: the metric's states are summed over processes
        samples = self.sample(n, self._fid_seed)[self.trainer.global_rank::self.trainer.world_size]
        for name, pair in self._fid.items():
            feed(pair["samples"], samples, real=False)
            self.log(f"test/{name}_recon", pair["recon"].compute().float(), sync_dist=True)
            self.log(f"test/{name}_samples", pair["samples"].compute().float(), sync_dist=True)
        self.log("test/fid_n_samples", float(n), sync_dist=True)
