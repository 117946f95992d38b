"""One builder per family: the stack of layers, the target code and the rule, from a typed model config.

The composed config flows from the entry point into exactly one of these functions; nothing downstream
reads the config back. Each refuses what its family cannot train before any data work.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from .coding import DirectCode, GatedCode, LabelCode, PopulationCode
from .config import AeConfig, CnnConfig, MlpConfig, ModelConfig, RnnConfig
from .config.parts import NeuronConfig
from .nets import Stack, autoencoder_stages, build_stack, cnn_stages, mlp_stages
from .recurrent import SeqStack
from .rules import make_rule
from .rules.ae import attach_readouts


class Net(NamedTuple):
    """What a task trains: the stack (forward and backward nets), the target code and the rule."""

    stack: Any
    code: Any
    rule: Any


def lif_kwargs(n: NeuronConfig) -> dict[str, Any]:
    """The LIF soma's arguments from ``model.neuron``."""
    return dict(threshold=n.threshold, beta=n.beta, reset=str(n.reset), surrogate=str(n.surrogate), alpha=n.alpha,
                compile=n.compile, graph=str(n.graph))


def freeze_theta(stack: Stack, cfg: ModelConfig) -> None:
    """``model.reco.theta=fixed``: hidden layers' apical weights stay at their random init (recall stays learned)."""
    if cfg.reco.theta == "fixed":
        for layer in stack.hidden:
            for p in layer.apical_parameters():
                p.requires_grad_(False)


def build_image(cfg: MlpConfig | CnnConfig, in_shape: tuple[int, ...], num_classes: int) -> Net:
    """An image classifier's stack, label code and rule (family ``image``)."""
    code = LabelCode(num_classes, str(cfg.code.kind), cfg.code.dim, cfg.code.density, cfg.code.seed)
    if isinstance(cfg, MlpConfig):
        stages, in_shape = mlp_stages(list(cfg.widths)), (math.prod(in_shape),)
    else:
        stages = cnn_stages(list(cfg.channels), list(cfg.fc))
    stack = build_stack(in_shape, stages, code.dim, lif_kwargs(cfg.neuron), norm=cfg.norm)
    freeze_theta(stack, cfg)
    return Net(stack, code, make_rule("image", cfg.rule, cfg))


def build_ae(cfg: AeConfig, in_shape: tuple[int, ...]) -> Net:
    """The autoencoder's stack and rule (family ``ae``); its target code is the image itself."""
    if len(in_shape) != 3:
        raise ValueError(f"model=ae needs image data [C, H, W], got input shape {tuple(in_shape)}")
    rule = make_rule("ae", cfg.rule, cfg)
    stages = autoencoder_stages(in_shape, list(cfg.channels), cfg.latent)
    stack = build_stack(in_shape, stages, in_shape[0], lif_kwargs(cfg.neuron), norm=cfg.norm, out_kind="up")
    freeze_theta(stack, cfg)
    if cfg.image_readout > 0:
        attach_readouts(stack)
    return Net(stack, None, rule)


def _calendar_columns(columns: list[str] | None, what: str, week: bool) -> tuple[int, ...]:
    """Indices of the time-of-day (and, for ``week``, day-of-week) columns among the input's."""
    names = ["tod_sin", "tod_cos"] + (["dow_sin", "dow_cos"] if week else [])
    if not columns or any(n not in columns for n in names):
        raise ValueError(f"{what} needs the input columns {' and '.join(names)} (from data.calendar=true)"
                         + (", or use model.code.context=halfspace" if what.startswith("model.code") else "")
                         + f"; the input columns are {columns}")
    return tuple(columns.index(n) for n in names)


def _target_code(cfg: RnnConfig, num_outputs: int, task: str, in_dim: int, columns: list[str] | None):
    """The rnn's target code and, when it is gated by the time of day, the calendar columns it reads."""
    c = cfg.code
    if c.context_bins and task != "regress":
        raise ValueError("model.code.context_bins gates a forecast's population code; set it to 0 for text")
    if task == "classify":
        return LabelCode(num_outputs, str(c.kind), c.dim, c.density, c.seed), None
    if c.kind == "direct":
        if c.context_bins:
            raise ValueError("model.code.context_bins places a population code in blocks; it needs "
                             "model.code.kind=population, not direct")
        return DirectCode(targets=num_outputs), None
    if c.kind != "population":
        raise ValueError(f"forecasting needs model.code.kind=population or direct, got {c.kind!r}")
    if c.lo is None or c.hi is None:
        raise ValueError("model.code.lo and model.code.hi are null: a run derives them from its forecast's training "
                         "targets (bsd.train.run); set both to build the code here")
    code = PopulationCode(c.dim or 32, c.lo, c.hi, str(c.shape), targets=num_outputs)
    if not c.context_bins:
        return code, None
    day = None
    if c.context in ("day", "week"):
        day = _calendar_columns(columns, f"model.code.context={c.context}", c.context == "week")
    return GatedCode(code, c.context_bins, c.context_keep, str(c.context), in_dim, c.context_seed), day


def build_seq(cfg: RnnConfig, in_dim: int, num_outputs: int, task: str, columns: list[str] | None = None) -> Net:
    """A spiking RNN's stack, target code and rule (family ``seq``); ``task`` is classify (text) or regress."""
    code, day_columns = _target_code(cfg, num_outputs, task, in_dim, columns)
    if cfg.context_gate:
        if task != "regress":
            raise ValueError("model.context_gate gates hidden units by a forecast's time of day; set it to 0 for text")
        day_columns = _calendar_columns(columns, "model.context_gate", False)
    if cfg.gate_planes and task != "regress":
        raise ValueError("model.gate_planes gates hidden units by a forecast's input step; set it to 0 for text")
    gate_columns = None
    if cfg.gate_features:
        unknown = [n for n in cfg.gate_features if not columns or n not in columns]
        if unknown:
            raise ValueError(f"model.gate_features names {unknown}, not among the input columns {columns}")
        gate_columns = tuple(columns.index(n) for n in cfg.gate_features)
    input_code = None
    if cfg.encoder == "population":
        ic = cfg.input_code
        input_code = PopulationCode(ic.dim, ic.lo, ic.hi, str(ic.shape))
        in_dim = in_dim * input_code.dim
    rule = make_rule("seq", cfg.rule, cfg, task=task, input_code=input_code, day_columns=day_columns,
                     gate_bins=cfg.context_gate, gate_planes=cfg.gate_planes, gate_seed=cfg.gate_seed,
                     gate_columns=gate_columns, gate_offset=cfg.gate_offset)
    n = cfg.neuron
    stack = SeqStack(in_dim, list(cfg.widths), num_outputs, code.dim, lif_kwargs(n), norm=str(cfg.norm),
                     recurrent_gain=cfg.recurrent_gain, bias_spread=n.bias_spread, readout_skip=cfg.readout_skip,
                     adapt=n.adapt, adapt_tau=n.adapt_tau)
    if cfg.code.context_assign:
        top = stack.hidden[-1]
        top.restrict_apical(code.unit_mask(top.units))
    freeze_theta(stack, cfg)
    return Net(stack, code, rule)
