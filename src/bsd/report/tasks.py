"""Task families of the results page: which runs belong to each, their metrics and baselines."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: rules in table order (others follow, sorted)
RULE_ORDER = ("bsd", "bp_snn", "bp_ann")
#: display names of recorded datasets
DATASETS = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "shakespeare": "Shakespeare",
            "vic_elec": "Victoria electricity demand", "pedestrian": "Melbourne pedestrian counts (4 sensors)",
            "pedestrian_sensor": "Melbourne pedestrian counts",
            "cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "svhn": "SVHN", "tinyimagenet": "Tiny-ImageNet",
            "traffic": "METR-LA / PEMS-BAY", "electricity": "Electricity (321 clients)"}


@dataclass(frozen=True)
class Metric:
    """A metric read as ``test/<key>`` (and ``val/<key>``), shown scaled with ``digits`` decimals."""

    key: str
    header: str
    scale: float = 1.0
    digits: int = 2
    higher: bool = True


#: config keys that say which series a forecast ran on (the report's series column, not a configuration label)
SERIES_KEYS = ("data.name", "data.path", "data.time_column", "data.target", "data.unit")


def series_name(dataset: str | None, data: dict) -> str:
    """The series a forecast ran on: a CSV file and its target, a pedestrian sensor, else the dataset (and file)."""
    path = data.get("path")
    if (data.get("name") or dataset) == "csv" and path:
        return f"{Path(str(path)).name}: {data.get('target')}"
    if (data.get("name") or dataset) == "pedestrian_sensor":
        return f"{DATASETS['pedestrian_sensor']}: {data.get('target')}"
    name = DATASETS.get(str(dataset), str(dataset or data.get("name") or "-"))
    return f"{name} ({Path(str(path)).name})" if path else name


def series(m: dict) -> str:
    """The series column of a forecast run (:func:`series_name`, stored by the report as ``_series``)."""
    return str(m.get("_series") or DATASETS.get(str(m.get("dataset")), str(m.get("dataset") or "-")))


def feature_net(m: dict) -> str:
    """The FID feature network that scored a run: its fingerprint, or (older runs) its test accuracy."""
    g = m.get("generation") or {}
    if g.get("feature_net_sha256"):
        return str(g["feature_net_sha256"])
    acc = g.get("feature_net_test_acc")
    return f"acc {100 * acc:.2f} %" if acc is not None else "-"


@dataclass(frozen=True)
class Task:
    """A task family: its runs, metrics (the first is the headline metric) and how rows compare to baselines."""

    name: str
    title: str
    about: str
    metrics: tuple[Metric, ...]
    #: rules every row is compared with, on the headline metric
    baselines: tuple[str, ...] = ()
    #: compare as a ratio (``x``) instead of a difference (points)
    ratio: bool = False
    #: a column that splits rows whose numbers do not compare (header, value of a run)
    scorer: tuple[str, Callable[[dict], str]] | None = None
    #: show the floors the runs recorded (``floors`` in metrics.json)
    floors: bool = False

    @property
    def main(self) -> Metric:
        """The headline metric."""
        return self.metrics[0]


ACC = Metric("acc", "test acc %", 100.0, 2)
TASKS = (
    Task("classification", "Image classification",
         "Accuracy on the official test split, evaluated with the checkpoint of best validation accuracy "
         "(validation: 5,000 images carved from the training set with the run's seed). Paper (Lv et al.), for "
         "reference only: BSD 99.44 % on MNIST with the CNN, about 91.0 % on Fashion-MNIST (derived).",
         (ACC,), baselines=("bp_snn", "bp_ann")),
    Task("text", "Next-character prediction",
         "Accuracy and bits per character over the test span (the last contiguous 5 % of the text), read as "
         "`data.eval_streams` contiguous streams with the state carried from one chunk of `data.seq_len` characters "
         "to the next. The n-gram floors predict the most frequent next character after the previous n - 1 "
         "characters, counted on the same training span. Paper, for reference only (Harry Potter corpus): BSD "
         "41.8 %, predictive coding 38.8 %, DLL 33.7 %.",
         (ACC, Metric("bpc", "bits / char", 1.0, 3, higher=False)), baselines=("bp_snn",), floors=True),
    Task("forecast", "Forecasting",
         "MSE on the normalised target, MAE and RMSE in the series' unit, over the forecasts after every complete "
         "window of the test span (chronological split, normalisation fitted on the training span). The floors "
         "are computed by the same code on the same forecasts; numbers of different series (the series column) do not "
         "compare. Skill over the linear floor is 1 - MSE / MSE of the "
         "run's linear floor (the linear map its residual target leaves out, else the least-squares AR model): the "
         "share of the floor's error the model removes. Paper, for reference only (METR-LA): BSD MSE 0.125, BP on "
         "ANN 0.131.",
         (Metric("mse", "test MSE", 1.0, 6, higher=False), Metric("skill", "skill over linear floor", 1.0, 3),
          Metric("mae", "MAE", 1.0, 1, higher=False), Metric("rmse", "RMSE", 1.0, 1, higher=False)),
         baselines=("bp_ann",), ratio=True, floors=True, scorer=("series", series)),
    Task("generation", "Image generation",
         "Spiking convolutional autoencoders. Test MSE: reconstructions of the test images (pixels in [0, 1]). FID "
         "(classifier features): Fréchet distance between the penultimate features of a BP-trained CNN classifier "
         "of the same dataset, test images against their reconstructions (FID recon) and against samples decoded "
         "from latents drawn from the prior fitted to training latents (FID samples). FIDs of different feature "
         "networks do not compare: rows are split by network. This is not the Inception FID of the paper (MNIST: "
         "ANN-BP 49.56, FSVAE 97.06, BSD 72.39; BSD / ANN-BP = 1.46).",
         (Metric("fid_samples", "FID samples", 1.0, 2, higher=False), Metric("fid_recon", "FID recon", 1.0, 2,
                                                                            higher=False),
          Metric("mse", "test MSE", 1.0, 5, higher=False)), baselines=("bp_ann",), ratio=True,
         scorer=("FID network", feature_net)),
)
_FAMILY_TASK = {"image": "classification", "ae": "generation"}


def task_of(m: dict) -> Task:
    """The task family of a run, from its architecture's rule family and its test metrics."""
    from bsd.rules.registry import ARCH_FAMILY

    name = _FAMILY_TASK.get(ARCH_FAMILY.get(m.get("arch") or "", ""))
    if name is None:
        name = "text" if "test/acc" in (m.get("test") or {}) else "forecast"
    return next(t for t in TASKS if t.name == name)


