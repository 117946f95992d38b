"""Training callbacks: epoch timing, time to a target accuracy, a moving average of the weights."""

from __future__ import annotations

import time

import lightning as L
from lightning.pytorch.callbacks import EMAWeightAveraging


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


class WeightEMA(EMAWeightAveraging):
    """Exponential moving average of the weights and float buffers, from epoch ``start_epoch`` on.

    The average is updated after every optimiser step; its first update copies the raw weights, so the random
    initialisation enters it only with ``start_epoch=0``, and until then validation and checkpoints use the raw
    weights.

    Validation, the best checkpoint and the test see the average; training keeps stepping the raw weights, so
    the learning rule and its criteria are untouched (no gradient passes through the average). Checkpoints
    written during fit hold the average in ``state_dict`` and the raw weights in ``current_model_state``
    (Lightning's :class:`~lightning.pytorch.callbacks.WeightAveraging`), so resuming continues both.
    """

    def __init__(self, decay: float, start_epoch: int = 0) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema.decay must lie in (0, 1) (e.g. 0.999), or be null to switch the average off; "
                             f"got {decay}")
        if start_epoch < 0:
            raise ValueError(f"ema.start_epoch must be >= 0, got {start_epoch}")
        super().__init__(decay=decay)
        self.decay, self.start_epoch = decay, start_epoch
        self._epoch = 0
        self._swapped = False

    @property
    def started(self) -> bool:
        """Whether the average holds anything yet (before its first update, everything uses the raw weights)."""
        return self._latest_update_step > 0

    def on_train_epoch_start(self, trainer, pl_module) -> None:  # noqa: D102
        self._epoch = trainer.current_epoch

    def should_update(self, step_idx: int | None = None, epoch_idx: int | None = None) -> bool:
        """After every optimiser step from epoch ``start_epoch`` on (its first update copies the raw weights)."""
        return step_idx is not None and self._epoch >= self.start_epoch

    def on_validation_epoch_start(self, trainer, pl_module) -> None:  # noqa: D102
        self._swapped = self._average_model is not None and self.started
        if self._swapped:
            self._swap_models(pl_module)

    def on_validation_epoch_end(self, trainer, pl_module) -> None:  # noqa: D102
        if self._swapped:
            self._swap_models(pl_module)
            self._swapped = False

    def on_save_checkpoint(self, trainer, pl_module, checkpoint) -> None:  # noqa: D102
        if self.started:
            super().on_save_checkpoint(trainer, pl_module, checkpoint)

    def on_train_end(self, trainer, pl_module) -> None:  # noqa: D102
        if self.started:
            super().on_train_end(trainer, pl_module)

    def on_load_checkpoint(self, trainer, pl_module, checkpoint) -> None:  # noqa: D102
        if self._average_model is None or trainer.state.fn != "fit":
            return  # testing a checkpoint: keep its state_dict, which holds the average, not the raw weights
        super().on_load_checkpoint(trainer, pl_module, checkpoint)
