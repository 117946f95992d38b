"""Runs under result folders: their ``metrics.json``, resolved config, learning curve and labels."""

from __future__ import annotations

import csv
import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from .labels import label, run_diff, split_budget
from .tasks import SERIES_KEYS, series_name, task_of

#: what the report reads in a run directory (``python -m bsd.report.compact`` keeps these); a finished run keeps
#: its learning curve and resolved config in ``metrics.json`` (``curve``, ``config``), one stopped before its test
#: in ``curve.csv`` and ``config_resolved.yaml``
METRICS, CONFIG, CURVE = "metrics.json", "config_resolved.yaml", "curve.csv"
#: the CSV logger's file, read when a run has no ``curve.csv`` yet
RAW_CURVE = Path("csv") / "metrics.csv"
#: the final image grid of an autoencoder run (linked from the tables)
FINAL_GRID = Path("grids") / "final.png"

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_config(run_dir: str | Path) -> dict:
    """A run's resolved config: its ``config_resolved.yaml``, else ``config`` in its ``metrics.json``, else empty."""
    p = Path(run_dir) / CONFIG
    if p.is_file():
        return yaml.load(p.read_text(), Loader=_Loader) or {}
    return stored(run_dir, "config") or {}


def read_metrics(run_dir: str | Path) -> dict | None:
    """A run's ``metrics.json`` as a dict (None if it is missing, unreadable or not an object)."""
    try:
        m = json.loads((Path(run_dir) / METRICS).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return m if isinstance(m, dict) else None


def stored(run_dir: str | Path, key: str) -> Any:
    """``key`` of a run's ``metrics.json`` (None if the file or the key is missing)."""
    return (read_metrics(run_dir) or {}).get(key)


def read_curve(path: Path) -> dict[str, list[float | None]]:
    """The validation rows of a CSV log (rows with a ``val/`` value) as columns: ``epoch``, ``step``, ``val/*``."""
    with path.open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if any(v for k, v in r.items() if k and k.startswith("val/"))]
    cols = [c for c in ("epoch", "step") if rows and c in rows[0]]
    cols += sorted(c for c in (rows[0] if rows else {}) if c.startswith("val/") and any(r.get(c) for r in rows))
    return {c: [(int(float(r[c])) if c in ("epoch", "step") else float(r[c])) if r.get(c) else None for r in rows]
            for c in cols}


def curve(run_dir: str | Path) -> dict[str, list[float | None]]:
    """A run's learning curve by column.

    From ``curve`` in its ``metrics.json`` (compacted runs), else ``curve.csv``, else the CSV logger's rows with
    a validation value.
    """
    d = Path(run_dir)
    if isinstance(columns := stored(d, "curve"), dict):
        return columns
    for p in (d / CURVE, d / RAW_CURVE):
        if p.is_file():
            return read_curve(p)
    return {}


def curve_values(columns: dict[str, list[float | None]], metric: str) -> list[float]:
    """``metric`` at each validation of a curve that recorded it (accuracies in %)."""
    scale = 100.0 if metric.endswith("/acc") else 1.0
    return [scale * float(v) for v in columns.get(metric) or [] if v is not None]


def val_curve(run_dir: str | Path, metric: str = "val/acc") -> list[float]:
    """``metric`` after each validation pass (accuracies in %), from the run's learning curve."""
    return curve_values(curve(run_dir), metric)


def device_class(device: str | None) -> str:
    """``cpu`` or ``gpu`` for a recorded device name."""
    return "cpu" if (device or "cpu") == "cpu" else "gpu"


def batches(cfg: dict) -> str:
    """Training batches per epoch: ``all``, or the cap set by ``trainer.limit_train_batches``."""
    lim = (cfg.get("trainer") or {}).get("limit_train_batches", 1.0)
    if isinstance(lim, int) and not isinstance(lim, bool) and lim != 1:
        return str(lim)
    if isinstance(lim, float) and lim < 1.0:
        return f"{100 * lim:g} %"
    return "all"


def monitor(m: dict) -> tuple[str, str]:
    """The validation metric a run's checkpointing followed and its mode (runs without a record: val/acc, max)."""
    mon = m.get("monitor") or (m.get("best_val") or {}).get("metric")
    if isinstance(mon, list | tuple) and len(mon) == 2:
        return str(mon[0]), str(mon[1])
    if isinstance(mon, str):
        return mon, str((m.get("best_val") or {}).get("mode", "max"))
    return "val/acc", "max"


def best_val(m: dict) -> float | None:
    """The best value of the run's monitored validation metric (older runs: ``best_val_acc``)."""
    return (m.get("best_val") or {}).get("value", m.get("best_val_acc"))


def run_value(m: dict, key: str) -> float | None:
    """Metric ``key`` of a run.

    ``test/...`` from its test; the monitored ``val/...`` at its best checkpoint; another ``val/...`` from its
    last validation.
    """
    if key.startswith("val/"):
        return best_val(m) if key == monitor(m)[0] else (m.get("val") or {}).get(key)
    if key == "test/skill":
        return skill(m)
    return (m.get("test") or {}).get(key)


