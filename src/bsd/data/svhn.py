"""SVHN cropped digits from the official ``train_32x32.mat`` / ``test_32x32.mat`` (``extra_32x32.mat`` optional).

Each file is a MATLAB (v5) file with ``X``: uint8 ``[32, 32, 3, N]`` (height, width, channel, image) and ``y``:
``[N, 1]`` labels 1..10, where 10 stands for the digit 0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .image_sources import ImageArrays
from .sources import DataSourceError


def read_mat(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(images [N, 3, 32, 32], labels [N] in 0..9)`` of one ``.mat`` file, checked."""
    import scipy.io

    if not path.is_file():
        raise DataSourceError(f"{path} is missing; expected it beside the other SVHN .mat files")
    try:
        m = scipy.io.loadmat(str(path))
    except Exception as e:  # noqa: BLE001 - a truncated or foreign file: one message naming it
        raise DataSourceError(f"{path} cannot be read as a MATLAB file ({type(e).__name__}: {e}); it is truncated "
                              "or not the official SVHN file: replace it") from e
    missing = [k for k in ("X", "y") if k not in m]
    if missing:
        found = sorted(k for k in m if not k.startswith("__"))
        raise DataSourceError(f"{path} has no {' or '.join(missing)}; expected X (32 x 32 x 3 x N images) and y "
                              f"(N labels), found {found}")
    x, y = m["X"], np.asarray(m["y"]).reshape(-1)
    if x.ndim != 4 or x.shape[:3] != (32, 32, 3):
        raise DataSourceError(f"{path}: expected X of shape 32 x 32 x 3 x N (height, width, channel, image), found "
                              f"{' x '.join(map(str, x.shape))}; a transposed or re-saved file is not read")
    if x.dtype != np.uint8:
        raise DataSourceError(f"{path}: expected X of uint8 pixels, found {x.dtype}")
    if len(y) != x.shape[3]:
        raise DataSourceError(f"{path}: X holds {x.shape[3]} images but y {len(y)} labels")
    bad = np.nonzero((y < 1) | (y > 10))[0]
    if len(bad):
        k = int(bad[0])
        raise DataSourceError(f"{path}: labels must lie in 1..10 (10 is the digit 0), found {y[k]} at record {k}")
    y = y.astype(np.int64)
    y[y == 10] = 0
    return np.ascontiguousarray(x.transpose(3, 2, 0, 1)), y


def from_mat(folder: Path, extra: bool = False) -> ImageArrays:
    """Train (plus ``extra`` when asked) and test splits from the ``.mat`` files of ``folder``."""
    tr_x, tr_y = read_mat(folder / "train_32x32.mat")
    if extra:
        ex_x, ex_y = read_mat(folder / "extra_32x32.mat")
        tr_x, tr_y = np.concatenate([tr_x, ex_x]), np.concatenate([tr_y, ex_y])
    te_x, te_y = read_mat(folder / "test_32x32.mat")
    return ImageArrays(tr_x, tr_y, te_x, te_y, [str(k) for k in range(10)],
                       f"{folder} (SVHN .mat{', with extra' if extra else ''})")
