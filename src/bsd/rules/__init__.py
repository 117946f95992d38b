"""Learning rules, one registry keyed by ``(family, name)`` (:mod:`bsd.rules.registry`)."""

from __future__ import annotations

from typing import Any

from .base import Rule, forward_net
from .registry import all_rules, family_of, ignored_keys, lookup, names, register


def make_rule(family: str, name: str, cfg: Any, *args: Any, **kwargs: Any) -> Any:
    """Instantiate rule ``name`` of ``family`` (``image``, ``seq``, ``ae``) on the model config ``cfg``."""
    return lookup(family, name)(cfg, *args, **kwargs)


__all__ = ["Rule", "all_rules", "family_of", "forward_net", "ignored_keys", "lookup", "make_rule", "names",
           "register"]
