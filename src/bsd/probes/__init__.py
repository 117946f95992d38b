"""Diagnostics run on trained runs or data configs, each with ``python -m bsd.probes.<name>`` (see its docstring)."""
