"""Typed schemas of the run: the root config, the trainer, the logger and the task extras."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

from .choices import LoggerKind, Mode, WandbMode


def _number(key: str, value: Any, allow_bool: bool = False) -> None:
    ok = isinstance(value, (int, float)) and (allow_bool or not isinstance(value, bool))
    if not ok:
        raise ValueError(f"{key} must be a number, got {value!r}")


@dataclass
class TrainerConfig:
    """Arguments of lightning.Trainer (any of them can be set as trainer.KEY=VALUE)."""

    max_epochs: int = 10
    #: -1: no step limit
    max_steps: int = -1
    min_epochs: int | None = None
    #: wall-clock cap "DD:HH:MM:SS" (training stops gracefully, then tests); null: none
    max_time: str | None = None
    #: auto | cpu | gpu | cuda | mps
    accelerator: str = "auto"
    #: number of devices, a list of indices, or "auto"
    devices: Any = 1
    #: auto | ddp | ddp_spawn | ... (Lightning's strategy names)
    strategy: str = "auto"
    num_nodes: int = 1
    #: null (Lightning's default, 32-true) | 16-mixed | bf16-mixed | 64-true ...
    precision: str | None = None
    #: clip the gradient norm (null: no clipping)
    gradient_clip_val: float | None = 1.0
    #: norm | value (null: Lightning's default, norm)
    gradient_clip_algorithm: str | None = None
    accumulate_grad_batches: int = 1
    log_every_n_steps: int = 50
    num_sanity_val_steps: int = 0
    enable_progress_bar: bool = True
    #: true, or a number of batches: one quick pass to check that a config runs
    fast_dev_run: Any = False
    #: a fraction of the batches (float) or a number of batches (int)
    limit_train_batches: Any = 1.0
    limit_val_batches: Any = 1.0
    limit_test_batches: Any = 1.0
    #: validate every this fraction of an epoch (float) or every this many batches (int)
    val_check_interval: Any = 1.0
    check_val_every_n_epoch: int | None = 1
    #: false | true | "warn"
    deterministic: Any = False
    benchmark: bool | None = None
    detect_anomaly: bool = False

    def __post_init__(self) -> None:
        for key in ("limit_train_batches", "limit_val_batches", "limit_test_batches", "val_check_interval"):
            _number(f"trainer.{key}", getattr(self, key))
        _number("trainer.fast_dev_run", self.fast_dev_run, allow_bool=True)
        if self.deterministic not in (True, False, "warn"):
            raise ValueError(f"trainer.deterministic must be true, false or warn, got {self.deterministic!r}")


@dataclass
class LoggerConfig:
    """Where metrics go: csv (run_dir/csv), wandb (online only with a login and a reachable server), none."""

    kind: LoggerKind = LoggerKind.csv
    project: str = "bsd"
    entity: str | None = None
    #: auto (online when logged in and the server answers, else offline) | online | offline | disabled
    mode: WandbMode = WandbMode.auto
    tags: list[str] = field(default_factory=list)


@dataclass
class SampleConfig:
    """Text models: after testing, generate `length` characters from `prompt` (printed, sample.txt, W&B)."""

    prompt: str = "ROMEO:\n"
    #: characters to generate (0: none)
    length: int = 0
    #: softmax temperature (>= 0; 0: greedy)
    temperature: float = 0.8

    def __post_init__(self) -> None:
        if self.length < 0 or self.temperature < 0:
            raise ValueError(f"sample.length and sample.temperature must be >= 0, got {self.length} and "
                             f"{self.temperature}")


@dataclass
class FidConfig:
    """FID of the autoencoder's reconstructions and samples, on classifier features."""

    enabled: bool = True
    #: the feature network (null: the one shipped for MNIST / Fashion-MNIST, else trained and cached on first use)
    features: str | None = None
    #: generated samples compared with the test images (at most the test set size)
    n_samples: int = 10000
    #: a local file of the Inception v3 FID weights: also computes the standard Inception FID
    inception_weights: str | None = None


