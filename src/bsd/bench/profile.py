"""``--profile``: where each rule's training step spends its time, read from ``torch.profiler``.

Per rule, after ``--warmup`` steps and ``--steps`` steps timed in turns without the profiler, ``--profile-steps``
steps run under the profiler (CPU; CUDA too on a GPU). Each step's time is split into phases:

- forward without a graph: operators the loss calls from Python with grad mode off (e.g. ``bsd``'s recall stream);
- forward with a graph: the same with grad mode on (the loss graph, ReCo included);
- backward: every ``torch.autograd.grad`` and ``backward`` call (``bsd`` layer by layer takes one per layer
  inside the loss);
- optimizer: zero_grad, gradient clipping and AdamW;
- Python between operators: the rest of the step (the interpreter and the rule's own bookkeeping).

Grad mode is read from markers the profile leaves at every switch (``torch._C._set_grad_enabled``), so
autograd Functions and no-grad blocks anywhere in a rule are split alike without labels in the rules.
"""

from __future__ import annotations

import argparse
import bisect
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity, profile, record_function

from .steps import build_step, depth_of, rules_at, shapes
from .timing import _sync, rounds

PREFIX = "bench::"
#: the phases of a step, in the table's order
PHASES = ("forward, no graph", "forward, graph (loss, ReCo)", "backward", "optimizer", "Python between ops")
BACKWARD = (f"{PREFIX}backward", f"{PREFIX}autograd.grad", f"{PREFIX}autograd.backward")
ENGINE = "autograd::engine::evaluate_function"
#: operators listed per rule, by self time
TOP = 8


def _label(name: str) -> record_function:
    return record_function(PREFIX + name)


@contextmanager
def instrumented() -> Iterator[None]:
    """Label every ``torch.autograd.grad`` / ``backward`` call and mark every grad-mode switch (while profiling)."""
    grad, backward, set_grad = torch.autograd.grad, torch.autograd.backward, torch._C._set_grad_enabled

    def labelled_grad(*args, **kwargs):
        with _label("autograd.grad"):
            return grad(*args, **kwargs)

    def labelled_backward(*args, **kwargs):
        with _label("autograd.backward"):
            return backward(*args, **kwargs)

    def marked_set_grad(mode: bool) -> None:
        set_grad(mode)
        with _label("grad=on" if mode else "grad=off"):
            pass

    torch.autograd.grad, torch.autograd.backward = labelled_grad, labelled_backward
    torch._C._set_grad_enabled = marked_set_grad
    try:
        yield
    finally:
        torch.autograd.grad, torch.autograd.backward, torch._C._set_grad_enabled = grad, backward, set_grad


def _under(e, names: tuple[str, ...]) -> bool:
    p = e.cpu_parent
    while p is not None:
        if p.name in names or p.name.startswith(ENGINE):
            return True
        p = p.cpu_parent
    return False


def summarise(events, averages, steps: int, grad_at_start: bool = True) -> dict:
    """Per-step phase times (ms), operator counts and the top operators by self time of ``steps`` profiled steps.

    ``events``, ``averages``: the profiler's ``events()`` and ``key_averages()``.
    """
    cpu = [e for e in events if e.device_type == DeviceType.CPU]
    marks = sorted((e.time_range.start, e.name.endswith("=on")) for e in cpu if e.name.startswith(PREFIX + "grad="))
    starts = [t for t, _ in marks]

    def grad_on(t: float) -> bool:
        i = bisect.bisect_right(starts, t) - 1
        return marks[i][1] if i >= 0 else grad_at_start

    us = dict.fromkeys(PHASES, 0.0)
    step_us, fwd_ops, passes, nodes, aten = 0.0, [0, 0], 0, 0, 0
    for e in cpu:
        name, took = e.name, e.time_range.elapsed_us()
        if name == PREFIX + "step":
            step_us += took
        elif name in BACKWARD:
            passes += name != BACKWARD[0]
            if not _under(e, BACKWARD):  # the outermost pass only (.backward() runs autograd.backward)
                us["backward"] += took
        elif name == PREFIX + "optimizer":
            us["optimizer"] += took
        elif name.startswith(ENGINE):
            nodes += 1
        elif not name.startswith(PREFIX):
            aten += name.startswith("aten::")
            if e.cpu_parent is not None and e.cpu_parent.name == PREFIX + "loss":  # an operator the loss calls
                on = grad_on(e.time_range.start)
                fwd_ops[on] += 1
                us[PHASES[on]] += took
    us["Python between ops"] = step_us - sum(us.values())
    out = {"profiled_ms": step_us / 1e3 / steps, "phases_ms": {k: v / 1e3 / steps for k, v in us.items()},
           "forward_ops": [n / steps for n in fwd_ops], "backward_passes": passes / steps,
           "backward_nodes": nodes / steps, "aten_ops": aten / steps}
    gpu = [e for e in events if e.device_type == DeviceType.CUDA]
    if gpu:
        out["gpu_ms"] = sum(e.time_range.elapsed_us() for e in gpu) / 1e3 / steps
    ops = sorted((a for a in averages if not a.key.startswith(PREFIX) and a.device_type == DeviceType.CPU),
                 key=lambda a: a.self_cpu_time_total, reverse=True)
    out["top"] = [(a.key, a.count / steps, a.self_cpu_time_total / 1e3 / steps) for a in ops[:TOP]]
    return out


