"""What every learning rule shares: its settings, the forward net, prediction."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from ..coding import ENCODERS, LabelCode, encode_stimulus
from ..layers import Stats, apply_folded
from ..losses import PUSH_MARGINS, PUSH_WEIGHTS, RECO_AXES, SAME_CLASS
from ..nets import Stack

REDUCE_T = ("mean", "per_step")
RECO_ON = ("voltage", "spikes")
#: ``batch``: ReCo compares voltages centred over the batch per feature; ``push``: only the push term
#: does (our extensions; see :func:`bsd.losses.center_batch`)
RECO_CENTER = ("none", "batch", "push")
#: how a layer's ReCo credit steps back one position through its recurrence (``model.reco.time_feedback``)
TIME_FEEDBACK = ("transport", "random")
#: what a layer's ReCo credit through time runs back along (``model.reco.time_path``): ``rest`` = each earlier
#: position's rates recomputed from rest, ``forward`` = the forward stream's own simulation (membrane and spikes)
TIME_PATHS = ("rest", "forward")
#: how far the bp rules back-propagate through a recurrence (``model.bp_credit``)
BP_CREDIT = ("sequence", "position")
Activation = Callable[[object, torch.Tensor], torch.Tensor]


@dataclass
class RuleConfig:
    """Settings a rule reads (from ``model.*`` in the Hydra config)."""

    T: int = 4
    encoder: str = "direct"
    reduce_T: str = "mean"
    lam: float = 0.6
    same_class: str = "ignore"
    w_hidden: Sequence[float] | float = 1.0
    w_concept: float = 1.0
    w_recall: float = 1.0
    decorrelation: float = 0.0
    reco_on: str = "voltage"
    #: sample (the paper's ReCo) | unit (per-neuron correlation over the batch; the rnn only)
    reco_axis: str = "sample"
    #: none (the paper's) | batch: subtract each feature's batch mean from V and V̂ before the cosines |
    #: push: only before the push term's cosines
    reco_center: str = "none"
    #: uniform (the paper's) | code: each pair's push scaled by one minus the cosine of the two targets'
    #: codes (the rnn only)
    push_weight: str = "uniform"
    #: zero (the paper's hinge at cosine 0) | code: each pair's push starts above the cosine of the two
    #: samples' target codes (label codes, population codes, or the images of an autoencoder)
    push_margin: str = "zero"
    #: None (the paper's: ReCo on whole maps) | k: image-shaped layers are average-pooled to k x k before
    #: ReCo, so a conv layer is asked to agree on where-ish, not exactly where (our extension)
    reco_pool: int | None = None
    #: frequency-aware ReCo on image-shaped hidden layers (spec 3): radial cut-off as a fraction of
    #: Nyquist (None = plain ReCo everywhere) and the push weights of the low and high bands
    freq_cutoff: float | None = None
    lam_low: float = 0.3
    lam_high: float = 0.9
    #: weight of the whole high-band term (its pull and push) against the low band's (1 = the spec's sum;
    #: our extension: > 1 asks the image-shaped layers to agree on edges more than on blobs)
    w_high: float = 1.0
    #: autoencoder only (our extension): weight of each image-shaped decoder layer's local readout loss, the
    #: MSE between a 1x1 map of the layer's own basal voltage and the image pooled to its resolution (0 = off)
    image_readout: float = 0.0
    #: autoencoder only (our extension): weight of each decoder layer's match loss, the MSE between its basal
    #: and its (detached) apical voltage, as ReCo sees them (0 = off, the paper's)
    decoder_match: float = 0.0
    #: rnn and bsd only (our extension): 0 = the spec's per-position ReCo (the layer's previous spikes are a
    #: detached input) | k >= 1: each position's ReCo also trains, through the layer's own recurrence, the
    #: layer's weights at the k positions before it (truncated back-propagation through time inside one layer;
    #: no gradient crosses layers)
    through_time: int = 0
    #: with through_time: how credit steps back through W_h: transport (W_h transposed) | random (a fixed
    #: random matrix, so the layer needs no copy of its own recurrent weights)
    time_feedback: str = "transport"
    #: rnn and bsd only (our extension): rest = the credit of through_time runs back k positions through each
    #: position's rates recomputed from rest (a sliding window) | forward = ReCo reads the forward stream's own
    #: rates (its membrane carried across positions) and the credit runs back through that simulation, every step,
    #: membrane and spikes, cut every k + 1 positions (k = 0: per position)
    time_path: str = "rest"
    #: rnn and bp rules only (our extension): sequence = back-propagation through the whole sequence (the default)
    #: | position: the previous position's hidden state is a detached input, so each position's loss trains the
    #: weights at that position only (the credit structure of bsd's per-position ReCo, for a like-for-like baseline)
    bp_credit: str = "sequence"
    #: rnn and bsd only (our extension): the fraction of each hidden layer's units left out of its ReCo (the last
    #: ones). They get no target of their own; credit through time (through_time >= 1) trains them for what they
    #: carry to the ReCo units at later positions, inside the layer: memory units (0 = every unit in ReCo, the spec's)
    free_units: float = 0.0
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if int(self.T) < 1:
            raise ValueError(f"model.T must be >= 1, got {self.T}")
        if self.reco_on not in RECO_ON:
            raise ValueError(f"model.reco.on must be one of {RECO_ON}, got {self.reco_on!r}")
        if self.image_readout < 0:
            raise ValueError(f"model.image_readout must be >= 0, got {self.image_readout}")
        if self.decoder_match < 0:
            raise ValueError(f"model.decoder_match must be >= 0, got {self.decoder_match}")
        if self.decorrelation < 0:
            raise ValueError(f"model.decorrelation must be >= 0, got {self.decorrelation}")
        if self.lam < 0:
            raise ValueError(f"model.reco.lam must be >= 0, got {self.lam}")
        if not 0 <= self.free_units < 1:
            raise ValueError(f"model.reco.free_units must be a fraction in [0, 1), got {self.free_units}")
        if self.free_units and not self.through_time:
            raise ValueError("model.reco.free_units > 0 leaves units out of ReCo that only credit through time can "
                             "train; set model.reco.through_time >= 1 (or free_units=0)")
        if self.freq_cutoff is not None and not 0 < self.freq_cutoff < 1:
            raise ValueError(f"model.reco.frequency.cutoff must be in (0, 1) (fraction of Nyquist), "
                             f"got {self.freq_cutoff}")
        if self.w_high < 0:
            raise ValueError(f"model.reco.frequency.w_high must be >= 0, got {self.w_high}")
        if self.lam_low < 0 or self.lam_high < 0:
            raise ValueError(f"model.reco.frequency.lam_low / lam_high must be >= 0, got {self.lam_low}, "
                             f"{self.lam_high}")
        if self.encoder not in ENCODERS:
            raise ValueError(f"model.encoder must be one of {ENCODERS}, got {self.encoder!r}")
        if self.reduce_T not in REDUCE_T:
            raise ValueError(f"model.reduce_T must be one of {REDUCE_T}, got {self.reduce_T!r}")
        if self.same_class not in SAME_CLASS:
            raise ValueError(f"model.reco.same_class must be one of {SAME_CLASS}, got {self.same_class!r}")
        if self.reco_center not in RECO_CENTER:
            raise ValueError(f"model.reco.center must be one of {RECO_CENTER}, got {self.reco_center!r}")
        if self.push_weight not in PUSH_WEIGHTS:
            raise ValueError(f"model.reco.push_weight must be one of {PUSH_WEIGHTS}, got {self.push_weight!r}")
        if self.reco_pool is not None and int(self.reco_pool) < 1:
            raise ValueError(f"model.reco.pool must be null or a grid size >= 1, got {self.reco_pool}")
        if self.reco_pool is not None and self.freq_cutoff is not None:
            raise ValueError("model.reco.pool pools away the spatial frequencies that frequency-aware ReCo splits; "
                             "set model.reco.pool=null or model.reco.frequency.enabled=false")
        if self.push_margin not in PUSH_MARGINS:
            raise ValueError(f"model.reco.margin must be one of {PUSH_MARGINS}, got {self.push_margin!r}")
        if isinstance(self.through_time, bool) or not isinstance(self.through_time, int) or self.through_time < 0:
            raise ValueError(f"model.reco.through_time must be an integer >= 0 (positions), got {self.through_time!r}")
        if self.time_feedback not in TIME_FEEDBACK:
            raise ValueError(f"model.reco.time_feedback must be one of {TIME_FEEDBACK}, got {self.time_feedback!r}")
        if self.time_path not in TIME_PATHS:
            raise ValueError(f"model.reco.time_path must be one of {TIME_PATHS}, got {self.time_path!r}")
        if self.bp_credit not in BP_CREDIT:
            raise ValueError(f"model.bp_credit must be one of {BP_CREDIT}, got {self.bp_credit!r}")
        if self.reco_axis not in RECO_AXES:
            raise ValueError(f"model.reco.axis must be one of {RECO_AXES}, got {self.reco_axis!r}")

    def hidden_weight(self, i: int, n: int) -> float:
        """Distillation weight of hidden layer ``i`` (1-based) among ``n`` hidden layers."""
        if isinstance(self.w_hidden, (int, float)):
            return float(self.w_hidden)
        w = list(self.w_hidden)
        if len(w) != n:
            raise ValueError(f"model.loss_weights.hidden lists {len(w)} weights but the net has {n} hidden layers")
        return float(w[i - 1])


def spiking(layer, v: torch.Tensor) -> torch.Tensor:
    """The layer's LIF soma: voltages to 0/1 spikes."""
    return layer.lif(v)


