"""Tasks: one LightningModule per task, all subclasses of :class:`BSDModule`, picked from one table."""

from __future__ import annotations

from typing import Any

from ..config import RunConfig
from .autoencoder import AutoencoderModule
from .base import BSDModule, NonFiniteLossError
from .classify import ClassifyModule
from .forecast import ForecastModule
from .text import TextModule

#: the task module for each (kind of data, model.arch)
TASKS: dict[tuple[str, str], type[BSDModule]] = {
    (cls.data_kind, arch): cls for cls in (ClassifyModule, AutoencoderModule, TextModule, ForecastModule)
    for arch in cls.archs
}


def task_for(data_kind: str, arch: str) -> type[BSDModule]:
    """The module class that trains ``model.arch`` on data of ``data_kind``; a clear error when none does."""
    if (data_kind, arch) in TASKS:
        return TASKS[(data_kind, arch)]
    fits = sorted(a for k, a in TASKS if k == data_kind)
    raise ValueError(f"model={arch} does not train on {data_kind} data; for {data_kind} data use model="
                     f"{' or model='.join(fits)}")


def build_module(cfg: RunConfig, dm: Any) -> BSDModule:
    """The task module of this run on the data module ``dm`` (built, and so checked, before any training)."""
    return task_for(dm.kind, cfg.model.arch).from_data(cfg, dm)


__all__ = ["TASKS", "AutoencoderModule", "BSDModule", "ClassifyModule", "ForecastModule", "NonFiniteLossError",
           "TextModule", "build_module", "task_for"]
