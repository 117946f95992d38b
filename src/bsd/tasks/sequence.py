"""What the text and forecasting tasks share: a spiking RNN run position by position over sequences."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import lightning as L
import torch
import torch.nn.functional as F

from ..build import build_seq
from ..config import RnnConfig, RunConfig
from .base import BSDModule


class SequenceModule(BSDModule):
    """A spiking RNN's forward and backward nets and a sequence rule; evaluation optionally carries the state.

    ``rule_task`` is what the rule's top layer is trained for: ``classify`` (the next token) or ``regress``.
    ``data_info`` holds the subclass's own constructor arguments (saved with the checkpoint).
    """

    rule_task: ClassVar[str] = "classify"
    archs = ("rnn",)

    def __init__(self, model: RnnConfig | dict, data_info: dict[str, Any], columns: list[str] | None = None,
                 stateful_eval: bool = False) -> None:
        super().__init__(model, **data_info)
        self.in_dim = int(data_info["in_shape"][0])
        net = build_seq(self.cfg, self.in_dim, int(data_info["num_classes"]), self.rule_task, columns)
        self.stack, self.code, self.rule = net.stack, net.code, net.rule
        self.stateful_eval = bool(stateful_eval)
        self._states = None  # carried from one evaluation batch to the next when stateful_eval

    def task_callbacks(self, cfg: RunConfig, run_dir: Path) -> list[L.Callback]:
        """The data's floors on the same test split (``floors``)."""
        from ..callbacks import Floors

        return [*super().task_callbacks(cfg, run_dir), *([Floors()] if cfg.floors else [])]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Output ``[B, P, O]`` of the forward net at every position."""
        return self.rule.predict(self.stack, self.inputs(x))

    def eval_output(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`forward`, or with the state carried over from the previous batch (``stateful_eval``)."""
        if not self.stateful_eval:
            return self(x)
        spikes, self._states = self.rule.run(self.stack, self.inputs(x), self._states)
        return self.rule.readout(self.stack, spikes).transpose(0, 1)

    def on_validation_epoch_start(self) -> None:  # noqa: D102
        self._states = None

    def on_test_epoch_start(self) -> None:  # noqa: D102
        self._states = None

    def validation_step(self, batch, batch_idx) -> None:  # noqa: D102
        self.update(self.val_metrics, "val/", *batch)

    def on_validation_epoch_end(self) -> None:  # noqa: D102
        self.log_dict(self.val_metrics.compute(), prog_bar=True, sync_dist=True)  # metrics are global already
        self.val_metrics.reset()

    def test_step(self, batch, batch_idx) -> None:  # noqa: D102
        self.update(self.test_metrics, "test/", *batch)

    def on_test_epoch_end(self) -> None:  # noqa: D102
        self.log_dict(self.test_metrics.compute(), sync_dist=True)
        self.test_metrics.reset()

    def update(self, metrics, prefix: str, x: torch.Tensor, y: torch.Tensor) -> None:
        """Add one evaluation batch to ``metrics``."""
        raise NotImplementedError


def one_hot_steps(x: torch.Tensor, vocab: int, dtype: torch.dtype) -> torch.Tensor:
    """Token ids ``[B, P]`` or ``[B, P, context]`` as one-hot input steps ``[B, P, context * vocab]``."""
    oh = F.one_hot(x.long(), vocab).to(dtype)
    return oh.flatten(2) if x.dim() == 3 else oh
