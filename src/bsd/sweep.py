"""Run a W&B sweep YAML locally, without a W&B server, through W&B's own sweep engine (PyPI ``sweeps``).

    python -m bsd.sweep sweeps/mnist_mlp.yaml --count 8 [--parallel 2] [--dir sweep_runs/NAME] [-- key=value ...]

Each trial is a normal training run (``src/train.py``, its own run directory and, with
``logger=wandb``, its own offline W&B run). A crashing trial is recorded as failed and the sweep goes
on; interrupting and rerunning the same command resumes without repeating finished trials. The YAML
is checked before the first trial: unknown method, a parameter that is not a config key, a value
Hydra cannot compose, a metric the runs never log.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
METHODS = ("grid", "random", "bayes")
#: metrics the runs report in metrics.json (section, key): accuracy (classification, text), MSE (forecasting,
#: autoencoders), sample FID (autoencoders)
LOGGED = {"val/acc": ("val", "val/acc"), "test/acc": ("test", "test/acc"), "val/mse": ("val", "val/mse"),
          "test/mse": ("test", "test/mse"), "test/fid_samples": ("test", "test/fid_samples")}
_MISSING = object()


class SweepConfigError(ValueError):
    """The sweep YAML cannot be run; the message names the offending entry."""


def fixed_args(sweep: dict) -> list[str]:
    """The ``key=value`` arguments of the YAML's ``command`` (everything but the W&B macros)."""
    return [str(a) for a in sweep.get("command", []) if "=" in str(a) and not str(a).startswith("${")]


def _values(spec: dict) -> list[Any]:
    if "values" in spec:
        return list(spec["values"])
    if "value" in spec:
        return [spec["value"]]
    return [spec[k] for k in ("min", "max") if k in spec]


def validate(sweep: dict, extra: list[str]) -> None:
    """Raise :class:`SweepConfigError` for anything that would make trials fail or be meaningless."""
    from omegaconf import OmegaConf

    from .config import compose, to_objects

    method = sweep.get("method")
    if method not in METHODS:
        raise SweepConfigError(f"method {method!r} is unknown; choose one of {METHODS}")
    metric = (sweep.get("metric") or {}).get("name")
    if metric not in LOGGED:
        raise SweepConfigError(f"metric.name {metric!r} is never logged by the runs; use one of {sorted(LOGGED)}")
    params = sweep.get("parameters") or {}
    if not params:
        raise SweepConfigError("the sweep has no parameters")
    base = fixed_args(sweep) + extra
    cfg = compose(base)
    for key, spec in params.items():
        if key.startswith("+") or OmegaConf.select(cfg, key, default=_MISSING) is _MISSING:
            raise SweepConfigError(f"parameter {key!r} is not a key of the config (composed with {base})")
        for v in _values(spec):
            if isinstance(v, str) and " " in v:
                raise SweepConfigError(f"parameter {key!r}: value {v!r} contains a space")
            try:
                to_objects(compose([*base, f"{key}={v}"]))
            except Exception as e:  # noqa: BLE001 - report any Hydra parse/compose failure or range check by key
                raise SweepConfigError(f"parameter {key!r}: the config refuses the value {v!r}: {e}") from e


def engine():
    """W&B's sweep engine (PyPI ``sweeps``); a clear error if it is missing.

    Without the package, ``import sweeps`` can find the repository's ``sweeps/`` folder of YAMLs instead.
    """
    try:
        import sweeps
    except ImportError:
        sweeps = None
    if sweeps is None or not hasattr(sweeps, "next_run"):
        raise SystemExit("error: W&B's sweep engine is not installed: pip install sweeps (or make install)")
    return sweeps