@dataclass
class GenerationConfig:
    """The autoencoder's latent prior and its image grids."""

    #: training images the latent prior is fitted on before each validation
    n_fit: int = 10000
    #: a PNG grid of originals / reconstructions / samples every this many epochs
    grid_every: int = 1
    #: images per grid row
    n_grid: int = 8
    fid: FidConfig = field(default_factory=FidConfig)


@dataclass
class TimeToTargetConfig:
    """Training time until a validation metric first reaches a target (recorded in metrics.json)."""

    metric: str = "val/acc"
    #: the target value (null: off)
    target: float | None = None
    #: max: reached when metric >= target | min: when metric <= target
    mode: Mode = Mode.max


@dataclass
class EmaConfig:
    """Exponential moving average of the weights (image classifiers): validated, checkpointed and tested."""

    #: decay in (0, 1), e.g. 0.999 (null: off)
    decay: float | None = None
    #: the average starts as a copy of the raw weights at the first step of this epoch
    start_epoch: int = 0

    def __post_init__(self) -> None:
        if self.decay is not None and not 0.0 < self.decay < 1.0:
            raise ValueError(f"ema.decay must lie in (0, 1) (e.g. 0.999), or be null to switch the average off; got "
                             f"{self.decay}")
        if self.start_epoch < 0:
            raise ValueError(f"ema.start_epoch must be >= 0, got {self.start_epoch}")


@dataclass
class ObserveConfig:
    """Per-epoch spike statistics of the image classifiers and a raster PNG every `raster_every` epochs."""

    enabled: bool = True
    raster_every: int = 5
    n_samples: int = 4


@dataclass
class CheckpointConfig:
    """Checkpoints written during the epoch (beside the best and the last one), so a killed run loses little.

    Each overwrites ``checkpoints/mid.ckpt`` atomically; ``resume=auto`` continues the newest checkpoint.
    """

    #: every this many optimiser steps (null: off)
    every_n_steps: int | None = None
    #: every this many minutes of training (null: off); at most one of the two may be set
    every_minutes: float | None = 10.0

    def __post_init__(self) -> None:
        if self.every_n_steps is not None and self.every_minutes is not None:
            raise ValueError("set one of checkpoint.every_n_steps and checkpoint.every_minutes (the other to null)")
        if self.every_n_steps is not None and self.every_n_steps < 1:
            raise ValueError(f"checkpoint.every_n_steps must be >= 1 or null, got {self.every_n_steps}")
        if self.every_minutes is not None and not self.every_minutes > 0:
            raise ValueError(f"checkpoint.every_minutes must be > 0 or null, got {self.every_minutes}")


@dataclass
class RunConfig:
    """The root config: one run of one experiment."""

    data: Any = MISSING
    model: Any = MISSING
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    #: extra Lightning callbacks by name, each with its _target_ (config group `callbacks`)
    callbacks: dict[str, Any] = field(default_factory=dict)
    experiment_name: str = "default"
    seed: int = 0
    #: a label for screens and ablations (null for default runs)
    variant: str | None = None
    #: torch CPU threads (null: torch's default)
    threads: int | None = None
    #: continue a run: auto (the newest checkpoint of hydra.run.dir, if any) | a checkpoint's path | null
    resume: str | None = None
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    #: test the best checkpoint after training
    test: bool = True
    #: compute the data's floors (n-gram or naive forecasts) on the same test split
    floors: bool = True
    sample: SampleConfig = field(default_factory=SampleConfig)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    time_to_target: TimeToTargetConfig = field(default_factory=TimeToTargetConfig)
    ema: EmaConfig = field(default_factory=EmaConfig)
    observe: ObserveConfig = field(default_factory=ObserveConfig)

    def __post_init__(self) -> None:
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1 or null, got {self.threads}")
