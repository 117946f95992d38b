"""Timing callbacks: the time of each epoch, and the training time until a validation metric reaches a target."""

from __future__ import annotations

import time

import lightning as L


class EpochTimer(L.Callback):
    """Wall time of each training epoch (train + its validation passes), logged as ``perf/epoch_time_s``.

    Lightning runs the end-of-epoch validation before ``on_train_epoch_end``, so the span includes
    it, and validation passes inside the epoch (``trainer.val_check_interval`` < 1) too.
    """

    def __init__(self) -> None:
        self.times: list[float] = []
        self._t0 = 0.0

    def on_train_epoch_start(self, trainer, pl_module) -> None:  # noqa: D102
        self._t0 = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module) -> None:  # noqa: D102
        if not self._t0:
            return
        dt = time.perf_counter() - self._t0
        self.times.append(dt)
        self._t0 = 0.0
        pl_module.log("perf/epoch_time_s", dt)


class TimeToTarget(L.Callback):
    """Training time until a validation metric first reaches ``target`` (time to accuracy).

    The clock runs during training and stops while validating, so how often one validates
    (``trainer.val_check_interval``) sets the resolution, not the measured time. ``result``
    holds what ``metrics.json`` records under ``time_to_target``.
    """

    def __init__(self, metric: str, target: float, mode: str = "max") -> None:
        if mode not in ("max", "min"):
            raise ValueError(f"time_to_target mode must be 'max' or 'min', got {mode!r}")
        self.metric, self.target, self.mode = metric, float(target), mode
        self.train_s = 0.0
        self._t0: float | None = None
        self._start = 0.0
        self.best: float | None = None
        self.result: dict = {"metric": metric, "target": self.target, "reached": False}

    def _pause(self) -> None:
        if self._t0 is not None:
            self.train_s += time.perf_counter() - self._t0
            self._t0 = None

    def on_train_start(self, trainer, pl_module) -> None:  # noqa: D102
        self._start = time.perf_counter()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:  # noqa: D102
        if self._t0 is None:
            self._t0 = time.perf_counter()

    def on_validation_start(self, trainer, pl_module) -> None:  # noqa: D102
        self._pause()

    def on_train_end(self, trainer, pl_module) -> None:  # noqa: D102
        self._pause()

    def on_validation_end(self, trainer, pl_module) -> None:  # noqa: D102
        if trainer.sanity_checking or self.metric not in trainer.callback_metrics:
            return
        value = float(trainer.callback_metrics[self.metric])
        better = max if self.mode == "max" else min
        self.best = value if self.best is None else better(self.best, value)
        self.result["best"] = self.best
        hit = value >= self.target if self.mode == "max" else value <= self.target
        if hit and not self.result["reached"]:
            self.result.update(reached=True, value=value, train_time_s=self.train_s,
                               wall_time_s=time.perf_counter() - self._start, epoch=trainer.current_epoch,
                               step=trainer.global_step)