class Sweep:
    """Local driver: proposes trials with ``sweeps.next_run``, runs them, records them in ``state.json``."""

    def __init__(self, path: Path, out: Path, extra: list[str]) -> None:
        self.sweep = yaml.safe_load(path.read_text())
        self.out, self.extra = out, extra
        self.state_path = out / "state.json"
        self.trials: list[dict] = json.loads(self.state_path.read_text()) if self.state_path.is_file() else []
        # trials left 'running' by an interrupted sweep are run again
        self.trials = [t for t in self.trials if t["state"] in ("finished", "failed")]

    def save(self) -> None:
        """Write the trial list atomically."""
        from .runs import atomic_write_json

        atomic_write_json(self.state_path, self.trials)

    def _engine_runs(self) -> list:
        sweeps = engine()

        state = {"finished": sweeps.RunState.finished, "failed": sweeps.RunState.failed,
                 "running": sweeps.RunState.running}
        metric = self.sweep["metric"]["name"]
        return [sweeps.SweepRun(name=t["name"], config={k: {"value": v} for k, v in t["params"].items()},
                                state=state[t["state"]],
                                summary_metrics={metric: t["metric"]} if t.get("metric") is not None else {})
                for t in self.trials]

    def propose(self) -> dict | None:
        """Next trial's parameters, or None when a grid is exhausted."""
        sweeps = engine()

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nxt = sweeps.next_run(self.sweep, self._engine_runs())
        if nxt is None:
            return None
        return {k: (v["value"].item() if hasattr(v["value"], "item") else v["value"]) for k, v in nxt.config.items()}

    def run_trial(self, trial: dict) -> dict:
        """Run one training subprocess; fill in state and metric."""
        run_dir = self.out / trial["name"]
        args = [*fixed_args(self.sweep), *self.extra, *(f"{k}={v}" for k, v in trial["params"].items()),
                f"hydra.run.dir={run_dir}", f"variant=sweep_{self.out.name}"]
        cmd = [sys.executable, str(ROOT / "src" / "train.py"), *args]
        run_dir.mkdir(parents=True, exist_ok=True)
        with open(run_dir / "trial.log", "w") as log:
            rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, check=False,
                                env={**os.environ, "WANDB_MODE": os.environ.get("WANDB_MODE", "offline")}).returncode
        metrics = run_dir / "metrics.json"
        section, key = LOGGED[self.sweep["metric"]["name"]]
        if rc == 0 and metrics.is_file():
            trial["metric"] = json.loads(metrics.read_text()).get(section, {}).get(key)
            trial["state"] = "finished"
        else:
            trial["state"], trial["metric"] = "failed", None
            trial["error"] = f"exit code {rc}; see {run_dir / 'trial.log'}"
        trial["command"] = "python src/train.py " + " ".join(args)
        return trial

    def run(self, count: int, parallel: int = 1) -> None:
        """Run until ``count`` trials are recorded (finished or failed) or a grid is exhausted."""
        self.out.mkdir(parents=True, exist_ok=True)
        while len(self.trials) < count:
            batch = []
            for _ in range(min(parallel, count - len(self.trials))):
                params = self.propose()
                if params is None:
                    break
                trial = {"name": f"trial{len(self.trials) + len(batch):03d}", "params": params, "state": "running"}
                batch.append(trial)
                self.trials.append(trial)  # so the engine does not propose it again
            if not batch:
                break
            self.save()
            for t in batch:
                print(f"[sweep] {t['name']}: {t['params']}", flush=True)
            with ThreadPoolExecutor(max_workers=parallel) as pool:
                for t in pool.map(self.run_trial, batch):
                    print(f"[sweep] {t['name']}: {t['state']} {self.sweep['metric']['name']}={t.get('metric')}",
                          flush=True)
            self.save()

    def table(self) -> str:
        """Trials ranked by the sweep metric (failed last)."""
        goal = self.sweep["metric"].get("goal", "maximize")
        done = [t for t in self.trials if t.get("metric") is not None]
        done.sort(key=lambda t: t["metric"], reverse=goal == "maximize")
        rest = [t for t in self.trials if t.get("metric") is None]
        keys = list(self.sweep["parameters"])
        lines = [f"| rank | trial | {self.sweep['metric']['name']} | state | " + " | ".join(keys) + " |",
                 "|" + "---|" * (4 + len(keys))]
        for i, t in enumerate(done + rest, start=1):
            m = f"{t['metric']:.4f}" if t.get("metric") is not None else "-"
            lines.append(f"| {i if t in done else '-'} | {t['name']} | {m} | {t['state']} | "
                         + " | ".join(str(t["params"].get(k)) for k in keys) + " |")
        return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("yaml", type=Path)
    ap.add_argument("--count", type=int, default=8, help="number of trials (a grid may stop earlier)")
    ap.add_argument("--parallel", type=int, default=1)
    ap.add_argument("--dir", type=Path, default=None, help="sweep folder (default sweep_runs/<yaml name>)")
    ap.add_argument("overrides", nargs="*", help="extra key=value for every trial (after --)")
    a = ap.parse_intermixed_args(argv)
    try:
        sweep = yaml.safe_load(a.yaml.read_text())
        validate(sweep, a.overrides)
    except (OSError, yaml.YAMLError, SweepConfigError) as e:
        raise SystemExit(f"error: {a.yaml}: {e}") from None
    s = Sweep(a.yaml, a.dir or Path("sweep_runs") / a.yaml.stem, a.overrides)
    try:
        s.run(a.count, a.parallel)
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished trials are kept in {s.state_path}; rerun the same command to resume",
              file=sys.stderr)
        raise SystemExit(130) from None
    print(s.table())


if __name__ == "__main__":
    main()
