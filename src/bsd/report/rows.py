"""Table rows: runs of one configuration and budget, one run per seed, with their command and criteria."""

from __future__ import annotations

import re
import shlex
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from .labels import under, value
from .runs import run_value
from .tasks import rule_key

#: command-line keys a printed command leaves out (where a run wrote, how it logged, what it resumed, local paths)
STRIPPED = ("resume", "hydra", "threads", "logger", "trainer.enable_progress_bar", "data.data_dir", "data.cache_dir")


@dataclass
class Row:
    """Runs of one experiment, rule, configuration label, epoch count, device class and batch cap."""

    experiment: str
    rule: str
    label: str
    epochs: int | None
    device: str
    batches: str
    scorer: str = ""
    runs: list[dict] = field(default_factory=list)

    @property
    def seeds(self) -> list:
        """The seeds of the row's runs, sorted."""
        return sorted(m.get("seed") for m in self.runs)

    @property
    def devices(self) -> str:
        """The recorded devices of the row's runs, e.g. ``cpu`` or ``NVIDIA H200``."""
        return ", ".join(sorted({str(m.get("device") or "cpu") for m in self.runs}))

    @property
    def variants(self) -> str:
        """The ``variant`` names the row's runs were recorded under (``-`` for none)."""
        return ", ".join(sorted({str(m.get("variant") or "-") for m in self.runs}))

    def values(self, key: str, scale: float = 1.0) -> list[float]:
        """``scale`` times metric ``key`` (``test/acc``, ``val/mse``: :func:`run_value`) of each run that has it."""
        return [scale * v for m in self.runs if (v := run_value(m, key)) is not None]

    def mean(self, key: str, scale: float = 1.0) -> float | None:
        """Mean of :meth:`values` (``None`` without any)."""
        v = self.values(key, scale)
        return statistics.mean(v) if v else None

    def seconds_per_epoch(self) -> list[float]:
        """Each run's mean wall time of one training epoch plus its validation."""
        return [float(m["time_per_epoch_s"]) for m in self.runs if m.get("time_per_epoch_s")]

    @property
    def criteria(self) -> str:
        """The plausibility criteria the row's runs meet, e.g. ``C1–C5``, ``C4``, ``—``."""
        return " / ".join(sorted({criteria_text(run_criteria(m)) for m in self.runs}))

    @property
    def command(self) -> str:
        """The command of the row's lowest seed (change ``seed=`` for the others)."""
        return command(min(self.runs, key=lambda m: _seed_key(m.get("seed"))))

    @property
    def key(self) -> tuple:
        """Sort key: experiment, rule order, label, epochs, device, batches, scorer, variants."""
        return (self.experiment, rule_key(self.rule), self.label, self.epochs or 0, self.device, self.batches,
                self.scorer, self.variants)


def _seed_key(seed) -> tuple:
    return (seed is None, seed if isinstance(seed, int) else 0, str(seed))


def _newest_per_seed(runs: list[dict]) -> list[dict]:
    by_seed: dict = {}
    for m in sorted(runs, key=lambda m: m["_dir"]):  # the newest run of a seed (by directory name) stays
        by_seed[m.get("seed")] = m
    return sorted(by_seed.values(), key=lambda m: _seed_key(m.get("seed")))


def group_rows(runs: list[dict], scorer: Callable[[dict], str] | None = None) -> list[Row]:
    """Runs grouped into :class:`Row` s, one run per seed.

    Runs of the same configuration and budget share a row. Where one seed was run more than once under
    different ``variant`` names, each name keeps its own row (the reruns' spread stays visible); runs repeated
    under one name keep the newest by directory name.
    """
    groups: dict = defaultdict(list)
    for m in runs:
        groups[(m["experiment"], m["rule"], m["_label"], m.get("epochs"), m["_device"], m["_batches"],
                scorer(m) if scorer else "")].append(m)
    rows = []
    for key, ms in groups.items():
        seeds = [m.get("seed") for m in ms]
        parts: dict = defaultdict(list)
        for m in ms:
            parts[(m.get("variant") or "") if len(set(seeds)) < len(seeds) else ""].append(m)
        rows += [Row(*key, runs=_newest_per_seed(p)) for p in parts.values()]
    return sorted(rows, key=lambda r: r.key)


def run_criteria(m: dict) -> list[str] | None:
    """The criteria a run meets, derived with today's code from its stored config; the recorded ones without one."""
    derived = m.get("_criteria")
    if isinstance(derived, list):
        return derived
    if isinstance(m.get("criteria"), list):
        return [str(c) for c in m["criteria"]]
    return None


def criteria_text(crit: list[str] | None) -> str:
    """``['C1', 'C2', 'C3', 'C5']`` as ``C1–C3, C5``; ``—`` for none; ``?`` when unknown."""
    if crit is None:
        return "?"
    nums = sorted({int(n) for c in crit if (n := re.sub(r"\D", "", c))})
    spans: list[list[int]] = []
    for n in nums:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(f"C{a}" if a == b else f"C{a}–C{b}" for a, b in spans) or "—"


def command_args(m: dict) -> tuple[list[str], list[str]]:
    """``(program, overrides)`` of a run: its recorded ``overrides`` if any, else its parsed ``command``."""
    if isinstance(m.get("overrides"), list):
        return ["python", "src/train.py"], [str(o) for o in m["overrides"]]
    words = shlex.split(m.get("command") or "python src/train.py")
    i = next((i for i, w in enumerate(words) if "=" in w), len(words))
    return words[:i], words[i:]


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def series_overrides(m: dict) -> list[str]:
    """The overrides of a run's command that choose its series (the data group and :data:`SERIES_KEYS`)."""
    from .tasks import SERIES_KEYS

    return [a for a in command_args(m)[1] if _key(a) == "data" or _key(a) in SERIES_KEYS]


def command(m: dict) -> str:
    """The run's command without housekeeping overrides, plus overrides pinning what today's default lacks.

    The pins are the run's label and budget keys that its command does not set, so the command still
    reproduces the run after a default changed.
    """
    prog, args = command_args(m)
    args = [a for a in args if not under(_key(a), STRIPPED)]
    given = {_key(a) for a in args}
    pins = {**m.get("_diff", {}), **m.get("_budget", {})}
    args += [f"{k}={value(v)}" for k, v in pins.items() if k not in given]
    return " ".join([*prog, *(shlex.quote(a) for a in args)])
