"""Typed schemas of the ``model`` config group: one per architecture, sharing what every one has.

Each field's comment says what the key means and its allowed values; why a default was chosen is on
the task's page under ``docs/experiments/``. Range checks run when the config becomes these objects
(:func:`bsd.config.to_objects`), before any data is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .choices import Backward, BpCredit, CodeKind, Encoder, LatentPrior, LatentSampling, LatentSpace, ReduceT, RnnNorm
from .parts import (
    AeRecoConfig,
    CodeConfig,
    DllConfig,
    FeedbackConfig,
    ImageRecoConfig,
    LossWeights,
    NeuronConfig,
    OptimizerConfig,
    PcConfig,
    PopulationCodeConfig,
    RecoConfig,
    RnnCodeConfig,
    RnnNeuronConfig,
    RnnRecoConfig,
    RstdpConfig,
    at_least,
)


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
    #: bsd: layer (each layer's graph is built, differentiated and freed before the next: memory flat in depth) |
    #: joint (every layer's graph kept to one backward pass at the end of the step); the same gradients.
    #: Back-propagation rules ignore it
    backward: Backward = Backward.layer

    def __post_init__(self) -> None:
        at_least("model.T", self.T, 1)
        at_least("model.decorrelation", self.decorrelation, 0.0)
        expected = ARCHES.get(type(self))
        if expected is not None and self.arch != expected:
            raise ValueError(f"model.arch cannot be changed on its own; choose the architecture with model={self.arch} "
                             f"(this config is model={expected})")
        if self.encoder == Encoder.population and self.arch != "rnn":
            raise ValueError(f"model.encoder=population codes analog input steps; it is implemented for model=rnn, "
                             f"not model={self.arch}")
        if self.code.kind in (CodeKind.population, CodeKind.direct) and self.arch != "rnn":
            raise ValueError(f"model.code.kind={self.code.kind} is a forecaster's target code (model=rnn), not "
                             f"model={self.arch}'s")


def _widths(key: str, values: list[int]) -> None:
    if len(values) < 1:
        raise ValueError(f"{key} must list at least one width")
    if any(v < 1 for v in values):
        raise ValueError(f"{key} must hold positive integers, got {list(values)}")


@dataclass
class ImageModelConfig(ModelConfig):
    """What the image classifiers add: the settings of the comparison rules defined on them (docs/design.md 1)."""

    #: fa, dfa: the fixed random feedback
    fa: FeedbackConfig = field(default_factory=FeedbackConfig)
    #: pc: predictive coding's inference
    pc: PcConfig = field(default_factory=PcConfig)
    #: dll: Dendritic Localized Learning
    dll: DllConfig = field(default_factory=DllConfig)
    #: rstdp: reward-modulated STDP
    rstdp: RstdpConfig = field(default_factory=RstdpConfig)


@dataclass
class MlpConfig(ImageModelConfig):
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
class CnnConfig(ImageModelConfig):
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
        at_least("model.latent", self.latent, 1)
        at_least("model.latent_components", self.latent_components, 1)
        at_least("model.image_readout", self.image_readout, 0.0)
        at_least("model.decoder_match", self.decoder_match, 0.0)
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
        at_least("model.recurrent_gain", self.recurrent_gain, 0.0)
        if self.reduce_T != ReduceT.mean:
            raise ValueError("the rnn supports model.reduce_T=mean only")
        if self.bp_credit != BpCredit.sequence and self.rule == "bsd":
            raise ValueError(f"model.bp_credit={self.bp_credit} sets how far back-propagation reaches in the bp rules; "
                             "bsd's own setting is model.reco.through_time (0 = per position)")


#: the architecture name of each schema
ARCHES: dict[type, str] = {MlpConfig: "mlp", CnnConfig: "cnn", AeConfig: "ae", RnnConfig: "rnn"}
#: the schema of each architecture
SCHEMAS: dict[str, type[ModelConfig]] = {v: k for k, v in ARCHES.items()}