def relu(layer, v: torch.Tensor) -> torch.Tensor:
    """Non-spiking stand-in (BP on ANN)."""
    return torch.relu(v)


@dataclass
class ForwardTrace:
    """What one pass of the forward (perception) net produced."""

    out: torch.Tensor  # concept voltage [T, B, D_L]
    inputs: list[torch.Tensor]  # input of layer i (i = 1..L), [T, B, ...]
    stats: list[Stats | None]  # basal norm statistics of hidden layers
    #: ``local`` runs: output of hidden layer i (i = 1..L-1) at ``own[i - 1]``, with that layer's graph only
    own: list[torch.Tensor] | None = None


def forward_net(stack: Stack, s0: torch.Tensor, act: Activation = spiking, local: bool = False) -> ForwardTrace:
    """Run the forward net on stimulus ``s0 [T, B, ...]``; graph only if grad is enabled.

    ``local``: every layer receives its input detached, so each hidden layer's output (kept in
    ``own``) carries a graph through that layer alone; what passes on to the next layer has none.
    """
    s = s0
    inputs, stats, own = [], [], []
    for layer in stack.hidden:
        inputs.append(s)
        v, st = layer.basal_voltage(s)
        stats.append(st)
        s = act(layer, v)
        if local:
            own.append(s)
            s = s.detach()
    inputs.append(s)
    with torch.set_grad_enabled(torch.is_grad_enabled() and not local):  # local: the concept's loss has its own
        out = apply_folded(stack.concept.basal, s)
    return ForwardTrace(out, inputs, stats, own if local else None)


