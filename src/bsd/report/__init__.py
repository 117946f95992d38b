"""Build ``docs/results.md`` (and the generated blocks of other pages) from run directories, never by hand.

Usage: ``python -m bsd.report results --out docs/results.md``; ``python -m bsd.report.compact DIR`` keeps only
what the report reads in the runs below ``DIR``. Rows are labelled by how each run's resolved config differs
from today's default of its experiment (:mod:`bsd.report.labels`).
"""

from .cli import main
from .labels import default_config, diff, label
from .page import render
from .rows import Row, group_rows
from .runs import find_prior_screens, find_runs, unfinished_runs, val_curve

__all__ = ["Row", "default_config", "diff", "find_prior_screens", "find_runs", "group_rows", "label", "main", "render",
           "unfinished_runs", "val_curve"]
