"""Read pickled dataset files (CIFAR's python version) without executing pickled code.

:class:`RestrictedUnpickler` resolves only the globals a pickle of plain containers and numpy arrays needs;
any other global (``os.system``, ``builtins.eval``, a class of some package ...) stops the load with a
:class:`~bsd.data.sources.DataSourceError` before anything it names is called.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

from .sources import DataSourceError

#: (module, name) pairs a pickle may reference: numpy's array and dtype reconstruction, and the ``_codecs.encode``
#: that protocol-2 pickles written by Python 3 use for ``bytes``
ALLOWED = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("_codecs", "encode"),
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that admits only plain containers, numbers, strings, bytes and numpy arrays."""

    def __init__(self, file, path: str | Path = "<pickle>", **kw) -> None:
        super().__init__(file, **kw)
        self.path = str(path)

    def find_class(self, module: str, name: str) -> Any:  # noqa: D102
        if (module, name) in ALLOWED:
            return super().find_class(module, name)
        raise DataSourceError(f"{self.path} is a pickle that references {module}.{name}; expected only plain "
                              "containers and numpy arrays (as in the official dataset files). Refused without "
                              "running it: replace the file with a copy from the dataset's official archive.")


def load_pickle(path: str | Path) -> Any:
    """Unpickle ``path`` with :class:`RestrictedUnpickler` (Python 2 strings as ``bytes``)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise DataSourceError(f"cannot read {p}: {e}") from e
    try:
        return RestrictedUnpickler(io.BytesIO(raw), p, encoding="bytes").load()
    except DataSourceError:
        raise
    except Exception as e:  # noqa: BLE001 - truncated or not a pickle at all: one message naming the file
        raise DataSourceError(f"{p} cannot be read as a pickle ({type(e).__name__}: {e}); the file is truncated "
                              "or not in the expected format: replace it with a fresh copy.") from e
