"""SequenceBSDModule: a spiking RNN (forward and backward nets) trained by a sequence rule.

``task = classify``: next-token prediction (inputs are token indices, one-hot coded; metrics
accuracy and bits per token over every position). ``task = regress``: forecasting (inputs are
feature vectors; scored on the last position of each window: MSE on the normalised level,
also when the models output the change from the last value, MAE and RMSE in the original unit).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from omegaconf import DictConfig, OmegaConf
from torchmetrics import MeanMetric, MeanSquaredError, MetricCollection
from torchmetrics.classification import MulticlassAccuracy

from .coding import GatedCode, LabelCode, PopulationCode
from .module import RuleModule, apply_theta_mode, lif_config, rule_config
from .recurrent import SeqStack
from .rules.seq import SEQ_RULES, TASKS


def build_seq_from_config(model_cfg: Any, in_dim: int, num_outputs: int, task: str,
                          columns: list[str] | None = None):
    """SeqStack, target code and sequence rule from the ``model`` config group (``columns``: the input's)."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    c = model_cfg.code
    if task == "classify":
        code = LabelCode(num_outputs, c.kind, c.get("dim"), c.get("density", 0.5), c.get("seed", 0))
    else:
        if c.kind != "population":
            raise ValueError(f"forecasting needs model.code.kind=population, got {c.kind!r}")
        code = PopulationCode(int(c.dim or 32), float(c.get("lo", -3.0)), float(c.get("hi", 3.0)),
                              str(c.get("shape", "gaussian")), targets=num_outputs)
    day_columns = None
    gate = model_cfg.get("context_gate") or 0
    if isinstance(gate, bool) or not isinstance(gate, int) or gate < 0 or gate == 1:
        raise ValueError(f"model.context_gate must be 0 (off) or an integer >= 2, got {gate!r}")
    if gate:
        if task != "regress":
            raise ValueError("model.context_gate gates hidden units by a forecast's time of day; set it to 0 for text")
        day_columns = _calendar_columns(columns, "model.context_gate", "day")
    plane_gates = _plane_gate_options(model_cfg, task, columns)
    bins = c.get("context_bins") or 0
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 0:
        raise ValueError(f"model.code.context_bins must be 0 (off) or an integer >= 2, got {bins!r}")
    if bins:
        if task != "regress":
            raise ValueError("model.code.context_bins gates a forecast's population code; set it to 0 for text")
        context = str(c.get("context", "day"))
        if context in ("day", "week"):
            day_columns = _calendar_columns(columns, f"model.code.context={context}", context)
        keep = c.get("context_keep", False)
        if not isinstance(keep, bool):
            raise ValueError(f"model.code.context_keep must be true or false, got {keep!r}")
        code = GatedCode(code, bins, keep, context, in_dim, int(c.get("context_seed", 0)))
    lif = lif_config(model_cfg)
    skip = model_cfg.get("readout_skip", False)
    if not isinstance(skip, bool):
        raise ValueError(f"model.readout_skip must be true or false, got {skip!r}")
    input_code = None
    if model_cfg.encoder == "population":
        ic = model_cfg.input_code
        input_code = PopulationCode(int(ic.dim), float(ic.lo), float(ic.hi), str(ic.get("shape", "gaussian")))
        in_dim = in_dim * input_code.dim
    stack = SeqStack(in_dim, list(model_cfg.widths), num_outputs, code.dim, lif, norm=str(model_cfg.norm),
                     recurrent_gain=float(model_cfg.get("recurrent_gain", 0.1)),
                     bias_spread=float(model_cfg.neuron.get("bias_spread", 0.0)),
                     readout_skip=skip, adapt=float(model_cfg.neuron.get("adapt", 0.0)),
                     adapt_tau=float(model_cfg.neuron.get("adapt_tau", 48.0)))
    assign = c.get("context_assign", False)
    if not isinstance(assign, bool):
        raise ValueError(f"model.code.context_assign must be true or false, got {assign!r}")
    if assign:
        if not bins:
            raise ValueError("model.code.context_assign=true assigns units to the blocks of model.code.context_bins; "
                             "set context_bins >= 2")
        top = stack.hidden[-1]
        top.restrict_apical(code.unit_mask(top.units))
    apply_theta_mode(stack, model_cfg)
    if model_cfg.rule not in SEQ_RULES:
        raise ValueError(f"model.rule={model_cfg.rule!r} is unknown; choose one of {sorted(SEQ_RULES)}")
    return stack, code, SEQ_RULES[model_cfg.rule](rule_config(model_cfg), task, input_code, day_columns, gate,
                                                       **plane_gates)


def _plane_gate_options(model_cfg: Any, task: str, columns: list[str] | None) -> dict[str, Any]:
    """The rule's halfspace-gate arguments from ``model.gate_planes/gate_seed/gate_features/gate_offset``, validated."""
    planes = model_cfg.get("gate_planes") or 0
    if isinstance(planes, bool) or not isinstance(planes, int) or not 0 <= planes <= 8:
        raise ValueError(f"model.gate_planes must be an integer in 0..8 (0: off), got {planes!r}")
    if planes and task != "regress":
        raise ValueError("model.gate_planes gates hidden units by a forecast's input step; set it to 0 for text")
    seed = model_cfg.get("gate_seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"model.gate_seed must be an integer, got {seed!r}")
    offset = model_cfg.get("gate_offset", False)
    if not isinstance(offset, bool):
        raise ValueError(f"model.gate_offset must be true or false, got {offset!r}")
    gate_columns = None
    if names := list(model_cfg.get("gate_features") or []):
        unknown = [n for n in names if not columns or n not in columns]
        if unknown:
            raise ValueError(f"model.gate_features names {unknown}, not among the input columns {columns}")
        gate_columns = tuple(columns.index(n) for n in names)
    return {"gate_planes": planes, "gate_seed": seed, "gate_columns": gate_columns, "gate_offset": offset}


def _calendar_columns(columns: list[str] | None, what: str, context: str) -> tuple[int, ...]:
    """Indices of the time-of-day (and, for ``context = week``, day-of-week) columns among the input's."""
    names = ["tod_sin", "tod_cos"] + (["dow_sin", "dow_cos"] if context == "week" else [])
    if not columns or any(n not in columns for n in names):
        raise ValueError(f"{what} needs the input columns {' and '.join(names)} (from data.calendar=true)"
                         + (", or use model.code.context=halfspace" if what.startswith("model.code") else "")
                         + f"; the input columns are {columns}")
    return tuple(columns.index(n) for n in names)


class SequenceBSDModule(RuleModule):
    """Holds a spiking RNN's forward and backward nets and a sequence learning rule."""

    def __init__(self, model: dict, in_shape: list[int], num_classes: int, task: str,
                 vocab: list[str] | None = None, target_scale: float = 1.0, columns: list[str] | None = None,
                 stateful_eval: bool = False, level_scale: float = 1.0, context: int = 1) -> None:
        super().__init__()
        if isinstance(model, DictConfig):
            model = OmegaConf.to_container(model, resolve=True)
        self.save_hyperparameters({"model": model, "in_shape": list(in_shape), "num_classes": num_classes,
                                   "task": task, "vocab": vocab, "target_scale": target_scale, "columns": columns,
                                   "stateful_eval": stateful_eval, "level_scale": level_scale, "context": context})
        self.cfg = model = OmegaConf.create(model)
        self.task, self.vocab, self.target_scale = task, vocab, float(target_scale)
        # normalised level units per output unit (data.predict=change: the change's std; level: 1). The
        # level forecast is the last observed value plus this times the output, so the error on the
        # level is this times the error on the output and every metric below is on the level.
        self.level_scale = float(level_scale)
        self.in_dim = int(in_shape[0])
        self.context = int(context)  # text: characters per input step (ids [B, P, context] when > 1)
        self.stack, self.code, self.rule = build_seq_from_config(model, self.in_dim, num_classes, task, columns)
        if task == "classify":
            self.monitor = ("val/acc", "max")
            metric = MetricCollection({"acc": MulticlassAccuracy(num_classes, average="micro"),
                                       "bpc": MeanMetric()})
        else:
            self.monitor = ("val/mse", "min")
            metric = MetricCollection({"mse": MeanSquaredError(), "mae": MeanMetric(), "rmse": MeanSquaredError()})
        self.val_metrics = metric.clone(prefix="val/")
        self.test_metrics = metric.clone(prefix="test/")
        self.step_time = MeanMetric()
        self._t0 = 0.0
        self.stateful_eval = stateful_eval
        self._states = None  # carried from one evaluation batch to the next when stateful_eval

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        """Token indices ``[B, P]`` or ``[B, P, context]`` become one-hot ``[B, P, context * V]``.

        Feature windows (forecasting) pass through.
        """
        if x.dtype in (torch.int64, torch.int32, torch.uint8):
            oh = F.one_hot(x.long(), self.in_dim // self.context).to(self.stack.readout.basal.weight.dtype)
            return oh.flatten(2) if self.context > 1 else oh
        return x

    def _context_ids(self, ids: list[int]) -> torch.Tensor:
        """``[1, P(, context)]`` input ids of the characters ``ids`` (earlier ones as context, ``<unk>`` before)."""
        if self.context == 1:
            return torch.tensor(ids).unsqueeze(0)
        rows = [[ids[i - j] if i - j >= 0 else 0 for j in range(self.context)] for i in range(len(ids))]
        return torch.tensor(rows).unsqueeze(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Output ``[B, P, O]`` of the forward net at every position."""
        return self.rule.predict(self.stack, self.inputs(x))

    # ---- evaluation -----------------------------------------------------------------
    def _eval_output(self, x: torch.Tensor) -> torch.Tensor:
        if not self.stateful_eval:
            return self(x)
        spikes, self._states = self.rule.run(self.stack, self.inputs(x), self._states)
        return self.rule.readout(self.stack, spikes).transpose(0, 1)

    def on_validation_epoch_start(self) -> None:  # noqa: D102
        self._states = None

    def on_test_epoch_start(self) -> None:  # noqa: D102
        self._states = None

    def _update(self, metrics: MetricCollection, prefix: str, x: torch.Tensor, y: torch.Tensor) -> None:
        out = self._eval_output(x)
        if self.task == "classify":
            logits, target = out.reshape(-1, out.shape[-1]), y.reshape(-1)
            metrics[f"{prefix}acc"].update(logits, target)
            bits = F.cross_entropy(logits, target, reduction="none") / math.log(2)
            metrics[f"{prefix}bpc"].update(bits)
        else:
            k = self.level_scale  # the forecast after the whole window, error on the normalised level
            last = y[:, -1, 0] if y.dim() == 3 else y[:, -1]  # auxiliary horizons (data.aux_horizons) unscored
            pred, target = out[:, -1, 0] * k, last.to(out.dtype) * k
            metrics[f"{prefix}mse"].update(pred, target)
            metrics[f"{prefix}mae"].update((pred - target).abs() * self.target_scale)
            metrics[f"{prefix}rmse"].update(pred * self.target_scale, target * self.target_scale)

    def _compute(self, metrics: MetricCollection) -> dict[str, torch.Tensor]:
        vals = metrics.compute()
        for k in list(vals):
            if k.endswith("rmse"):
                vals[k] = vals[k].sqrt()
        metrics.reset()
        return vals

    def validation_step(self, batch, batch_idx) -> None:  # noqa: D102
        self._update(self.val_metrics, "val/", *batch)

    def on_validation_epoch_end(self) -> None:  # noqa: D102
        self.log_dict(self._compute(self.val_metrics), prog_bar=True)

    def test_step(self, batch, batch_idx) -> None:  # noqa: D102
        self._update(self.test_metrics, "test/", *batch)

    def on_test_epoch_end(self) -> None:  # noqa: D102
        self.log_dict(self._compute(self.test_metrics))

    # ---- generation -----------------------------------------------------------------
    @torch.no_grad()
    def generate(self, prompt: str, length: int, temperature: float = 0.8, seed: int = 0) -> str:
        """Continue ``prompt`` by ``length`` characters sampled from the forward net (text models only)."""
        if self.task != "classify" or not self.vocab:
            raise ValueError("generation needs a text model (task classify with a vocabulary)")
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
                probs = torch.softmax(logits / temperature, dim=-1)
                nxt = int(torch.multinomial(probs, 1, generator=g))
            out_ids.append(nxt)
            ids.append(nxt)
            x = self._context_ids(ids[-self.context:])[:, -1:].to(dev)
        self.train(was_training)
        return "".join(self.vocab[i] for i in out_ids)