def profile_steps(step: Callable[..., None], steps: int, device: str) -> dict:
    """:func:`summarise` of ``steps`` calls of ``step(k, phase)`` under the profiler."""
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.startswith("cuda") else [])
    grad_at_start = torch.is_grad_enabled()
    with instrumented(), profile(activities=acts) as p:
        for k in range(steps):
            with _label("step"):
                step(k, _label)
                _sync(device)
    return summarise(p.events(), p.key_averages(), steps, grad_at_start)


def profile_all(a: argparse.Namespace) -> list[dict]:
    """Per (arch, depth, T): the rules timed in turns without the profiler, then each profiled (:func:`summarise`)."""
    rows = []
    for arch in a.arch:
        for widths in shapes(arch, a.depths, a.widths):
            for T in a.T:
                rules = rules_at(a.rules, arch, T, a.T[0])
                made = {r: build_step(arch, r, T, a.batch, widths, a.device, a.optimizer_impl, a.compile,
                                      a.data_dir) for r in rules}
                if not made:
                    continue
                timed = rounds({r: m.step for r, m in made.items()}, a.warmup, a.steps, a.device)
                for r, m in made.items():
                    row = {"arch": arch, "depth": depth_of(arch, widths), "T": m.T, "rule": r,
                           "step_ms": timed["median"][r], **profile_steps(m.step, a.profile_steps, a.device)}
                    print(f"  profiled {arch} depth={row['depth']} T={m.T} {r}: {row['step_ms']:.1f} ms a step, "
                          f"{row['profiled_ms']:.1f} ms profiled", file=sys.stderr, flush=True)
                    rows.append(row)
    return rows


def profile_table(rows: list[dict], device: str) -> str:
    """The phases and counts of every row, then each row's top operators by self time (markdown)."""
    gpu = device.startswith("cuda")
    ref = {(r["arch"], r["depth"], r["T"]): r["step_ms"] for r in rows if r["rule"] == "bp_snn"}
    head = ("| arch | depth | T | rule | step ms | × bp_snn | profiled step ms | "
            + " | ".join(f"{p} ms" for p in PHASES)
            + " | forward ops (no graph + graph) | backward passes | backward nodes | aten ops |"
            + (" GPU kernels ms |" if gpu else ""))
    lines = ["Per step. Step ms: the median without the profiler, rules in turns; the phases split the profiled "
             "step (the profiler adds a cost to every operator). Forward ops: operators the loss calls from "
             "Python; backward passes: torch.autograd.grad and backward calls; backward nodes: the autograd "
             "functions they run; aten ops: every aten operator call, nested and backward ones included.", "",
             head, "|" + "---|" * head.count(" |")]
    for r in rows:
        b = ref.get((r["arch"], r["depth"], r["T"]))
        no, yes = r["forward_ops"]
        lines.append(f"| {r['arch']} | {r['depth']} | {r['T']} | {r['rule']} | {r['step_ms']:.1f} | "
                     + (f"{r['step_ms'] / b:.2f}" if b else "-") + f" | {r['profiled_ms']:.1f} | "
                     + " | ".join(f"{r['phases_ms'][p]:.1f}" for p in PHASES)
                     + f" | {no:.0f} + {yes:.0f} | {r['backward_passes']:.0f} | {r['backward_nodes']:.0f} | "
                       f"{r['aten_ops']:.0f} |" + (f" {r.get('gpu_ms', 0.0):.1f} |" if gpu else ""))
    lines += ["", f"Top {TOP} operators by self CPU time, per step:", "",
              "| arch | depth | T | rule | operator | calls | self ms | % of profiled step |",
              "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        for name, calls, ms in r["top"]:
            lines.append(f"| {r['arch']} | {r['depth']} | {r['T']} | {r['rule']} | `{name}` | {calls:.0f} | "
                         f"{ms:.2f} | {100 * ms / r['profiled_ms']:.0f} |")
    return "\n".join(lines)
