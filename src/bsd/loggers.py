"""Logger construction: CSV, Weights & Biases (offline unless a login and network exist), or none."""

from __future__ import annotations

import csv
import netrc
import os
from pathlib import Path
from typing import Any

from .data.sources import hub_reachable

LOGGERS = ("csv", "wandb", "none")


def wandb_host() -> str:
    """The W&B server's host: from ``WANDB_BASE_URL`` (W&B's own setting), else the public API."""
    from urllib.parse import urlparse  # noqa: PLC0415

    return urlparse(os.environ.get("WANDB_BASE_URL") or "https://api.wandb.ai").hostname or "api.wandb.ai"


def wandb_has_login() -> bool:
    """True if an API key is set in the environment or in ~/.netrc for the W&B host."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        auth = netrc.netrc().authenticators(wandb_host())
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False
    return bool(auth and auth[2])


def wandb_mode(requested: str = "auto") -> str:
    """``online`` only if asked for (or auto) *and* logged in *and* the server answers; else ``offline``.

    ``auto`` follows W&B's own settings first: ``WANDB_MODE`` (offline, disabled, dryrun), ``WANDB_BASE_URL``.
    """
    if requested in ("offline", "disabled"):
        return requested
    env = os.environ.get("WANDB_MODE")
    if requested == "auto" and env in ("offline", "disabled", "dryrun"):
        return "offline" if env == "dryrun" else env
    if wandb_has_login() and hub_reachable(wandb_host(), timeout=3.0):
        return "online"
    return "offline"


def _csv_logger(save_dir: str | Path, keep: bool) -> Any:
    """Lightning's CSV logger in ``save_dir/csv``; with ``keep`` the rows of a ``metrics.csv`` already there stay.

    Lightning's writer starts a fresh ``metrics.csv``, which would lose the epochs before a resume into the
    same run directory: the earlier rows are read first and logged again, with their steps, before training
    continues. They include any logged after the checkpoint the run resumed from; ``step`` and ``epoch`` tell
    them apart.
    """
    from lightning.pytorch.loggers import CSVLogger  # noqa: PLC0415
    from lightning.pytorch.utilities.rank_zero import rank_zero_only  # noqa: PLC0415

    logger = CSVLogger(save_dir=str(save_dir), name="csv", version="")
    path = Path(logger.log_dir) / "metrics.csv"
    if not keep or not path.is_file() or rank_zero_only.rank != 0:
        return logger
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    _ = logger.experiment  # the writer starts the file afresh here
    for row in rows:
        values = {k: _number(v) for k, v in row.items() if k != "step" and v not in ("", None)}
        logger.log_metrics(values, step=int(float(row["step"])) if row.get("step") else None)
    logger.save()
    return logger


def _number(text: str) -> float | int:
    try:
        return int(text)
    except ValueError:
        return float(text)


def build_logger(cfg: Any, save_dir: str | Path, run_name: str, config: dict, resume: bool = False,
                 run_id: str | None = None, monitor: tuple[str, str] | None = None) -> Any:
    """Lightning logger for ``logger.kind``; ``False`` for none.

    ``resume``: the CSV log keeps earlier rows; ``run_id``: the W&B run a resumed run continues. ``monitor``: the
    metric and direction (max, min) that W&B summarises by its best value, so sweeps rank runs by it.
    """
    kind = str(cfg.kind)
    if kind == "none":
        return False
    if kind == "csv":
        return _csv_logger(save_dir, keep=resume)
    if kind == "wandb":
        from lightning.pytorch.loggers import WandbLogger  # noqa: PLC0415

        mode = wandb_mode(str(cfg.mode))
        os.environ["WANDB_MODE"] = mode
        os.environ.setdefault("WANDB_SILENT", "true")
        extra = {"id": run_id, "resume": "allow"} if run_id else {}
        logger = WandbLogger(project=cfg.project, entity=cfg.entity, name=run_name,
                             save_dir=str(save_dir), mode=mode, tags=list(cfg.tags),
                             log_model=False, config=config, **extra)
        if monitor is not None and mode != "disabled":
            logger.experiment.define_metric(monitor[0], summary=monitor[1])
        return logger
    raise ValueError(f"logger.kind={kind!r} is unknown; choose one of {LOGGERS}")
