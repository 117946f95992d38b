"""Training callbacks: epoch timing."""

from __future__ import annotations

import time

import lightning as L


class EpochTimer(L.Callback):
    """Wall time of each training epoch (train + validation), logged as ``perf/epoch_time_s``."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._t0 = 0.0

    def on_train_epoch_start(self, trainer, pl_module) -> None:  # noqa: D102
        self._t0 = time.perf_counter()

    def on_validation_epoch_end(self, trainer, pl_module) -> None:  # noqa: D102
        if trainer.sanity_checking or not self._t0:
            return
        dt = time.perf_counter() - self._t0
        self.times.append(dt)
        self._t0 = 0.0
        pl_module.log("perf/epoch_time_s", dt)