class Rule(abc.ABC):
    """A way to train a :class:`Stack`. Subclasses implement :meth:`loss`."""

    name = "rule"
    #: plausibility criteria (C1..C5) the rule meets, for reports
    criteria: tuple[str, ...] = ()
    #: losses whose gradient is a signed error (spec C5 asks to report them)
    signed_losses: tuple[str, ...] = ("all (end-to-end back-propagation)",)
    activation: Activation = staticmethod(spiking)

    def __init__(self, cfg: RuleConfig) -> None:
        self.cfg = cfg

    @property
    def T(self) -> int:
        """Simulation steps used by this rule."""
        return int(self.cfg.T)

    def encode(self, stack: Stack, x: torch.Tensor) -> torch.Tensor:
        """Stimulus ``[B, ...]`` to ``[T, B, *in_shape]``."""
        x = x.reshape(x.shape[0], *stack.in_shape)
        return encode_stimulus(x, self.T, self.cfg.encoder)

    @abc.abstractmethod
    def loss(self, stack: Stack, code: LabelCode, x: torch.Tensor, y: torch.Tensor
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Training loss of one batch and a dict of cheap diagnostics."""

    @torch.no_grad()
    def predict(self, stack: Stack, code: LabelCode, x: torch.Tensor) -> torch.Tensor:
        """Class scores ``[B, C]`` from the forward net alone."""
        trace = forward_net(stack, self.encode(stack, x), self.activation)
        return code.logits(trace.out.mean(0))
