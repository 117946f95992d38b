"""``python -m bsd.report ROOTS --out docs/results.md``: the results page and the generated blocks of other pages."""

from __future__ import annotations

import argparse
from pathlib import Path

from .criteria import FIGURE, comparison_rows, criteria_figure
from .markers import MarkerError, refresh
from .page import render, task_rows
from .runs import find_prior_screens, find_runs, unfinished_runs


def default_pages(out: Path) -> list[Path]:
    """Pages refreshed beside ``out``: ``experiments/*.md`` in its folder and the README one folder up."""
    pages = sorted(out.parent.glob("experiments/*.md"))
    readme = out.parent.parent / "README.md"
    return pages + ([readme] if readme.is_file() else [])


def outputs(roots: list[str], out: Path, pages: list[Path]) -> dict[Path, str]:
    """The text of every file the report writes: the results page and each page with marker blocks."""
    runs = find_runs(roots)
    if not runs:
        raise SystemExit(f"error: no metrics.json found under {roots}; train first (python src/train.py ...)")
    command = " ".join(["python -m bsd.report", *roots, "--out", out.as_posix()])
    texts = {out: render(runs, command, unfinished_runs(roots), out.parent, find_prior_screens(roots))}
    by_task = task_rows(runs)
    for page in pages:
        old = page.read_text()
        try:
            texts[page] = refresh(old, page.as_posix(), by_task)
        except MarkerError as e:
            raise SystemExit(f"error: {e}") from None
    return texts


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(prog="python -m bsd.report", description=__doc__)
    ap.add_argument("roots", nargs="*", default=["results"], help="folders searched for runs (metrics.json)")
    ap.add_argument("--out", default="docs/results.md", help="the results page")
    ap.add_argument("--pages", nargs="*", type=Path, default=None,
                    help="pages whose marker blocks are refreshed (default: experiments/*.md beside --out and "
                         "README.md one folder above it; no value: none)")
    ap.add_argument("--check", action="store_true", help="write nothing; fail if a file would change")
    a = ap.parse_args(argv)
    out = Path(a.out)
    texts = outputs(a.roots, out, default_pages(out) if a.pages is None else a.pages)
    stale = [p for p, t in texts.items() if not p.is_file() or p.read_text() != t]
    if a.check:
        if stale:
            raise SystemExit("error: out of date (regenerate with python -m bsd.report): "
                             + ", ".join(p.as_posix() for p in stale))
        print(f"up to date: {', '.join(p.as_posix() for p in texts)}")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    for p in stale:
        p.write_text(texts[p])
    if comp := comparison_rows(task_rows(find_runs(a.roots))["classification"]):
        criteria_figure(comp, out.parent / FIGURE)
    print(f"wrote {', '.join(p.as_posix() for p in stale) or 'nothing (all up to date)'}")
