"""Early stopping on whatever validation metric the task monitors (``callbacks=early_stopping``)."""

from __future__ import annotations

from typing import Any

from lightning.pytorch.callbacks import EarlyStopping


class TaskEarlyStopping(EarlyStopping):
    """Lightning's EarlyStopping on the task's monitored metric and direction (``val/acc`` max, ``val/mse`` min).

    Any other EarlyStopping argument (``patience``, ``min_delta``, ``stopping_threshold`` ...) passes through.
    """

    def __init__(self, **kwargs: Any) -> None:
        if "monitor" in kwargs or "mode" in kwargs:
            raise ValueError("callbacks.early_stopping follows the task's monitored metric; leave out monitor and mode "
                             "(or use lightning.pytorch.callbacks.EarlyStopping as _target_)")
        self._kwargs = kwargs
        super().__init__(monitor="", **kwargs)

    def setup(self, trainer, pl_module, stage: str) -> None:  # noqa: D102
        metric, mode = pl_module.monitor
        super().__init__(monitor=metric, mode=mode, **self._kwargs)
        super().setup(trainer, pl_module, stage)
