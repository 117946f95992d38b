"""Memory of each configuration in its own worker process, and step times taken in turns in one process."""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import torch

from ..compact import SavedPeak
from .steps import build_step, depth_of, rules_at, shapes


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def worker(arch: str, rule: str, T: int, batch: int, steps: int, warmup: int, widths: list[int], device: str,
           impl: str = "fused", compile: bool = False, data_dir: str | None = None) -> dict:
    """Memory of one configuration (and its own step time) after ``warmup`` steps, in this process."""
    made = build_step(arch, rule, T, batch, widths, device, impl, compile, data_dir)
    step = made.step
    for k in range(warmup):
        step(k)
    # what graphs hold for backward over one whole step: at once (peak) and summed (BSD's compact store counts what
    # it keeps inside its own hooks)
    with SavedPeak() as held:
        step(0)
    cuda = device.startswith("cuda")
    if cuda:
        _sync(device)
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    times = []
    for k in range(steps):
        t0 = time.perf_counter()
        step(k)
        _sync(device)
        times.append(time.perf_counter() - t0)
    out = {"arch": arch, "rule": made.name, "depth": depth_of(arch, widths), "T": made.T, "batch": batch,
           "device": device, "median_ms": 1e3 * statistics.median(times),
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           "graph_mb": held.total / 2**20, "peak_saved_mb": held.peak / 2**20}
    if cuda:
        out["peak_step_mb"] = (torch.cuda.max_memory_allocated() - base) / 2**20
    out["peak_mb"] = out["peak_step_mb"] if cuda else out["peak_rss_mb"]
    return out


def rounds(steps_of: dict[str, Callable[[int], None]], warmup: int, steps: int, device: str
           ) -> dict[str, dict[str, float]]:
    """``warmup`` then ``steps`` rounds of one step of every rule (the order rotates each round).

    Returns the median step time (ms) of each rule and its first step's time.
    """
    rules = list(steps_of)
    first = {}
    for k in range(warmup):
        for r in rules:
            t0 = time.perf_counter()
            steps_of[r](k)
            _sync(device)
            first.setdefault(r, 1e3 * (time.perf_counter() - t0))
    times: dict[str, list[float]] = {r: [] for r in rules}
    for k in range(steps):
        order = rules[k % len(rules):] + rules[:k % len(rules)]
        for r in order:
            _sync(device)
            t0 = time.perf_counter()
            steps_of[r](k)
            _sync(device)
            times[r].append(time.perf_counter() - t0)
    return {"median": {r: 1e3 * statistics.median(v) for r, v in times.items()}, "first": first}


def interleaved_times(arch: str, rules: list[str], T: int, batch: int, steps: int, warmup: int,
                      widths: list[int], device: str, impl: str = "fused", compile: bool = False,
                      data_dir: str | None = None) -> dict[str, dict[str, float]]:
    """Median step time (ms) of each rule, timed in turns in one process, and its first step's time.

    Round k times one step of every rule (the order rotates each round), so a slow spell of a
    shared machine hits all rules alike and the ratios stay fair. The first step includes any
    one-off cost (``torch.compile``'s compilation).
    """
    made = {r: build_step(arch, r, T, batch, widths, device, impl, compile, data_dir).step for r in rules}
    return rounds(made, warmup, steps, device)


def _run_worker(args: list[str]):
    cmd = [sys.executable, "-m", "bsd.bench", *args]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"error: benchmark worker failed ({' '.join(cmd)}):\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def worker_args(a: argparse.Namespace) -> list[str]:
    """The options every worker of this run shares (batch, warm-up, device, optimiser, threads, data)."""
    return (["--batch", str(a.batch), "--warmup", str(a.warmup), "--device", a.device,
             "--optimizer-impl", a.optimizer_impl] + (["--compile"] if a.compile else [])
            + (["--threads", str(a.threads)] if a.threads else [])
            + (["--data-dir", a.data_dir] if a.data_dir else []))


def run_all(a: argparse.Namespace) -> list[dict]:
    """Per (arch, depth, T): one subprocess per rule for memory, then one that times all rules in turns.

    ``a.depths`` (or None: ``a.widths``) gives the MLP's depths; the CNN is the paper's, of one depth.
    """
    # through the package, so that tests can replace ``bsd.bench._run_worker`` by an in-process call
    run_worker = getattr(sys.modules[__package__], "_run_worker", _run_worker)
    rows = []
    common = worker_args(a)
    for arch in a.arch:
        for widths in shapes(arch, a.depths, a.widths):
            shape = ["--widths", ",".join(map(str, widths))]
            for T in a.T:
                rules = rules_at(a.rules, arch, T, a.T[0])
                if not rules:
                    continue
                group = []
                for rule in rules:
                    group.append(run_worker(["--worker", "--arch", arch, "--rules", rule, "--T", str(T),
                                             "--steps", "3", *shape, *common]))
                med = run_worker(["--worker-times", "--arch", arch, "--rules", *rules, "--T", str(T),
                                  "--steps", str(a.steps), *shape, *common])
                for row, rule in zip(group, rules, strict=True):
                    row["median_ms"], row["first_step_ms"] = med["median"][rule], med["first"].get(rule)
                    row["step_ms"] = row["median_ms"]
                    print(f"  {arch} depth={row['depth']} T={T} {rule}: {row['median_ms']:.1f} ms, "
                          f"{row['peak_saved_mb']:.1f} MB held for backward", file=sys.stderr, flush=True)
                rows += group
    return rows
