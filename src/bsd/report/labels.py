"""Row labels: how a run's resolved config differs from today's default of its experiment.

Today's default is composed from ``conf/`` with ``+experiment=NAME model.rule=RULE``. Both configs are
flattened to dotted keys; the label lists the keys whose values differ, leaving out housekeeping keys,
keys of how a computation runs rather than what it computes, keys that today's default no longer has,
and the keys the run's rule never reads (:func:`bsd.rules.registry.ignored_keys`). A key that the run's
stored config lacks counts as today's default. Budget keys (epochs, batches, wall-clock cap) are not part
of the label: the tables show them as columns.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: keys that do not change what a run computes or measures (seeds, names, logging, output, artefacts)
HOUSEKEEPING = ("seed", "data.seed", "variant", "experiment_name", "threads", "resume", "test", "floors", "logger",
                "observe", "callbacks", "hydra", "trainer.enable_progress_bar", "trainer.log_every_n_steps",
                "trainer.num_sanity_val_steps", "data.data_dir", "data.cache_dir", "data.eval_batch_size", "sample",
                "generation.grid_every", "generation.n_grid", "time_to_target")
#: keys that choose how the same computation runs (equal results by construction)
IMPLEMENTATION = ("model.neuron.compile", "model.neuron.graph", "model.optimizer.impl")
#: keys left out of the label only while null
NULL_IGNORED = ("data.path",)
#: budget keys: table columns, not part of the label
BUDGET = ("trainer.max_epochs", "trainer.limit_train_batches", "trainer.max_time")
#: an interpolation of one key, ``${data.window}``: a default that follows a key the data may decide
_REF = re.compile(r"\$\{([\w.]+)\}")
#: the repository's config folder
CONF = Path(__file__).resolve().parents[3] / "conf"


def under(key: str, prefixes: Iterable[str]) -> bool:
    """Whether dotted ``key`` is one of ``prefixes`` or lies below one of them."""
    return any(key == p or key.startswith(p + ".") for p in prefixes)


def flatten(cfg: dict, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as ``{dotted.key: value}`` (lists stay values; a YAML-1.1 ``True`` key reads as ``on``)."""
    out: dict[str, Any] = {}
    for k, v in cfg.items():
        key = prefix + ("on" if k is True else str(k))
        if isinstance(v, dict) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def same(a: Any, b: Any) -> bool:
    """Equal values, where a bool never equals a number (``True != 1``) and ``1 == 1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def default_config(experiment: str, rule: str, conf: str = str(CONF)) -> dict[str, Any]:
    """Today's default of ``experiment`` under ``rule``, resolved and flattened (composed once per pair).

    A pair that does not compose (an experiment ``conf/`` no longer has) raises ``ValueError``.
    """
    out = _compose(experiment, rule, conf)
    if isinstance(out, str):
        raise ValueError(out)
    return out


@functools.cache
def _compose(experiment: str, rule: str, conf: str) -> dict[str, Any] | str:
    try:  # registers the config schemas, where the package has them
        import bsd.config  # noqa: F401
    except ImportError:
        pass
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        with initialize_config_dir(config_dir=conf, version_base="1.3"):
            cfg = compose(config_name="config", overrides=[f"+experiment={experiment}", f"model.rule={rule}"])
        try:
            return flatten(OmegaConf.to_container(cfg, resolve=True))
        except OmegaConfBaseException:  # an interpolation of a null key that a run derives from its data
            return _resolve_leaves(cfg)
    except (HydraException, OmegaConfBaseException) as e:
        return f"cannot compose today's default of +experiment={experiment} model.rule={rule}: {str(e).splitlines()[0]}"


def _resolve_leaves(cfg: Any) -> dict[str, Any]:
    """Flattened ``cfg`` resolved key by key; a key whose interpolation fails keeps it (``${data.window}``)."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    out = flatten(OmegaConf.to_container(cfg, resolve=False))
    for k, v in out.items():
        if isinstance(v, str) and "${" in v:
            try:
                out[k] = OmegaConf.select(cfg, k)
            except OmegaConfBaseException:
                pass
    return out


