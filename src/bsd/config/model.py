"""Typed schemas of the ``model`` config group: one per architecture, sharing what every one has.

Each field's comment says what the key means and its allowed values; why a default was chosen is on
the task's page under ``docs/experiments/``. Range checks run when the config becomes these objects
(:func:`bsd.config.to_objects`), before any data is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .choices import (
    AdamImpl,
    BpCredit,
    Center,
    CodeContext,
    CodeKind,
    Encoder,
    LatentPrior,
    LatentSampling,
    LatentSpace,
    LifGraph,
    Margin,
    PushWeight,
    RecoAxis,
    RecoOn,
    ReduceT,
    Reset,
    RnnNorm,
    SameClass,
    Scheduler,
    Surrogate,
    Theta,
    TimeFeedback,
    TimePath,
    Tuning,
)


def _at_least(key: str, value: float, low: float, strict: bool = False) -> None:
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
        _at_least("model.neuron.threshold", self.threshold, 0.0, strict=True)
        if not 0.0 <= self.beta <= 1.0:
            raise ValueError(f"model.neuron.beta must lie in [0, 1], got {self.beta}")
        _at_least("model.neuron.alpha", self.alpha, 0.0, strict=True)


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
        _at_least("model.neuron.bias_spread", self.bias_spread, 0.0)
        _at_least("model.neuron.adapt", self.adapt, 0.0)
        _at_least("model.neuron.adapt_tau", self.adapt_tau, 0.0, strict=True)


@dataclass
class CodeConfig:
    """The target code that drives the backward net from the top."""

    #: one_hot | random_binary (population: forecasting, model=rnn only)
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
            _at_least("model.code.dim", self.dim, 1)


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
        _at_least("model.input_code.dim", self.dim, 2)
        if self.lo >= self.hi:
            raise ValueError(f"model.input_code.lo must be < hi, got {self.lo} and {self.hi}")


@dataclass
class RnnCodeConfig(CodeConfig):
    """Target codes of the spiking RNN: one-hot or random for text, a population code for forecasts."""

    #: population code: range in normalised target units (lo < hi)
    lo: float = -3.0
    hi: float = 3.0
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
        if self.lo >= self.hi:
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
        _at_least("model.reco.lam", self.lam, 0.0)


@dataclass
class ImageRecoConfig(RecoConfig):
    """ReCo of the image classifiers."""

    #: null (whole maps) | k >= 1: image-shaped layers larger than k x k are average-pooled to k x k first
    #: (fully connected layers are never pooled)
    pool: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.pool is not None:
            _at_least("model.reco.pool", self.pool, 1)


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
            _at_least(f"model.reco.frequency.{key}", getattr(self, key), 0.0)


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
    #: with through_time: transport (back through W_h itself) | random (a fixed random matrix)
    time_feedback: TimeFeedback = TimeFeedback.transport
    #: rest (earlier positions' rates recomputed from rest) | forward (ReCo reads the forward stream's own
    #: simulation and credit runs back through it, cut every through_time + 1 positions)
    time_path: TimePath = TimePath.rest
    #: fraction in [0, 1) of each hidden layer's units (the last ones) left out of ReCo (needs through_time >= 1)
    free_units: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _at_least("model.reco.through_time", self.through_time, 0)
        if not 0.0 <= self.free_units < 1.0:
            raise ValueError(f"model.reco.free_units must be a fraction in [0, 1), got {self.free_units}")
        if self.free_units and not self.through_time:
            raise ValueError("model.reco.free_units > 0 leaves units out of ReCo that only credit through time can "
                             "train; set model.reco.through_time >= 1 (or free_units=0)")


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
        _at_least("model.loss_weights.concept", self.concept, 0.0)
        _at_least("model.loss_weights.recall", self.recall, 0.0)


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

    def __post_init__(self) -> None:
        _at_least("model.optimizer.lr", self.lr, 0.0, strict=True)
        _at_least("model.optimizer.weight_decay", self.weight_decay, 0.0)
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"model.optimizer.betas must be two numbers in [0, 1), got {list(self.betas)}")


@dataclass
class ModelConfig:
    """What every architecture has: the rule, the spiking steps, the neuron, the codes and the losses."""

    #: the architecture (set by the group choice: model=mlp | cnn | rnn | ae)
    arch: str = "mlp"
    #: learning rule, looked up in the rule registry for this architecture's family (bsd, bp_snn, bp_ann, ...)
    rule: str = "bsd"
    #: spiking steps per sample (per sequence position for the rnn; >= 1; bp_ann always uses 1)
    T: int = 4
    #: direct (an analog current every step) | bernoulli (0/1 spikes at the input's rate)
    encoder: Encoder = Encoder.direct
    #: mean (local losses on the time-mean) | per_step (on every step)
    reduce_T: ReduceT = ReduceT.mean
    neuron: NeuronConfig = field(default_factory=NeuronConfig)
    code: CodeConfig = field(default_factory=CodeConfig)
    reco: RecoConfig = field(default_factory=RecoConfig)
    #: weight of a layer-local lateral decorrelation of the basal voltage (>= 0; 0: off)
    decorrelation: float = 0.0
    loss_weights: LossWeights = field(default_factory=LossWeights)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)

    def __post_init__(self) -> None:
        _at_least("model.T", self.T, 1)
        _at_least("model.decorrelation", self.decorrelation, 0.0)
        expected = ARCHES.get(type(self))
        if expected is not None and self.arch != expected:
            raise ValueError(f"model.arch cannot be changed on its own; choose the architecture with model={self.arch} "
                             f"(this config is model={expected})")
        if self.encoder == Encoder.population and self.arch != "rnn":
            raise ValueError(f"model.encoder=population codes analog input steps; it is implemented for model=rnn, "
                             f"not model={self.arch}")
        if self.code.kind == CodeKind.population and self.arch != "rnn":
            raise ValueError(f"model.code.kind=population is the forecaster's target code (model=rnn), not "
                             f"model={self.arch}'s")


def _widths(key: str, values: list[int]) -> None:
    if len(values) < 1:
        raise ValueError(f"{key} must list at least one width")
    if any(v < 1 for v in values):
        raise ValueError(f"{key} must hold positive integers, got {list(values)}")


@dataclass
class MlpConfig(ModelConfig):
    """Fully connected classifier: one pyramidal layer per hidden width."""

    arch: str = "mlp"
    #: hidden widths, input to output
    widths: list[int] = field(default_factory=lambda: [4096, 256, 256, 256, 256])
    #: batch normalisation of hidden layers' basal and apical voltages
    norm: bool = True
    reco: ImageRecoConfig = field(default_factory=ImageRecoConfig)

    def __post_init__(self) -> None:
        super().__post_init__()
        _widths("model.widths", self.widths)


@dataclass
class CnnConfig(ModelConfig):
    """Convolutional classifier: conv3x3 + 2x2 average pool per channel count, then fully connected layers."""

    arch: str = "cnn"
    channels: list[int] = field(default_factory=lambda: [64, 128, 64])
    fc: list[int] = field(default_factory=lambda: [256])
    norm: bool = True
    reco: ImageRecoConfig = field(default_factory=lambda: ImageRecoConfig(pool=4))
    optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(lr=1e-3))

    def __post_init__(self) -> None:
        super().__post_init__()
        _widths("model.channels", self.channels)
        if self.fc:
            _widths("model.fc", self.fc)


@dataclass
class AeConfig(ModelConfig):
    """Spiking convolutional autoencoder: conv stages, a fully connected spiking latent, mirrored up stages."""

    arch: str = "ae"
    T: int = 8
    channels: list[int] = field(default_factory=lambda: [16, 32])
    #: spiking latent units
    latent: int = 128
    norm: bool = True
    #: how sampled latent rates become spike trains: bernoulli | regular
    latent_sampling: LatentSampling = LatentSampling.bernoulli
    #: density fitted to training latents: gaussian (one full-covariance Gaussian) | gmm (a mixture)
    latent_prior: LatentPrior = LatentPrior.gmm
    #: mixture components with latent_prior=gmm (>= 1)
    latent_components: int = 4
    #: what the prior is fitted to: current (the latent layer's time-mean input current) | rate (its rates)
    latent_space: LatentSpace = LatentSpace.current
    reco: AeRecoConfig = field(default_factory=AeRecoConfig)
    #: bsd: weight of each image-shaped decoder layer's local readout of the pooled image (>= 0; 0: off)
    image_readout: float = 0.0
    #: bsd: weight of each decoder layer's basal-to-apical voltage match (>= 0; 0: off)
    decoder_match: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _widths("model.channels", self.channels)
        _at_least("model.latent", self.latent, 1)
        _at_least("model.latent_components", self.latent_components, 1)
        _at_least("model.image_readout", self.image_readout, 0.0)
        _at_least("model.decoder_match", self.decoder_match, 0.0)
        if (self.image_readout or self.decoder_match) and self.rule != "bsd":
            key = "image_readout" if self.image_readout else "decoder_match"
            raise ValueError(f"model.{key} is a local loss of bsd; set it to 0 for model.rule={self.rule}")


@dataclass
class RnnConfig(ModelConfig):
    """Spiking RNN for sequences: recurrent hidden layers (membrane carried across positions) and a readout."""

    arch: str = "rnn"
    widths: list[int] = field(default_factory=lambda: [512])
    #: batch (per-step batch statistics) | layer (per sample, across units) | none
    norm: RnnNorm = RnnNorm.batch
    #: the readout also reads the stimulus beside the top hidden layer's spikes
    readout_skip: bool = False
    #: forecasting: 0 (off) | K >= 2: hidden unit j may spike only in part j mod K of the day
    context_gate: int = 0
    #: forecasting: 0 (off) | m in 1..8: unit j may also spike only on its side pattern of m fixed random
    #: hyperplanes of the normalised input step
    gate_planes: int = 0
    gate_seed: int = 0
    #: input columns the planes read (empty: all)
    gate_features: list[str] = field(default_factory=list)
    #: each plane passes through a random point (false: the origin)
    gate_offset: bool = False
    #: initial scale of W_h against the default init (>= 0; 0 removes the recurrence)
    recurrent_gain: float = 0.1
    #: bp rules: sequence (back-propagation through the whole sequence) | position (the carried state detached)
    bp_credit: BpCredit = BpCredit.sequence
    neuron: RnnNeuronConfig = field(default_factory=RnnNeuronConfig)
    code: RnnCodeConfig = field(default_factory=RnnCodeConfig)
    reco: RnnRecoConfig = field(default_factory=RnnRecoConfig)
    #: encoder=population: the tuning curves every analog input feature drives
    input_code: PopulationCodeConfig = field(default_factory=PopulationCodeConfig)

    def __post_init__(self) -> None:
        super().__post_init__()
        _widths("model.widths", self.widths)
        if self.context_gate < 0 or self.context_gate == 1:
            raise ValueError(f"model.context_gate must be 0 (off) or an integer >= 2, got {self.context_gate}")
        if not 0 <= self.gate_planes <= 8:
            raise ValueError(f"model.gate_planes must be an integer in 0..8 (0: off), got {self.gate_planes}")
        _at_least("model.recurrent_gain", self.recurrent_gain, 0.0)
        if self.reduce_T != ReduceT.mean:
            raise ValueError("the rnn supports model.reduce_T=mean only")
        if self.bp_credit != BpCredit.sequence and self.rule == "bsd":
            raise ValueError(f"model.bp_credit={self.bp_credit} sets how far back-propagation reaches in the bp rules; "
                             "bsd's own setting is model.reco.through_time (0 = per position)")


#: the architecture name of each schema
ARCHES: dict[type, str] = {MlpConfig: "mlp", CnnConfig: "cnn", AeConfig: "ae", RnnConfig: "rnn"}
#: the schema of each architecture
SCHEMAS: dict[str, type[ModelConfig]] = {v: k for k, v in ARCHES.items()}
