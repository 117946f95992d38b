"""``python -m bsd.bench`` (see :mod:`bsd.bench`)."""

from .cli import main

main()
