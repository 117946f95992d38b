"""The benchmarked configurations: one training step per rule, architecture, depth and T, on real MNIST batches."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import torch

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
    from ..coding import LabelCode
    from ..nets import build_stack, cnn_stages, mlp_stages

    lif = {"threshold": 0.6, "beta": 0.5, "compile": compile, "graph": graph}
    if arch == "mlp":
        return build_stack((784,), mlp_stages(widths), 10, lif), LabelCode(10)
    return build_stack((1, 28, 28), cnn_stages([64, 128, 64], [256]), 10, lif), LabelCode(10)


def reco_config(rule: str, arch: str, T: int):
    """The rule settings the configs give a classifier (BP rules ignore them).

    ``bsd``: ReCo on centred rates (4 x 4 pools on conv maps); ``bsd_voltage``: on voltages.
    """
    from ..config import model_config

    if rule == "bsd_voltage":
        return model_config(arch, f"T={T}", "reco.on=voltage", "reco.center=none", "reco.pool=null")
    if rule == "bsd_joint":
        return model_config(arch, f"T={T}", "backward=joint")
    return model_config(arch, f"T={T}")


#: a step's phase label (``torch.profiler.record_function`` under ``--profile``; nothing otherwise)
Phase = Callable[[str], AbstractContextManager]


def _unlabelled(name: str) -> AbstractContextManager:
    return nullcontext()


@dataclass
class Made:
    """One configuration, built: ``step(k, phase)`` trains on batch ``k % 8`` (``phase`` labels its parts)."""

    step: Callable[..., None]
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    batches: list[tuple[torch.Tensor, torch.Tensor]]
    name: str
    T: int


def build_step(arch: str, rule: str, T: int, batch: int, widths: list[int], device: str, impl: str = "fused",
               compile: bool = False, data_dir: str | None = None) -> Made:
    """One configuration's training step (loss, backward, clipping, AdamW) on real MNIST batches.

    ``step(k, phase)`` opens ``phase("optimizer")`` around zero_grad and around clipping plus AdamW,
    ``phase("loss")`` around the loss (and any gradient a rule takes inside it) and ``phase("backward")``
    around the step's backward pass.
    """
    from ..data.sources import load_arrays
    from ..rules import make_rule
    from ..tasks.base import adamw

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

    def step(k: int, phase: Phase = _unlabelled) -> None:
        x, y = batches[k % len(batches)]
        with phase("optimizer"):
            opt.zero_grad(set_to_none=True)
        with phase("loss"):
            loss = loss_fn(x, y)
        with phase("backward"):
            loss.backward()
        with phase("optimizer"):
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()

    return Made(step, loss_fn, batches, name, steps_T)


def make_step(arch: str, rule: str, T: int, batch: int, widths: list[int], device: str, impl: str = "fused",
              compile: bool = False, data_dir: str | None = None):
    """:func:`build_step` as a tuple ``(step, loss_fn, batches, name, T)``; ``step(k)`` trains on batch ``k % 8``."""
    m = build_step(arch, rule, T, batch, widths, device, impl, compile, data_dir)
    return m.step, m.loss_fn, m.batches, m.name, m.T


def base_rule(rule: str) -> str:
    """The registered rule a benchmark name runs (``bsd_voltage``, ``bsd_joint`` -> ``bsd``)."""
    for suffix in ("_voltage", "_stepwise", "_joint"):
        rule = rule.removesuffix(suffix)
    return rule


def mlp_widths(depth: int) -> list[int]:
    """Hidden widths of an MLP of ``depth`` weight layers (784 -> 256 x (depth - 1) -> 10)."""
    return [DEPTH_WIDTH] * (depth - 1)


def depth_of(arch: str, widths: list[int]) -> int:
    """Weight layers of the benchmarked net: the MLP's ``len(widths) + 1``; the paper's CNN's (fixed)."""
    return len(widths) + 1 if arch == "mlp" else _stack("cnn", widths)[0].depth


def rules_at(rules: list[str], arch: str, T: int, first_T: int) -> list[str]:
    """The rules benchmarked at ``(arch, T)``: one-step rules at the first T only, peers on the MLP only."""
    return [r for r in rules if not (r in ONE_STEP and T != first_T) and not (r in PEERS and arch != "mlp")]


def shapes(arch: str, depths: list[int] | None, widths: list[int]) -> list[list[int]]:
    """The hidden widths of every net to benchmark: one MLP per depth (or ``widths``); the CNN is fixed."""
    return [mlp_widths(d) for d in depths] if depths and arch == "mlp" else [widths]
