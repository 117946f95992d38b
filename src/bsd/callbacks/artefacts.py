"""Task artefacts written after the test: the data's floors, a generated text sample, image grids and FID.

Each callback puts what ``metrics.json`` records into ``pl_module.artefacts``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import lightning as L

from ..runs import atomic_write_bytes

log = logging.getLogger("bsd")


class Floors(L.Callback):
    """The data module's floors on the same test split (n-gram counts for text, naive forecasts for series)."""

    def on_test_end(self, trainer, pl_module) -> None:  # noqa: D102
        if trainer.is_global_zero:
            pl_module.artefacts["floors"] = trainer.datamodule.floors()


class TextSample(L.Callback):
    """After the test, ``length`` characters generated from ``prompt``: printed, ``sample.txt`` and W&B."""

    def __init__(self, prompt: str, length: int, temperature: float, seed: int, run_dir: Path) -> None:
        self.prompt, self.length, self.temperature, self.seed = prompt, length, temperature, seed
        self.run_dir = Path(run_dir)

    def on_test_end(self, trainer, pl_module) -> None:  # noqa: D102
        if not trainer.is_global_zero:
            return
        text = pl_module.generate(self.prompt, self.length, self.temperature, self.seed)
        pl_module.artefacts["sample"] = {"prompt": self.prompt, "temperature": self.temperature, "text": text}
        atomic_write_bytes(self.run_dir / "sample.txt", (self.prompt + text + "\n").encode())
        logger = trainer.logger
        if type(logger).__name__ == "WandbLogger":
            import wandb

            logger.experiment.log({"sample": wandb.Table(columns=["text"], data=[[self.prompt + text]])})


class AutoencoderArtefacts(L.Callback):
    """Image grids in ``run_dir/grids`` each validation and after the test; FID set up before training."""

    def __init__(self, generation: Any, seed: int, run_dir: Path, test: bool = True) -> None:
        self.generation, self.seed, self.test = generation, seed, test
        self.run_dir = Path(run_dir)
        self.info: dict[str, Any] = {}

    def setup(self, trainer, pl_module, stage: str) -> None:  # noqa: D102
        pl_module.grid_dir = self.run_dir / "grids" if trainer.is_global_zero else None
        if stage == "fit" and self.test and self.generation.fid.enabled and not self.info:
            self.info = setup_fid(pl_module, self.generation, trainer.datamodule, self.seed)

    def on_test_end(self, trainer, pl_module) -> None:  # noqa: D102
        if not trainer.is_global_zero:
            return
        batch = next(iter(trainer.datamodule.test_dataloader()))[0]
        pl_module.write_grid(batch, "final")
        grids = sorted(str(p.relative_to(self.run_dir)) for p in (self.run_dir / "grids").glob("*.png"))
        pl_module.artefacts["generation"] = {**self.info, "grids": grids}


def setup_fid(module: Any, gen: Any, dm: Any, seed: int) -> dict[str, Any]:
    """Load (training and caching it first if needed) the FID feature network and hand it to the module."""
    from ..fid import InceptionFID, ensure_feature_net

    fid = gen.fid
    path, net, meta = ensure_feature_net(fid.features, dm, log=log.info)
    inception = None
    if fid.inception_weights:
        inception = (InceptionFID(fid.inception_weights), InceptionFID(fid.inception_weights))
    module.set_fid(net, inception, int(fid.n_samples), seed)
    return {"feature_net": str(path), "feature_net_sha256": meta["sha256"],
            "feature_net_test_acc": meta.get("test_acc"), "feature_net_command": meta.get("command"),
            "fid_n_samples": int(fid.n_samples), "inception": bool(inception)}
