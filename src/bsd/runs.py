"""Run directory outputs: atomic checkpoints, metrics.json, the printed result table."""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """JSON version of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n").encode())


class AtomicCheckpointIO(TorchCheckpointIO):
    """Checkpoints are written to a temporary file and renamed: never half-written."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options=None) -> None:  # noqa: D102
        Path(path).parent.mkdir(parents=True, exist_ok=True)  # temp file beside the target: os.replace is atomic
        fd, tmp = tempfile.mkstemp(dir=Path(path).parent, prefix=f".{Path(path).name}.", suffix=".tmp")
        os.close(fd)
        try:
            torch.save(checkpoint, tmp)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def peak_memory_mb() -> dict[str, float]:
    """Peak resident memory of this process (and peak CUDA allocation when a GPU was used), in MB."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = {"peak_rss_mb": rss / 1024 if sys.platform != "darwin" else rss / 2**20}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["peak_cuda_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return out


def format_table(rows: list[tuple[str, Any]], title: str = "Result") -> str:
    """A two-column plain-text table."""
    cells = [(k, f"{v:.4f}" if isinstance(v, float) else str(v)) for k, v in rows]
    w1 = max(len(k) for k, _ in cells + [("metric", "")])
    w2 = max(len(v) for _, v in cells + [("", "value")])
    line = f"+{'-' * (w1 + 2)}+{'-' * (w2 + 2)}+"
    out = [title, line, f"| {'metric'.ljust(w1)} | {'value'.ljust(w2)} |", line]
    out += [f"| {k.ljust(w1)} | {v.ljust(w2)} |" for k, v in cells]
    out.append(line)
    return "\n".join(out)


def git_commit() -> str | None:
    """The commit of the checkout this code runs from (``+dirty`` with uncommitted changes); None outside git."""
    import subprocess

    root = Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{sha}+dirty" if dirty else sha


def load_checkpoint(path: str | os.PathLike, what: str = "checkpoint") -> dict[str, Any]:
    """A checkpoint file read without unpickling arbitrary objects (``torch.load(weights_only=True)``).

    A crafted file that needs code to load is refused with a clear message; its payload never runs.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{what} {p} does not exist")
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable or unsafe file gets the same message
        raise ValueError(f"{p} is not a readable {what}: it holds objects that only plain tensors and containers may "
                         f"be loaded from ({str(e).splitlines()[0][:200]})") from e
    if not isinstance(obj, dict):
        raise ValueError(f"{p} is not a {what} of this project (it holds a {type(obj).__name__}, not a dict)")
    return obj
