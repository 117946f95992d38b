"""The fixed sets of values that config keys choose from (Hydra refuses any other value by the key's name)."""

from __future__ import annotations

from enum import Enum


class Choice(str, Enum):
    """A config value from a fixed set; it compares, hashes and prints as its string."""

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:
        return repr(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class Encoder(Choice):
    """How the stimulus enters layer 1."""

    direct = "direct"
    bernoulli = "bernoulli"
    population = "population"


class ReduceT(Choice):
    """How the local losses reduce the T spiking steps."""

    mean = "mean"
    per_step = "per_step"


class Reset(Choice):
    """What a LIF neuron's membrane does after a spike."""

    hard = "hard"
    soft = "soft"


class Surrogate(Choice):
    """The surrogate derivative used where a gradient passes a spike."""

    atan = "atan"
    sigmoid = "sigmoid"


class LifGraph(Choice):
    """How training keeps the LIF's autograd graph."""

    fused = "fused"
    stepwise = "stepwise"


class CodeKind(Choice):
    """The target code that drives the backward net."""

    one_hot = "one_hot"
    random_binary = "random_binary"
    population = "population"
    direct = "direct"


class SameClass(Choice):
    """What ReCo does with pairs of samples that share a target."""

    negative = "negative"
    ignore = "ignore"
    positive = "positive"


class RecoOn(Choice):
    """What ReCo compares."""

    voltage = "voltage"
    spikes = "spikes"


class RecoAxis(Choice):
    """Over what ReCo's cosines run."""

    sample = "sample"
    unit = "unit"


class Theta(Choice):
    """Whether the apical weights of hidden layers learn."""

    learned = "learned"
    fixed = "fixed"


class Center(Choice):
    """Batch centring of what ReCo compares."""

    none = "none"
    batch = "batch"
    push = "push"


class PushWeight(Choice):
    """How each pair's push is weighted."""

    uniform = "uniform"
    code = "code"


class Margin(Choice):
    """Where each pair's push starts."""

    zero = "zero"
    code = "code"


class TimeFeedback(Choice):
    """What credit through time steps back through."""

    transport = "transport"
    random = "random"
    trace = "trace"


class TimePath(Choice):
    """What a recurrent layer's ReCo reads and credits along."""

    rest = "rest"
    forward = "forward"


class BpCredit(Choice):
    """How far back-propagation reaches through a recurrence."""

    sequence = "sequence"
    position = "position"


class Scheduler(Choice):
    """The learning-rate schedule."""

    none = "none"
    cosine = "cosine"


class ClipScope(Choice):
    """How a rule whose losses are layer-local applies ``trainer.gradient_clip_val``."""

    all = "all"
    layer = "layer"
    off = "off"


class Backward(Choice):
    """How a rule whose losses are layer-local computes its gradients in one step."""

    joint = "joint"
    layer = "layer"


class AdamImpl(Choice):
    """The AdamW kernel (the same update)."""

    fused = "fused"
    foreach = "foreach"
    for_loop = "for_loop"


class RnnNorm(Choice):
    """Normalisation of a recurrent layer's dendritic voltages."""

    batch = "batch"
    layer = "layer"
    none = "none"


class Tuning(Choice):
    """The tuning curves of a population code."""

    gaussian = "gaussian"
    ramp = "ramp"


class CodeContext(Choice):
    """What picks the block of a context-gated target code."""

    day = "day"
    week = "week"
    halfspace = "halfspace"


class LatentSampling(Choice):
    """How sampled latent rates become spike trains."""

    bernoulli = "bernoulli"
    regular = "regular"


class LatentPrior(Choice):
    """The density fitted to training latents that samples are drawn from."""

    gaussian = "gaussian"
    gmm = "gmm"


class LatentSpace(Choice):
    """What the latent prior is fitted to."""

    rate = "rate"
    current = "current"


class Predict(Choice):
    """What a forecaster outputs."""

    level = "level"
    change = "change"
    residual = "residual"


class Mode(Choice):
    """Whether a larger or a smaller value of a metric is better."""

    max = "max"
    min = "min"


class LoggerKind(Choice):
    """Where metrics are logged."""

    csv = "csv"
    wandb = "wandb"
    none = "none"


class WandbMode(Choice):
    """Weights & Biases mode."""

    auto = "auto"
    online = "online"
    offline = "offline"
    disabled = "disabled"
