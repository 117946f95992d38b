"""``python -m bsd.report``."""

from .cli import main

main()
