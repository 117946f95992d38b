"""Typed schemas of the parts every model config is made of: the neuron, the codes, ReCo, the loss weights, AdamW.

Each field's comment says what the key means and its allowed values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .choices import (
    AdamImpl,
    Center,
    Choice,
    ClipScope,
    CodeContext,
    CodeKind,
    LifGraph,
    Margin,
    PushWeight,
    RecoAxis,
    RecoOn,
    Reset,
    SameClass,
    Scheduler,
    Surrogate,
    Theta,
    TimeFeedback,
    TimePath,
    Tuning,
)


def at_least(key: str, value: float, low: float, strict: bool = False) -> None:
    """Refuse ``value`` of config key ``key`` below ``low`` (or at it, with ``strict``)."""
    if value < low or (strict and value == low):
        raise ValueError(f"{key} must be {'>' if strict else '>='} {low}, got {value}")


@dataclass
class NeuronConfig:
    """The LIF soma of every spiking layer."""

    #: firing threshold (> 0)
    threshold: float = 0.6
    #: membrane decay per step in [0, 1] (0.5: time constant 2 steps)
    beta: float = 0.5
    #: hard (membrane to zero after a spike) | soft (the threshold is subtracted)
    reset: Reset = Reset.hard
    #: atan | sigmoid: the surrogate derivative where a gradient passes a spike
    surrogate: Surrogate = Surrogate.atan
    #: sharpness of the surrogate derivative (> 0)
    alpha: float = 2.0
    #: torch.compile the no-graph spike simulation (one fused kernel for all T steps)
    compile: bool = False
    #: fused (all T steps one autograd node) | stepwise (autograd through every step: the reference)
    graph: LifGraph = LifGraph.fused

    def __post_init__(self) -> None:
        at_least("model.neuron.threshold", self.threshold, 0.0, strict=True)
        if not 0.0 <= self.beta <= 1.0:
            raise ValueError(f"model.neuron.beta must lie in [0, 1], got {self.beta}")
        at_least("model.neuron.alpha", self.alpha, 0.0, strict=True)


@dataclass
class RnnNeuronConfig(NeuronConfig):
    """The recurrent layer's LIF, with heterogeneous excitability and adaptation."""

    #: fixed tonic current per hidden unit, spread evenly over [-bias_spread, bias_spread] (0: identical units)
    bias_spread: float = 0.0
    #: spike-frequency adaptation: the threshold rises by adapt x a trace of the unit's spikes (0: off)
    adapt: float = 0.0
    #: time constant of that trace in spiking steps (> 0)
    adapt_tau: float = 48.0

    def __post_init__(self) -> None:
        super().__post_init__()
        at_least("model.neuron.bias_spread", self.bias_spread, 0.0)
        at_least("model.neuron.adapt", self.adapt, 0.0)
        at_least("model.neuron.adapt_tau", self.adapt_tau, 0.0, strict=True)


@dataclass
class CodeConfig:
    """The target code that drives the backward net from the top."""

    #: one_hot | random_binary (forecasting, model=rnn only: population, tuning curves of the value | direct, the
    #: value itself as an analog current, the spec's)
    kind: CodeKind = CodeKind.one_hot
    #: width of random_binary codes (null: the number of classes)
    dim: int | None = None
    #: probability of a 1 in a random_binary code, in (0, 1)
    density: float = 0.5
    #: seed of the random_binary draw
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 < self.density < 1.0:
            raise ValueError(f"model.code.density must lie in (0, 1), got {self.density}")
        if self.dim is not None:
            at_least("model.code.dim", self.dim, 1)


@dataclass
class PopulationCodeConfig:
    """Tuning curves that turn analog values into currents (the forecaster's input code)."""

    #: curves per value (>= 2)
    dim: int = 16
    #: range the curves cover, in normalised units (lo < hi)
    lo: float = -3.0
    hi: float = 3.0
    #: gaussian (bumps) | ramp (sigmoid steps: a thermometer code)
    shape: Tuning = Tuning.gaussian

    def __post_init__(self) -> None:
        at_least("model.input_code.dim", self.dim, 2)
        if self.lo >= self.hi:
            raise ValueError(f"model.input_code.lo must be < hi, got {self.lo} and {self.hi}")


