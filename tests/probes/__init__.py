"""Tests of the probes in ``bsd.probes`` (each runs as ``python -m bsd.probes.<name>``)."""

import importlib
from types import ModuleType


def load_probe(name: str) -> ModuleType:
    """The module ``bsd.probes.<name>``, freshly imported."""
    return importlib.reload(importlib.import_module(f"bsd.probes.{name}"))
