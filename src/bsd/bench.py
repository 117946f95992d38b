"""Training-step benchmark: step time and peak memory of bsd, bp_snn and bp_ann on one backbone.

Each configuration runs in its own subprocess (so peak resident memory is its own), on real MNIST
batches, and the table prints ratios against ``bp_snn`` measured in the same run::

    python -m bsd.bench                          # MLP 784-256x5-10, T = 4, 8, 16, batch 128, CPU
    python -m bsd.bench --arch mlp cnn --T 4 --steps 10 --out docs/performance.md
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

import torch

RULES = ("bsd", "bp_snn", "bp_ann")
PEERS = ("snntorch", "spikingjelly")  # BPTT in peer libraries (bench-only extras, never runtime dependencies)


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
            mods += [layer.Linear(a, b, step_mode="m"), layer.BatchNorm1d(b, step_mode="m"),
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


def _stack(arch: str, widths: list[int]):
    from .coding import LabelCode
    from .nets import build_stack, cnn_stages, mlp_stages

    lif = {"threshold": 0.6, "beta": 0.5}
    if arch == "mlp":
        return build_stack((784,), mlp_stages(widths), 10, lif), LabelCode(10)
    return build_stack((1, 28, 28), cnn_stages([64, 128, 64], [256]), 10, lif), LabelCode(10)


def worker(arch: str, rule: str, T: int, batch: int, steps: int, warmup: int, widths: list[int], device: str) -> dict:
    """Time ``steps`` full training steps (loss, backward, AdamW step) after ``warmup`` steps."""
    from .data.sources import from_pureml
    from .rules import RuleConfig, make_rule

    torch.manual_seed(0)
    data = from_pureml()
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
        stack, code = _stack(arch, widths)
        model, code = stack.to(device), code.to(device)
        r = make_rule(rule, RuleConfig(T=T))
        name, steps_T = r.name, r.T

        def loss_fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return r.loss(model, code, x, y)[0]
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    batches = [(x_all[i * batch:(i + 1) * batch].to(device), y_all[i * batch:(i + 1) * batch].to(device))
               for i in range(8)]
    cuda = device.startswith("cuda")

    def step(k: int) -> None:
        x, y = batches[k % len(batches)]
        opt.zero_grad(set_to_none=True)
        loss_fn(x, y).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    for k in range(warmup):
        step(k)
    saved: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        saved[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):  # what the loss graph keeps for backward
        loss = loss_fn(*batches[0])
    loss.backward()
    opt.zero_grad(set_to_none=True)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = []
    for k in range(steps):
        t0 = time.perf_counter()
        step(k)
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    out = {"arch": arch, "rule": name, "T": steps_T, "batch": batch, "median_ms": 1e3 * statistics.median(times),
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           "rss_growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024,
           "graph_mb": sum(saved.values()) / 2**20}
    if cuda:
        out["peak_step_mb"] = (torch.cuda.max_memory_allocated() - base) / 2**20
    return out


def run_all(a: argparse.Namespace) -> list[dict]:
    """One subprocess per configuration; returns their measurements."""
    rows = []
    for arch in a.arch:
        for T in a.T:
            for rule in a.rules:
                if rule == "bp_ann" and T != a.T[0]:
                    continue  # bp_ann has no time steps: measured once
                if rule in PEERS and arch != "mlp":
                    continue
                cmd = [sys.executable, "-m", "bsd.bench", "--worker", "--arch", arch, "--rules", rule, "--T", str(T),
                       "--batch", str(a.batch), "--steps", str(a.steps), "--warmup", str(a.warmup),
                       "--widths", ",".join(map(str, a.widths)), "--device", a.device]
                res = subprocess.run(cmd, capture_output=True, text=True, check=False)
                if res.returncode != 0:
                    raise SystemExit(f"error: benchmark worker failed ({' '.join(cmd)}):\n{res.stderr[-2000:]}")
                rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
                print(f"  {arch} T={T} {rule}: {rows[-1]['median_ms']:.1f} ms", file=sys.stderr, flush=True)
    return rows


def table(rows: list[dict], device: str) -> str:
    """Markdown table with ratios against bp_snn at the same architecture and T."""
    mem_key = "peak_step_mb" if device.startswith("cuda") else "peak_rss_mb"
    mem_name = "peak step memory MB (CUDA, above the model)" if device.startswith("cuda") else "peak RSS MB"
    ref = {(r["arch"], r["T"]): r for r in rows if r["rule"] == "bp_snn"}
    lines = [f"| arch | T | rule | median step ms | × bp_snn | saved for backward MB | × bp_snn | {mem_name} |",
             "|" + "---|" * 8]
    for r in rows:
        b = ref.get((r["arch"], r["T"])) or next((v for (a, _), v in ref.items() if a == r["arch"]), None)
        t_ratio = f"{r['median_ms'] / b['median_ms']:.2f}" if b and r["rule"] != "bp_ann" else (
            f"{r['median_ms'] / b['median_ms']:.2f} (vs T={b['T']})" if b else "-")
        g_ratio = f"{r['graph_mb'] / b['graph_mb']:.2f}" if b else "-"
        lines.append(f"| {r['arch']} | {r['T']} | {r['rule']} | {r['median_ms']:.1f} | {t_ratio} | "
                     f"{r['graph_mb']:.1f} | {g_ratio} | {r[mem_key]:.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", nargs="+", default=["mlp"], choices=["mlp", "cnn"])
    ap.add_argument("--rules", nargs="+", default=list(RULES), choices=RULES + PEERS,
                    help="our rules and/or peer libraries (snntorch, spikingjelly: install them first)")
    ap.add_argument("--T", nargs="+", type=int, default=[4, 8, 16])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--widths", type=lambda s: [int(w) for w in s.split(",")], default=[256] * 5)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--out", default=None, help="also write the table (with the command) to this markdown file")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        print(json.dumps(worker(a.arch[0], a.rules[0], a.T[0], a.batch, a.steps, a.warmup, a.widths, a.device)))
        return
    rows = run_all(a)
    text = table(rows, a.device)
    print(text)
    if a.out:
        cmd = "python -m bsd.bench " + " ".join(argv if argv is not None else sys.argv[1:])
        cpu = f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"
        dev = torch.cuda.get_device_name() if a.device.startswith("cuda") else cpu
        with open(a.out, "a") as f:
            f.write(f"\n### {dev}, batch {a.batch}, {a.steps} timed steps after {a.warmup}\n\n`{cmd}`\n\n{text}\n")


if __name__ == "__main__":
    main()