@dataclass
class RnnCodeConfig(CodeConfig):
    """Target codes of the spiking RNN: one-hot or random for text, a population code for forecasts."""

    #: population code: range in normalised target units (lo < hi; null: the 0.5 % and 99.5 % quantiles of a
    #: forecast's training targets)
    lo: float | None = -3.0
    hi: float | None = 3.0
    #: population code tuning curves: gaussian | ramp (a thermometer code)
    shape: Tuning = Tuning.gaussian
    #: forecasting, bsd: 0 (off) | K >= 2: the code sits in one of K blocks picked by `context`
    context_bins: int = 0
    #: with context_bins: keep the ungated code in front of the blocks
    context_keep: bool = False
    #: with context_bins: top hidden unit j reads only block j mod K through Theta
    context_assign: bool = False
    #: with context_bins: day (part of the day) | week (parts of the day, weekdays then weekends) |
    #: halfspace (sides of log2(K) fixed random hyperplanes of the input step)
    context: CodeContext = CodeContext.day
    #: seed of the halfspace planes
    context_seed: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.lo is not None and self.hi is not None and self.lo >= self.hi:
            raise ValueError(f"model.code.lo must be < hi, got {self.lo} and {self.hi}")
        if self.context_bins < 0 or self.context_bins == 1:
            raise ValueError(f"model.code.context_bins must be 0 (off) or >= 2, got {self.context_bins}")
        if self.context_assign and not self.context_bins:
            raise ValueError("model.code.context_assign=true assigns units to the blocks of model.code.context_bins; "
                             "set context_bins >= 2")


@dataclass
class RecoConfig:
    """ReCo, each hidden layer's local loss (bsd only): pull towards the apical target, push from the others."""

    #: weight of the push term (>= 0)
    lam: float = 0.6
    #: pairs that share a target: negative (pushed, the paper's literal form) | ignore | positive (pulled)
    same_class: SameClass = SameClass.ignore
    #: voltage (the paper's: basal vs apical voltage) | spikes (the rates each dendrite drives through the
    #: layer's own LIF, surrogate gradient inside the layer)
    on: RecoOn = RecoOn.spikes
    #: learned (the paper's) | fixed (hidden layers' Theta stays at its random init; recall stays learned)
    theta: Theta = Theta.learned
    #: none (the paper's) | batch (both sides centred over the batch per feature) | push (the push term only)
    center: Center = Center.batch
    #: zero (the paper's hinge at cosine 0) | code (a pair is pushed only above the cosine of the two targets)
    margin: Margin = Margin.zero

    def __post_init__(self) -> None:
        at_least("model.reco.lam", self.lam, 0.0)


@dataclass
class ImageRecoConfig(RecoConfig):
    """ReCo of the image classifiers."""

    #: null (whole maps) | k >= 1: image-shaped layers larger than k x k are average-pooled to k x k first
    #: (fully connected layers are never pooled)
    pool: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.pool is not None:
            at_least("model.reco.pool", self.pool, 1)


@dataclass
class FrequencyConfig:
    """Frequency-aware ReCo: separate terms for the low and high spatial-frequency bands of image-shaped layers."""

    #: on | off (plain ReCo everywhere)
    enabled: bool = True
    #: radial cut-off as a fraction of the Nyquist frequency, in (0, 1)
    cutoff: float = 0.25
    #: push weights of the low and high bands (>= 0)
    lam_low: float = 0.05
    lam_high: float = 1.0
    #: weight of the whole high-band term against the low band's (>= 0; 1: their plain sum)
    w_high: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 < self.cutoff < 1.0:
            raise ValueError(f"model.reco.frequency.cutoff must lie in (0, 1) (a fraction of Nyquist), got "
                             f"{self.cutoff}")
        for key in ("lam_low", "lam_high", "w_high"):
            at_least(f"model.reco.frequency.{key}", getattr(self, key), 0.0)


