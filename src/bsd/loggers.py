"""Logger construction: CSV, Weights & Biases (offline unless a login and network exist), or none."""

from __future__ import annotations

import csv
import netrc
import os
from pathlib import Path
from typing import Any

from .data.sources import hub_reachable

LOGGERS = ("csv", "wandb", "none")


def wandb_has_login() -> bool:
    """True if an API key is set in the environment or in ~/.netrc for the W&B host."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        auth = netrc.netrc().authenticators("api.wandb.ai")
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False
    return bool(auth and auth[2])


def wandb_mode(requested: str = "auto") -> str:
    """``online`` only if asked for (or auto) *and* logged in *and* the API host answers; else ``offline``."""
    if requested in ("offline", "disabled"):
        return requested
    env = os.environ.get("WANDB_MODE")
    if requested == "auto" and env in ("offline", "disabled", "dryrun"):
        return "offline" if env == "dryrun" else env
    if wandb_has_login() and hub_reachable("api.wandb.ai", timeout=3.0):
        return "online"
    return "offline"


def _csv_logger(save_dir: str | Path, keep: bool) -> Any:
    """Lightning's CSV logger in ``save_dir/csv``; with ``keep`` it appends to a ``metrics.csv`` already there.

    Lightning's writer deletes an existing ``metrics.csv``, which would lose the epochs before a resume
    into the same run directory. The kept rows include any logged after the checkpoint the run resumed
    from; their ``step`` and ``epoch`` columns tell them apart.
    """
    from lightning.pytorch.loggers import CSVLogger  # noqa: PLC0415
    from lightning.pytorch.loggers.csv_logs import ExperimentWriter  # noqa: PLC0415
    from lightning.pytorch.loggers.logger import rank_zero_experiment  # noqa: PLC0415

    if not keep:
        return CSVLogger(save_dir=str(save_dir), name="csv", version="")

    class KeepingWriter(ExperimentWriter):
        def _check_log_dir_exists(self) -> None:
            if self._fs.isfile(self.metrics_file_path):  # later rows go under the same header
                with self._fs.open(self.metrics_file_path, "r", newline="") as f:
                    self.metrics_keys = list(next(csv.reader(f), []))

    class KeepingCSVLogger(CSVLogger):
        @property
        @rank_zero_experiment
        def experiment(self) -> ExperimentWriter:
            if self._experiment is None:
                self._fs.makedirs(self.root_dir, exist_ok=True)
                self._experiment = KeepingWriter(log_dir=self.log_dir)
            return self._experiment

    return KeepingCSVLogger(save_dir=str(save_dir), name="csv", version="")


def build_logger(cfg: Any, save_dir: str | Path, run_name: str, config: dict, resume: bool = False) -> Any:
    """Lightning logger for ``logger.kind``; ``False`` for none. ``resume``: the CSV log keeps earlier rows."""
    kind = cfg.kind
    if kind == "none":
        return False
    if kind == "csv":
        return _csv_logger(save_dir, keep=resume)
    if kind == "wandb":
        from lightning.pytorch.loggers import WandbLogger  # noqa: PLC0415

        mode = wandb_mode(cfg.get("mode", "auto"))
        os.environ["WANDB_MODE"] = mode
        os.environ.setdefault("WANDB_SILENT", "true")
        logger = WandbLogger(project=cfg.get("project", "bsd"), entity=cfg.get("entity"), name=run_name,
                             save_dir=str(save_dir), mode=mode, tags=list(cfg.get("tags", [])),
                             log_model=False, config=config)
        return logger
    raise ValueError(f"logger.kind={kind!r} is unknown; choose one of {LOGGERS}")
