"""A moving average of the weights that validation, checkpoints and the test use."""

from __future__ import annotations

from lightning.pytorch.callbacks import EMAWeightAveraging


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