@dataclass
class AeRecoConfig(ImageRecoConfig):
    """ReCo of the autoencoder, frequency-aware on its image-shaped layers."""

    lam: float = 0.05
    on: RecoOn = RecoOn.voltage
    center: Center = Center.none
    margin: Margin = Margin.code
    frequency: FrequencyConfig = field(default_factory=FrequencyConfig)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.pool is not None and self.frequency.enabled:
            raise ValueError("model.reco.pool pools away the spatial frequencies that frequency-aware ReCo splits; "
                             "set model.reco.pool=null or model.reco.frequency.enabled=false")


@dataclass
class RnnRecoConfig(RecoConfig):
    """ReCo of the spiking RNN, per sequence position, and its credit through time inside a layer."""

    lam: float = 0.05
    on: RecoOn = RecoOn.voltage
    center: Center = Center.none
    #: sample (cosines over units per sample) | unit (each unit's correlation over the batch)
    axis: RecoAxis = RecoAxis.sample
    #: uniform | code (each pair's push scaled by one minus the cosine of the two targets' codes)
    push_weight: PushWeight = PushWeight.uniform
    #: 0 (the spec's per-position ReCo) | k >= 1: a position's ReCo also trains the layer's weights at the k
    #: positions before it, through the layer's own recurrence (no gradient crosses layers)
    through_time: int = 0
    #: with through_time: transport (back through W_h itself) | random (a fixed random matrix) | trace (through
    #: each unit's own membrane only, an eligibility trace of its inputs: no matrix on the way back)
    time_feedback: TimeFeedback = TimeFeedback.transport
    #: rest (earlier positions' rates recomputed from rest) | forward (ReCo reads the forward stream's own
    #: simulation and credit runs back through it, cut every through_time + 1 positions)
    time_path: TimePath = TimePath.rest
    #: fraction in [0, 1) of each hidden layer's units (the last ones) left out of ReCo (needs through_time >= 1)
    free_units: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        at_least("model.reco.through_time", self.through_time, 0)
        if not 0.0 <= self.free_units < 1.0:
            raise ValueError(f"model.reco.free_units must be a fraction in [0, 1), got {self.free_units}")
        if self.free_units and not self.through_time:
            raise ValueError("model.reco.free_units > 0 leaves units out of ReCo that only credit through time can "
                             "train; set model.reco.through_time >= 1 (or free_units=0)")


@dataclass
class FeedbackConfig:
    """fa and dfa: the fixed random feedback matrices that carry the error instead of W's transpose."""

    #: seed of the feedback draw (every matrix is drawn once from it; the same seed gives the same matrices)
    seed: int = 0
    #: standard deviation of the entries, times 1 / sqrt(fan-in of the map that carries the error) (> 0)
    scale: float = 64.0

    def __post_init__(self) -> None:
        at_least("model.fa.scale", self.scale, 0.0, strict=True)


@dataclass
class PcConfig:
    """pc: predictive coding on the ANN form of the backbone (ReLU, one step), supervised at the top."""

    #: inference steps on the hidden activities before the weights learn (>= 1)
    steps: int = 5
    #: step size of the inference (gradient descent of the energy on the activities; > 0)
    inference_lr: float = 0.2

    def __post_init__(self) -> None:
        at_least("model.pc.steps", self.steps, 1)
        at_least("model.pc.inference_lr", self.inference_lr, 0.0, strict=True)


@dataclass
class DllConfig:
    """dll: Dendritic Localized Learning on the ANN form of the backbone (ReLU, one step)."""

    #: every local error is clamped to [-clip, clip] (> 0; the reference code's 50)
    clip: float = 50.0
    #: rate of Theta's Hebbian rule on the errors of its two layers, applied in place (>= 0; 0 keeps Theta fixed)
    theta_lr: float = 1e-2

    def __post_init__(self) -> None:
        at_least("model.dll.clip", self.clip, 0.0, strict=True)
        at_least("model.dll.theta_lr", self.theta_lr, 0.0)


class RstdpOutput(Choice):
    """What modulates rstdp's concept (winner-take-all) layer."""

    sign = "sign"
    margin = "margin"
    reward = "reward"


