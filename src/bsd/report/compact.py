"""``python -m bsd.report.compact DIR``: keep only what the report reads in the run directories below ``DIR``.

Per run: ``metrics.json``, the resolved config and the learning curve (the validation rows and columns of the CSV
logger's ``csv/metrics.csv``), both stored before their files go: as ``config`` and ``curve`` in ``metrics.json``,
or for a run stopped before its test as ``config_resolved.yaml`` and ``curve.csv``; for autoencoders, the final
image grid; per prior
screen: its ``screen/priors*.json`` and the grids its table links. Everything else below ``DIR`` is deleted:
logs, checkpoints, Hydra's copies of the config, per-epoch grids and rasters. Run it on finished runs only.
Running it twice changes nothing the second time.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections import Counter
from pathlib import Path

import yaml

from ..runs import atomic_write_bytes
from .runs import CONFIG, CURVE, FINAL_GRID, METRICS, RAW_CURVE, find_prior_screens, read_curve, read_metrics, stored
from .sections import prior_grids


def run_dirs(root: Path) -> list[Path]:
    """Directories below ``root`` holding a run (its ``metrics.json`` or resolved config)."""
    return sorted({p.parent for name in (METRICS, CONFIG) for p in root.rglob(name)})


def write_json(path: Path, obj: dict) -> None:
    """Write ``obj`` atomically, one sorted top-level key per line, each value on that line."""
    def dump(v: object) -> str:
        return json.dumps(v, sort_keys=True, separators=(",", ":"), default=str)

    text = "{\n" + ",\n".join(f"{dump(k)}: {dump(obj[k])}" for k in sorted(obj)) + "\n}\n"
    atomic_write_bytes(path, text.encode())


def store(run_dir: Path) -> None:
    """Keep a run's learning curve and resolved config where the report reads them.

    A finished run gets them as ``curve`` and ``config`` in its ``metrics.json`` (one write); a run stopped before
    its test keeps its ``config_resolved.yaml`` and gets its curve as ``curve.csv``. The curve's source is the CSV
    logger's ``csv/metrics.csv`` (or an earlier ``curve.csv``).
    """
    src = next((p for p in (run_dir / RAW_CURVE, run_dir / CURVE) if p.is_file()), None)
    if (run_dir / METRICS).is_file():
        if (m := read_metrics(run_dir)) is None:
            return
        add = {}
        if "curve" not in m and src is not None and (columns := read_curve(src)):
            add["curve"] = columns
        if "config" not in m and (run_dir / CONFIG).is_file():
            add["config"] = yaml.safe_load((run_dir / CONFIG).read_text()) or {}
        if add:
            write_json(run_dir / METRICS, {**m, **add})
        return
    if src is None or src == run_dir / CURVE or not (columns := read_curve(src)):
        return
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(list(columns))
    w.writerows(zip(*(["" if v is None else v for v in col] for col in columns.values()), strict=True))
    (run_dir / CURVE).write_text(buf.getvalue())


def kept(root: Path) -> set[Path]:
    """The files below ``root`` the report reads or links (those that exist)."""
    keep = {d / name for d in run_dirs(root) for name in (METRICS, FINAL_GRID)}
    keep |= {d / CONFIG for d in run_dirs(root) if not isinstance(stored(d, "config"), dict)}
    keep |= {d / CURVE for d in run_dirs(root) if not (d / METRICS).is_file()}
    for screen in find_prior_screens([root]):
        keep.add(Path(screen["file"]))
        keep |= set(prior_grids(screen).values())
    return {p for p in keep if p.is_file()}


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink())


def _size(paths: list[Path]) -> int:
    return sum(p.lstat().st_size for p in paths)


def compact(root: Path, dry_run: bool = False) -> tuple[list[Path], int, int]:
    """Compact the runs below ``root``: ``(removed files, bytes before, bytes after)``."""
    if not root.is_dir():
        raise SystemExit(f"error: {root} is not a folder")
    if (root / ".git").exists() or (root / "pyproject.toml").exists():
        raise SystemExit(f"error: {root} looks like a repository, not a folder of runs; name the runs' folder")
    if not run_dirs(root):
        raise SystemExit(f"error: no runs (metrics.json or config_resolved.yaml) below {root}")
    before = _size(_files(root))
    if not dry_run:
        for d in run_dirs(root):
            store(d)
    keep = kept(root)
    removed = [p for p in _files(root) if p not in keep]
    freed = _size(removed)
    if not dry_run:
        for p in removed:
            p.unlink()
        for d in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            if not any(d.iterdir()):
                d.rmdir()
    after = _size(_files(root)) if not dry_run else before - freed
    return removed, before, after


def summary(removed: list[Path], before: int, after: int, root: Path, verbose: bool = False) -> str:
    """What was removed (by file name, or every path with ``verbose``) and the size before and after."""
    names = Counter(p.name for p in removed)
    counts = Counter(p.name if names[p.name] > 1 else f"other *{p.suffix or p.name}" for p in removed)
    lines = [p.relative_to(root).as_posix() for p in removed] if verbose else \
        [f"  {n:>5}  {name}" for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    mb = 1024 * 1024
    return "\n".join([f"removed {len(removed)} files below {root}:", *lines,
                      f"size: {before / mb:.1f} MiB before, {after / mb:.1f} MiB after"])


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(prog="python -m bsd.report.compact", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", type=Path, help="folder of run directories, e.g. results/ or outputs/")
    ap.add_argument("--dry-run", action="store_true", help="only print what would be removed")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every removed path")
    a = ap.parse_args(argv)
    removed, before, after = compact(a.dir, a.dry_run)
    print(("(dry run) " if a.dry_run else "") + summary(removed, before, after, a.dir, a.verbose))


if __name__ == "__main__":
    main()
