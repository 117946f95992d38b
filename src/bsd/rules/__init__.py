"""Learning rules over one backbone, looked up by ``model.rule``."""

from __future__ import annotations

from .base import Rule, RuleConfig, forward_net
from .bp import BPANN, BPSNN
from .bsd import BSD

RULES: dict[str, type[Rule]] = {"bsd": BSD, "bp_snn": BPSNN, "bp_ann": BPANN}


def make_rule(name: str, cfg: RuleConfig) -> Rule:
    """Instantiate the rule called ``name``; a clear error lists the known ones."""
    if name not in RULES:
        raise ValueError(f"model.rule={name!r} is unknown; choose one of {sorted(RULES)}")
    return RULES[name](cfg)


__all__ = ["RULES", "Rule", "RuleConfig", "forward_net", "make_rule"]