def linear_floor(m: dict) -> tuple[str, float] | None:
    """A forecast run's linear floor and its test MSE: the linear map its residual target leaves out, else the AR."""
    floors = m.get("floors") or {}
    name = next((k for k in sorted(floors) if k.startswith("linear map")), None)
    name = name or ("linear AR (least squares)" if "linear AR (least squares)" in floors else None)
    v = None if name is None else (floors[name] or {}).get("test/mse")
    return None if v is None else (name, float(v))


def skill(m: dict) -> float | None:
    """``1 - MSE / MSE_floor``: what a forecast run's model takes off its linear floor's error (0: nothing)."""
    mse, floor = (m.get("test") or {}).get("test/mse"), linear_floor(m)
    return None if mse is None or floor is None or floor[1] <= 0 else 1.0 - float(mse) / floor[1]


def annotate(m: dict, cfg: dict) -> dict:
    """Add the report's fields to a run's metrics: label, label keys, budget, batches, device class, monitor.

    Keys the run derived from its series (``derived`` in metrics.json) count as today's default where that leaves
    them to the series too; a forecast's series (``_series``) is a column of its own, not part of its label.
    """
    forecast = task_of(m).name == "forecast"
    try:
        keys, budget = split_budget(run_diff(cfg, derived=m.get("derived") or {})) if cfg else ({}, {})
        if forecast:
            keys = {k: v for k, v in keys.items() if k not in SERIES_KEYS}
        text = label(keys) if cfg else "(no stored config)"
    except ValueError as e:  # an experiment today's conf/ no longer has
        keys, budget, text = {}, {}, f"(no default: {e})"
    m.update(_label=text, _diff=keys, _budget=budget, _criteria=derived_criteria(cfg),
             _batches=batches(cfg), _device=device_class(m.get("device")), _monitor=monitor(m))
    if forecast:
        m["_series"] = series_name(m.get("dataset"), (cfg or {}).get("data") or {})
    return m


def derived_criteria(cfg: dict) -> list[str] | None:
    """The criteria the run's rule meets with the run's stored model config, by today's code (None if unknown).

    Keys a stored config has that today's schema lacks are dropped (they held the only value they could).
    """
    model = cfg.get("model") if cfg else None
    if not isinstance(model, dict):
        return None
    crit = _criteria_of(json.dumps(model, sort_keys=True, default=str))
    return None if crit is None else list(crit)


@functools.cache
def _criteria_of(model_json: str) -> tuple[str, ...] | None:
    model = json.loads(model_json)
    try:
        from omegaconf import OmegaConf

        from bsd.config.model import SCHEMAS
        from bsd.rules.registry import criteria_for, family_of

        arch = model.get("arch")
        schema = OmegaConf.structured(SCHEMAS[arch])
        known = _known(model, OmegaConf.to_container(schema))
        obj = OmegaConf.to_object(OmegaConf.merge(schema, known))
        return tuple(criteria_for(family_of(arch), model.get("rule"), obj))
    except Exception:  # noqa: BLE001 - a config today's code cannot read: fall back to the recorded criteria
        return None


def _known(d: dict, schema: dict) -> dict:
    """``d`` restricted to the keys ``schema`` has (recursively)."""
    out = {}
    for k, v in d.items():
        if k not in schema:
            continue
        out[k] = _known(v, schema[k]) if isinstance(v, dict) and isinstance(schema[k], dict) else v
    return out


def _run_dirs(roots: Iterable[str | Path], name: str) -> list[Path]:
    return sorted({p.parent for root in roots for p in Path(root).rglob(name)})


def find_runs(roots: Iterable[str | Path]) -> list[dict]:
    """Every finished run below ``roots``: its ``metrics.json`` with ``_dir`` and the fields of :func:`annotate`."""
    runs = []
    for d in _run_dirs(roots, METRICS):
        if (m := read_metrics(d)) is not None and "test" in m and "rule" in m:
            cfg = m.pop("config", None)
            m["_dir"] = d.as_posix()
            runs.append(annotate(m, cfg if isinstance(cfg, dict) else read_config(d)))
    return runs


def unfinished_runs(roots: Iterable[str | Path]) -> list[dict]:
    """Runs with a config and a learning curve but no ``metrics.json`` (stopped before their test)."""
    out = []
    for d in _run_dirs(roots, CONFIG):
        if (d / METRICS).is_file() or not (columns := curve(d)):
            continue
        cfg = read_config(d)
        model = cfg.get("model") or {}
        m: dict[str, Any] = {"experiment": cfg.get("experiment_name"), "rule": model.get("rule"),
                             "arch": model.get("arch"), "variant": cfg.get("variant"), "seed": cfg.get("seed"),
                             "_dir": d.as_posix(), "planned": (cfg.get("trainer") or {}).get("max_epochs")}
        annotate(m, cfg)
        m["_curve"] = columns
        out.append(m)
    return out


def find_prior_screens(roots: Iterable[str | Path]) -> list[dict]:
    """The latent-prior screens (``screen/priors*.json``, written by the prior screen) under ``roots``."""
    out = []
    for root in roots:
        for f in sorted(Path(root).rglob("screen/priors*.json")):
            d = json.loads(f.read_text())
            out.append({"file": f.as_posix(), "command": d.get("command"), "rows": d.get("rows", [])})
    return out
