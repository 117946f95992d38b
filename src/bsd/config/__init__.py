"""Typed config schemas, registered in Hydra's ConfigStore (``import bsd.config`` registers them).

The YAML files under ``conf/`` pick a schema (``defaults: [base_mlp, _self_]``) and set only what differs
from it, so every default lives here, once. Hydra refuses a wrong type, an unknown key or a value outside
a key's choices when it composes, naming the key; range checks run in :func:`to_objects`.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from .data import ImageDataConfig, PanelDataConfig, TextDataConfig, TimeSeriesDataConfig
from .model import SCHEMAS, AeConfig, CnnConfig, MlpConfig, ModelConfig, RnnConfig
from .run import LoggerConfig, RunConfig, TrainerConfig

__all__ = ["CONF_DIR", "AeConfig", "CnnConfig", "ImageDataConfig", "LoggerConfig", "MlpConfig", "ModelConfig",
           "PanelDataConfig", "RnnConfig", "RunConfig", "TextDataConfig", "TimeSeriesDataConfig", "TrainerConfig",
           "compose", "model_config", "model_from_dict", "plain", "register", "to_objects"]


def register() -> None:
    """Store the schemas: ``base_config`` (root), ``model/base_<arch>``, ``data/base_<family>``."""
    cs = ConfigStore.instance()
    cs.store(name="base_config", node=RunConfig)
    for arch, schema in SCHEMAS.items():
        cs.store(group="model", name=f"base_{arch}", node=schema)
    for name, schema in (("image", ImageDataConfig), ("text", TextDataConfig), ("timeseries", TimeSeriesDataConfig),
                         ("panel", PanelDataConfig)):
        cs.store(group="data", name=f"base_{name}", node=schema)


register()

#: the repository's ``conf/`` folder (the config groups)
CONF_DIR = Path(__file__).resolve().parents[3] / "conf"


def compose(overrides: list[str]) -> DictConfig:
    """The root config that ``python src/train.py OVERRIDES`` composes (outside a running Hydra app)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return hydra_compose(config_name="config", overrides=list(overrides))


def to_objects(cfg: DictConfig) -> RunConfig:
    """The composed config as schema objects; runs every range check (a ``ValueError`` names the key)."""
    return OmegaConf.to_object(cfg)


def model_config(arch: str, *overrides: str, **fields: Any) -> ModelConfig:
    """The ``model`` schema of ``arch`` with overrides, validated like a composed config.

    ``overrides`` are dotted ``key=value`` strings, ``fields`` values by key (a dict for a group), e.g.
    ``model_config("rnn", "reco.on=spikes", T=2, reco={"lam": 0.1})``.
    """
    if arch not in SCHEMAS:
        raise ValueError(f"model.arch={arch!r} is unknown; choose one of {sorted(SCHEMAS)}")
    node = OmegaConf.merge(OmegaConf.structured(SCHEMAS[arch]), OmegaConf.from_dotlist(list(overrides)), fields)
    return OmegaConf.to_object(node)


def model_from_dict(d: dict[str, Any] | DictConfig | ModelConfig) -> ModelConfig:
    """A model schema object from its plain form (as saved in checkpoints), validated like a composed config."""
    if isinstance(d, ModelConfig):
        return d
    if isinstance(d, DictConfig):
        d = OmegaConf.to_container(d, resolve=True, enum_to_str=True)
    arch = d.get("arch")
    if arch not in SCHEMAS:
        raise ValueError(f"model.arch={arch!r} is unknown; choose one of {sorted(SCHEMAS)}")
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(SCHEMAS[arch]), d))


def plain(obj: Any) -> Any:
    """Schema objects as plain containers (choices as strings), e.g. for checkpoints and metrics.json."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, DictConfig):
        return OmegaConf.to_container(obj, resolve=True, enum_to_str=True)
    if hasattr(obj, "value") and isinstance(obj, str):  # a Choice
        return str(obj.value)
    return obj
