"""Image grids as PNG files (no torchvision): originals, reconstructions and samples."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch

from .runs import atomic_write_bytes


def image_grid(images: torch.Tensor, nrow: int = 8, pad: int = 2, value: float = 1.0) -> np.ndarray:
    """``[N, C, H, W]`` in [0, 1] -> ``uint8 [rows*(H+pad)+pad, nrow*(W+pad)+pad(, 3)]``."""
    if images.dim() != 4:
        raise ValueError(f"image_grid expects [N, C, H, W], got shape {tuple(images.shape)}")
    n, c, h, w = images.shape
    rows = max(1, -(-n // nrow))
    grid = torch.full((c, rows * (h + pad) + pad, nrow * (w + pad) + pad), float(value))
    for k in range(n):
        r, q = divmod(k, nrow)
        grid[:, pad + r * (h + pad): pad + r * (h + pad) + h, pad + q * (w + pad): pad + q * (w + pad) + w] = images[k]
    arr = (grid.clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    return arr[0] if c == 1 else arr.transpose(1, 2, 0)


def stack_panels(panels: list[np.ndarray], gap: int = 4) -> np.ndarray:
    """Panels of the same width one above the other, separated by ``gap`` rows of mid-grey."""
    width = max(p.shape[1] for p in panels)
    parts = []
    for i, panel in enumerate(panels):
        p = panel
        if p.shape[1] < width:
            p = np.pad(p, [(0, 0), (0, width - p.shape[1])] + [(0, 0)] * (p.ndim - 2), constant_values=255)
        parts.append(p)
        if i < len(panels) - 1:
            parts.append(np.full((gap, width, *p.shape[2:]), 128, dtype=np.uint8))
    return np.concatenate(parts, axis=0)


def save_png(path: str | Path, array: np.ndarray) -> Path:
    """Write a ``uint8`` array as PNG atomically."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)
