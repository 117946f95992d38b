"""Lightning callbacks: timing, the weight average, early stopping on the task's metric, task artefacts."""

from .artefacts import AutoencoderArtefacts, Floors, TextSample, setup_fid
from .early_stopping import TaskEarlyStopping
from .ema import WeightEMA
from .timing import EpochTimer, TimeToTarget

__all__ = ["AutoencoderArtefacts", "EpochTimer", "Floors", "TaskEarlyStopping", "TextSample", "TimeToTarget",
           "WeightEMA", "setup_fid"]