class RstdpHidden(Choice):
    """What modulates rstdp's hidden synapses (one value per sample, the same in every hidden layer)."""

    one = "one"
    reward = "reward"


@dataclass
class RstdpConfig:
    """rstdp: reward-modulated STDP on the spiking backbone (weights change in place, no optimiser)."""

    #: time constants, in spiking steps, of the presynaptic and postsynaptic traces (> 0)
    tau_pre: float = 2.0
    tau_post: float = 2.0
    #: amplitude of depression (post before pre) against potentiation (pre before post, amplitude 1; >= 0)
    a_minus: float = 0.5
    #: concept layer: sign (+1 on the target's units, -1 on a wrong winner's) | margin (+1 on the target's units,
    #: -1 on every other unit whose voltage comes within ``margin`` of the target's) | reward (the global reward
    #: on the winner's units only)
    output: RstdpOutput = RstdpOutput.margin
    #: output=margin: how far (in voltage) below the target's a wrong unit must stay to be left alone (>= 0)
    margin: float = 1.0
    #: learning rate of the concept (winner-take-all) layer (> 0)
    lr: float = 0.02
    #: learning rate of the hidden layers, relative to each unit's weight norm (>= 0; 0 keeps them at their init)
    hidden_lr: float = 0.01
    #: hidden layers: lateral inhibition leaves this many winners per sample (per position in a conv layer), the
    #: only units whose synapses change (>= 1)
    winners: int = 16
    #: hidden modulator: one (plain STDP under lateral inhibition; the reward acts on the concept layer) |
    #: reward (R - <R>, the reward against the batch's mean)
    hidden: RstdpHidden = RstdpHidden.one

    def __post_init__(self) -> None:
        at_least("model.rstdp.tau_pre", self.tau_pre, 0.0, strict=True)
        at_least("model.rstdp.tau_post", self.tau_post, 0.0, strict=True)
        at_least("model.rstdp.a_minus", self.a_minus, 0.0)
        at_least("model.rstdp.margin", self.margin, 0.0)
        at_least("model.rstdp.lr", self.lr, 0.0, strict=True)
        at_least("model.rstdp.hidden_lr", self.hidden_lr, 0.0)
        at_least("model.rstdp.winners", self.winners, 1)


@dataclass
class LossWeights:
    """Weights of the layer-local losses in their sum."""

    #: hidden layers' ReCo: one number, or a list with one weight per hidden layer (each >= 0)
    hidden: Any = 1.0
    #: the top layer's loss (cross-entropy, MSE)
    concept: float = 1.0
    #: the stimulus layer's recall of the input from the backward net
    recall: float = 1.0

    def __post_init__(self) -> None:
        ws = self.hidden if isinstance(self.hidden, (list, tuple)) else [self.hidden]
        for w in ws:
            if isinstance(w, bool) or not isinstance(w, (int, float)) or w < 0:
                raise ValueError(f"model.loss_weights.hidden must be a number >= 0 or a list of them, got "
                                 f"{self.hidden!r}")
        at_least("model.loss_weights.concept", self.concept, 0.0)
        at_least("model.loss_weights.recall", self.recall, 0.0)


@dataclass
class OptimizerConfig:
    """AdamW and its schedule."""

    #: learning rate (> 0)
    lr: float = 3e-3
    weight_decay: float = 1e-2
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    #: none | cosine (per step, over the whole run)
    scheduler: Scheduler = Scheduler.cosine
    #: fused | foreach | for_loop (the same update, different kernels)
    impl: AdamImpl = AdamImpl.fused
    #: how a rule with layer-local losses (bsd) applies trainer.gradient_clip_val: all (one norm over every
    #: layer's gradients, as back-propagation; it couples the layers' updates) | layer (each layer's own norm) |
    #: off (no clipping). Back-propagation rules always clip the norm over all their gradients
    clip_local: ClipScope = ClipScope.all

    def __post_init__(self) -> None:
        at_least("model.optimizer.lr", self.lr, 0.0, strict=True)
        at_least("model.optimizer.weight_decay", self.weight_decay, 0.0)
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"model.optimizer.betas must be two numbers in [0, 1), got {list(self.betas)}")