def ignored_by_rule(arch: str | None, rule: str) -> tuple[str, ...]:
    """Key prefixes that ``rule`` never reads on ``arch``'s family (none for an unknown pair)."""
    from bsd.rules.registry import family_of, ignored_keys

    try:
        return ignored_keys(family_of(arch or ""), rule)
    except ValueError:
        return ()


def layer_local(arch: str | None, rule: str) -> bool:
    """Whether ``rule`` on ``arch``'s family has layer-local losses (``model.optimizer.clip_local`` applies)."""
    from bsd.rules.registry import family_of, lookup

    try:
        return bool(getattr(lookup(family_of(arch or ""), rule), "layer_local", False))
    except ValueError:
        return False


def effective_clipping(flat: dict[str, Any], local: bool) -> dict[str, Any]:
    """``flat`` with its clipping keys written as what the run did.

    A layer-local rule that clips nothing reads as ``trainer.gradient_clip_val=null, model.optimizer.clip_local=off``
    however it was switched off; any other rule never reads ``clip_local``.
    """
    out = dict(flat)
    key, scope = "trainer.gradient_clip_val", "model.optimizer.clip_local"
    if not local:
        out.pop(scope, None)
    elif key in out and (out[key] is None or out.get(scope) == "off"):
        out[key], out[scope] = None, "off"
    return out


def diff(cfg: dict, default: dict[str, Any], ignored: Iterable[str] = (), local: bool | None = None,
         derived: Iterable[str] = ()) -> dict[str, Any]:
    """``{key: run's value}`` of the keys where flattened ``cfg`` differs from flattened ``default``.

    Budget keys are included (split them off with :func:`split_budget`); housekeeping and implementation
    keys, keys below ``ignored`` and keys absent from ``default`` are not; a key absent from ``cfg`` equals
    the default, and so does a key in ``derived`` (the run derived it from its data) where the default is null
    (the default derives it too); a default that interpolates such a key (``${data.window}``) is the run's value of
    it. ``local`` (the rule's losses are layer-local, or None to compare as written):
    both configs' clipping keys are compared as :func:`effective_clipping` writes them.
    """
    skip = (*HOUSEKEEPING, *IMPLEMENTATION, *ignored)
    flat = flatten(cfg)
    if local is not None:
        flat, default = effective_clipping(flat, local), effective_clipping(default, local)
    out = {}
    for k, v in flat.items():
        if k not in default or under(k, skip) or (v is None and k in NULL_IGNORED):
            continue
        if k in derived and default[k] is None:
            continue
        d = default[k]
        ref = _REF.fullmatch(d) if isinstance(d, str) else None
        if ref:  # today's default follows a key the run derived: the run's value of that key
            d = flat.get(ref[1], v)
        if not same(v, d):
            out[k] = v
    return dict(sorted(out.items()))


def split_budget(d: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(label keys, budget keys)`` of a :func:`diff`."""
    return {k: v for k, v in d.items() if k not in BUDGET}, {k: v for k, v in d.items() if k in BUDGET}


def run_diff(cfg: dict, conf: str | Path = CONF, derived: Iterable[str] = ()) -> dict[str, Any]:
    """:func:`diff` of a run's stored config against today's default of its experiment and rule.

    ``derived``: the keys the run derived from its data (``derived`` in its metrics.json).
    """
    m = cfg.get("model") or {}
    exp, rule = cfg.get("experiment_name"), m.get("rule")
    if not exp or not rule:
        return {}
    return diff(cfg, default_config(str(exp), str(rule), str(conf)), ignored_by_rule(m.get("arch"), str(rule)),
                layer_local(m.get("arch"), str(rule)), derived=set(derived))


def value(v: Any) -> str:
    """A config value as a Hydra override writes it: ``null``, ``true``, ``[256,256]``, ``0.0003``."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, list | tuple):
        return "[" + ",".join(value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(f"{k}:{value(x)}" for k, x in v.items()) + "}"
    return str(v)


def label(keys: dict[str, Any]) -> str:
    """The row label of label keys, e.g. ``data.residual_parts=1, model.reco.lam=0.2``; ``default`` if none."""
    return ", ".join(f"{k}={value(v)}" for k, v in sorted(keys.items())) or "default"
