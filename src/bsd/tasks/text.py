"""Next-character prediction: accuracy and bits per character of the spiking RNN, and text generation."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from torchmetrics import MeanMetric, MetricCollection
from torchmetrics.classification import MulticlassAccuracy

from ..config import RnnConfig, RunConfig
from .sequence import SequenceModule, one_hot_steps


class TextModule(SequenceModule):
    """A spiking RNN trained to predict the next character; inputs are one-hot characters."""

    monitor = ("val/acc", "max")
    task = "text"
    data_kind = "text"
    rule_task = "classify"

    def __init__(self, model: RnnConfig | dict, in_shape: list[int], num_classes: int, vocab: list[str],
                 stateful_eval: bool = False, context: int = 1) -> None:
        info = dict(in_shape=list(in_shape), num_classes=int(num_classes), vocab=list(vocab),
                    stateful_eval=bool(stateful_eval), context=int(context))
        super().__init__(model, info, stateful_eval=stateful_eval)
        self.vocab = list(vocab)
        self.context = int(context)  # characters per input step (ids [B, P, context] when > 1)
        metric = MetricCollection({"acc": MulticlassAccuracy(num_classes, average="micro"), "bpc": MeanMetric()})
        self.val_metrics = metric.clone(prefix="val/")
        self.test_metrics = metric.clone(prefix="test/")

    @classmethod
    def from_data(cls, cfg: RunConfig, dm: Any) -> TextModule:  # noqa: D102
        return cls(cfg.model, list(dm.in_shape), dm.num_classes, list(dm.vocab.itos), bool(dm.eval_streams), dm.context)

    def task_callbacks(self, cfg: RunConfig, run_dir: Path) -> list[L.Callback]:
        """The floors and, with ``sample.length > 0``, a generated sample after the test."""
        from ..callbacks import TextSample

        extra = [TextSample(cfg.sample.prompt, cfg.sample.length, cfg.sample.temperature, cfg.seed, run_dir)]
        return [*super().task_callbacks(cfg, run_dir), *(extra if cfg.sample.length > 0 else [])]

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        """Character ids ``[B, P]`` (or ``[B, P, context]``) become one-hot steps."""
        return one_hot_steps(x, self.in_dim // self.context, self.stack.readout.basal.weight.dtype)

    def update(self, metrics, prefix: str, x: torch.Tensor, y: torch.Tensor) -> None:
        """Accuracy and bits per character over every position."""
        out = self.eval_output(x)
        logits, target = out.reshape(-1, out.shape[-1]), y.reshape(-1)
        metrics[f"{prefix}acc"].update(logits, target)
        metrics[f"{prefix}bpc"].update(F.cross_entropy(logits, target, reduction="none") / math.log(2))

    def _context_ids(self, ids: list[int]) -> torch.Tensor:
        """``[1, P(, context)]`` input ids of the characters ``ids`` (earlier ones as context, ``<unk>`` before)."""
        if self.context == 1:
            return torch.tensor(ids).unsqueeze(0)
        rows = [[ids[i - j] if i - j >= 0 else 0 for j in range(self.context)] for i in range(len(ids))]
        return torch.tensor(rows).unsqueeze(0)

    @torch.no_grad()
    def generate(self, prompt: str, length: int, temperature: float = 0.8, seed: int = 0) -> str:
        """Continue ``prompt`` by ``length`` characters sampled from the forward net."""
        if temperature < 0:
            raise ValueError(f"sample.temperature must be >= 0, got {temperature}")
        was_training = self.training
        self.eval()
        stoi = {c: i for i, c in enumerate(self.vocab)}
        ids = [stoi.get(c, 0) for c in (prompt or "\n")]
        g = torch.Generator().manual_seed(seed)
        dev = self.stack.readout.basal.weight.device
        x = self._context_ids(ids).to(dev)
        out_ids: list[int] = []
        states = None
        for _ in range(length):
            spikes, states = self.rule.run(self.stack, self.inputs(x), states)
            logits = self.rule.readout(self.stack, [s[-self.rule.T:] for s in spikes])[-1, 0].float().cpu()
            logits[0] = float("-inf")  # never emit <unk> (index 0), greedy or sampled
            if temperature == 0:
                nxt = int(logits.argmax())
            else:
                nxt = int(torch.multinomial(torch.softmax(logits / temperature, dim=-1), 1, generator=g))
            out_ids.append(nxt)
            ids.append(nxt)
            x = self._context_ids(ids[-self.context:])[:, -1:].to(dev)
        self.train(was_training)
        return "".join(self.vocab[i] for i in out_ids)