def metric(task: Task, key: str) -> Metric:
    """The metric of ``task`` named ``key`` (``val/acc``, ``test/mse`` or ``acc``), or a plain one."""
    short = key.split("/", 1)[-1]
    return next((m for m in task.metrics if m.key == short), Metric(short, key, 100.0 if short == "acc" else 1.0,
                                                                    2 if short == "acc" else 6))


def rule_key(rule: str) -> tuple[int, str]:
    """Sort key of rules: :data:`RULE_ORDER` first."""
    return (RULE_ORDER.index(rule), "") if rule in RULE_ORDER else (len(RULE_ORDER), rule)


def fmt(xs: list[float], digits: int) -> str:
    """Mean ± sample std of ``xs`` with ``digits`` decimals; one value alone; ``-`` for none."""
    if not xs:
        return "-"
    if len(xs) == 1:
        return f"{xs[0]:.{digits}f}"
    return f"{statistics.mean(xs):.{digits}f} ± {statistics.stdev(xs):.{digits}f}"


def compare(value: float | None, base: float | None, ratio: bool, digits: int) -> str:
    """``value`` against a baseline: ``1.06`` (ratio) or ``-0.32`` (difference); empty without both."""
    if value is None or base is None:
        return ""
    return f"{value / base:.2f}" if ratio else f"{value - base:+.{digits}f}"
