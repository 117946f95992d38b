"""Surviving a kill: checkpoints during the epoch, and a resume that continues exactly where the run stopped.

- :class:`ResumableLoader` is a ``DataLoader`` that Lightning treats as stateful: its state is the epoch and the
  number of batches the training loop has finished in it, and after a resume its next iterator skips those
  batches, so the epoch goes on with the batch the killed run would have taken next (the order of an epoch is a
  function of the seed and the epoch alone: :func:`bsd.data.loaders.seeded_loader`).
- :class:`ResumeState` tracks that position and keeps the random number generators' states in every checkpoint.
- :func:`resolve_resume` turns ``resume=auto`` into the newest checkpoint of the run directory and checks that a
  checkpoint given by path belongs to this experiment and architecture.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader


class LoaderPosition:
    """Where the training loop is: the epoch and how many of its batches are done (shared with the loader)."""

    def __init__(self) -> None:
        self.epoch, self.done = 0, 0


class ResumableLoader(DataLoader):
    """A ``DataLoader`` whose state is the training loop's position; after ``load_state_dict`` it skips what is done.

    Skipping draws the epoch's first batches and drops them, so the order of the rest is the one the uninterrupted
    run had (the sampler is seeded per epoch).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.position = LoaderPosition()
        self._skip: dict[str, int] | None = None

    def state_dict(self) -> dict[str, int]:  # noqa: D102
        return {"epoch": self.position.epoch, "done": self.position.done}

    def load_state_dict(self, state: dict[str, int]) -> None:  # noqa: D102
        self._skip = dict(state)
        self.position.epoch, self.position.done = int(state["epoch"]), int(state["done"])

    def __iter__(self):  # noqa: D105
        skip, self._skip = self._skip, None
        if skip and hasattr(self.sampler, "set_epoch"):  # the interrupted epoch's order, before its iterator exists
            self.sampler.set_epoch(int(skip["epoch"]))
        it = super().__iter__()
        for _ in range(int(skip["done"]) if skip else 0):
            next(it)
        return it


class ResumeState(L.Callback):
    """Keeps the training position in the train loader's state and the RNG states in every checkpoint.

    The RNG states are put back when training starts, after everything that draws random numbers while a run is
    set up (the network's initialisation, the loaders), so the resumed steps draw what the killed run would have.
    """

    def __init__(self) -> None:
        self._rng: dict[str, Any] | None = None

    def on_train_epoch_start(self, trainer, pl_module) -> None:  # noqa: D102
        pos = self._position(trainer)
        if pos is not None and pos.epoch != trainer.current_epoch:
            pos.epoch, pos.done = trainer.current_epoch, 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:  # noqa: D102
        pos = self._position(trainer)
        if pos is not None:
            pos.epoch, pos.done = trainer.current_epoch, batch_idx + 1

    @staticmethod
    def _position(trainer) -> LoaderPosition | None:
        loader = trainer.train_dataloader
        return getattr(loader, "position", None)

    def state_dict(self) -> dict[str, Any]:  # noqa: D102
        return {"torch": torch.get_rng_state(), "numpy": np.random.get_state()[1].tolist(),
                "python": list(random.getstate()[1])}

    def load_state_dict(self, state: dict[str, Any]) -> None:  # noqa: D102
        self._rng = state

    def on_train_start(self, trainer, pl_module) -> None:  # noqa: D102
        state, self._rng = self._rng, None
        if state is None:
            return
        torch.set_rng_state(state["torch"])
        np_state = np.random.get_state()
        np.random.set_state((np_state[0], np.array(state["numpy"], dtype=np.uint32), *np_state[2:]))
        py = random.getstate()
        random.setstate((py[0], tuple(state["python"]), py[2]))


def newest_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint of ``run_dir/checkpoints`` written last (``last.ckpt``, the mid-epoch ones), if any."""
    d = Path(run_dir) / "checkpoints"
    found = [p for p in d.glob("*.ckpt") if p.is_file()] if d.is_dir() else []
    return max(found, key=lambda p: p.stat().st_mtime_ns) if found else None


def resolve_resume(resume: str | None, run_dir: Path, experiment: str, arch: str) -> str | None:
    """The checkpoint to resume from: ``None``, ``auto`` (the newest in ``run_dir``, or none) or a path.

    A path must exist and hold a checkpoint of this experiment and architecture.
    """
    from .runs import load_checkpoint

    if resume is None:
        return None
    if resume == "auto":
        p = newest_checkpoint(run_dir)
        return None if p is None else str(p)
    p = Path(resume)
    if not p.is_file():
        raise FileNotFoundError(f"resume={resume}: no such checkpoint (runs keep checkpoints/last.ckpt; resume=auto "
                                "continues the newest checkpoint of hydra.run.dir)")
    info = load_checkpoint(p).get("bsd") or {}
    for key, want in (("experiment", experiment), ("arch", arch)):
        if info.get(key) is not None and info[key] != want:
            raise ValueError(f"resume={resume} holds a checkpoint of {key} {info[key]!r}, not {want!r}; resume it "
                             f"with +experiment=... and the model it was trained with")
    return str(p)
