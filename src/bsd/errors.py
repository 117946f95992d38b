"""Turn known user errors into one clear message and a non-zero exit, without a traceback."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from omegaconf.errors import OmegaConfBaseException


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Print ``error: <message>`` and exit with status 2 for configuration and data errors."""
    from .data.sources import DataSourceError  # noqa: PLC0415
    from .tasks import NonFiniteLossError  # noqa: PLC0415

    try:
        yield
    except (ValueError, DataSourceError, NonFiniteLossError, FileNotFoundError, OmegaConfBaseException) as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        sys.exit(2)
