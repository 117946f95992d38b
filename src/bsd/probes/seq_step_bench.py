"""Training-step time of the spiking RNN with credit through time inside a layer, against the spec's rule.

Builds the network of an experiment (default ``text_char``), then times one training step (loss, backward,
optimizer) of ``bsd`` with ``model.reco.through_time`` = each of ``--through-time`` (on the ``rest`` credit path,
then each of ``--forward`` with ``model.reco.time_path=forward`` and each ``model.reco.time_feedback`` of
``--feedback``) and of ``bp_snn``, on random batches of the experiment's shape, the settings interleaved step by
step so that machine noise hits them alike. Prints the median seconds per step, the ratio to the first setting
measured in the same run, and the peak of the bytes autograd holds for backward during a step.

    python -m bsd.probes.seq_step_bench [--experiment text_char] [--through-time 0 1 4] [--forward 0 99]
                                     [--feedback transport trace] [--steps 10] [overrides...]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from omegaconf import OmegaConf

from ..build import build_seq
from ..compact import SavedPeak
from ..config import compose

VOCAB = 85  # Shakespeare's 84 characters and <unk>: the text network's input and output width


def setting(experiment: str, rule: str, k: int, overrides: list[str], path: str = "rest",
            feedback: str = "transport"):
    """Stack, code, rule and a batch maker for one setting."""
    cfg = compose([f"+experiment={experiment}", f"model.rule={rule}", f"model.reco.through_time={k}",
                   f"model.reco.time_path={path}", f"model.reco.time_feedback={feedback}", *overrides])
    torch.manual_seed(0)
    B, P = int(cfg.data.batch_size), int(cfg.data.seq_len)
    if experiment.startswith("text"):
        ctx = int(cfg.data.get("context") or 1)
        stack, code, rl = build_seq(OmegaConf.to_object(cfg.model), VOCAB * ctx, VOCAB, "classify")

        def batch():
            x = torch.nn.functional.one_hot(torch.randint(0, VOCAB, (B, P, ctx)), VOCAB).flatten(-2).float()
            return x, torch.randint(0, VOCAB, (B, P))
    else:
        raise SystemExit("only text experiments are benchmarked here (the forecaster's runs log their epoch time)")
    opt = torch.optim.AdamW([p for p in stack.parameters() if p.requires_grad], lr=1e-3)
    return stack, code, rl, batch, opt


def train_step(stack, code, rl, opt, x: torch.Tensor, y: torch.Tensor) -> None:
    """One training step: the rule's loss, its backward pass and the optimiser step."""
    loss, _ = rl.loss(stack, code, x, y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, time every setting interleaved, print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--experiment", default="text_char")
    ap.add_argument("--through-time", nargs="+", type=int, default=[0, 1, 4])
    ap.add_argument("--forward", nargs="*", type=int, default=[],
                    help="through_time values to time with model.reco.time_path=forward as well")
    ap.add_argument("--feedback", nargs="+", default=["transport"], choices=["transport", "trace", "random"],
                    help="model.reco.time_feedback values of the forward-path settings")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    a, overrides = ap.parse_known_args(argv)
    torch.set_num_threads(a.threads)
    forward = [(k, f) for k in a.forward for f in a.feedback]
    names = ([f"bsd, through_time={k}" for k in a.through_time]
             + [f"bsd, through_time={k}, time_path=forward" + (f", time_feedback={f}" if f != "transport" else "")
                for k, f in forward] + ["bp_snn"])
    runs = [setting(a.experiment, "bsd", k, overrides) for k in a.through_time]
    runs += [setting(a.experiment, "bsd", k, overrides, "forward", f) for k, f in forward]
    runs.append(setting(a.experiment, "bp_snn", 0, overrides))
    times: dict[str, list[float]] = {n: [] for n in names}
    held: dict[str, float] = {}
    for step in range(a.warmup + a.steps + 1):  # step 0 measures what autograd holds
        for name, (stack, code, rl, batch, opt) in zip(names, runs, strict=True):
            x, y = batch()
            if name not in held:  # one untimed step under the hook that counts what autograd holds
                with SavedPeak() as peak:
                    train_step(stack, code, rl, opt, x, y)
                held[name] = peak.peak / 2**20
                continue
            t0 = time.perf_counter()
            train_step(stack, code, rl, opt, x, y)
            if step > a.warmup:
                times[name].append(time.perf_counter() - t0)
    base = statistics.median(times[names[0]])
    print(f"# {a.experiment}, {a.steps} steps per setting, interleaved, {a.threads} thread(s), "
          f"overrides {' '.join(overrides) or '-'}")
    print("| rule | s per step (median) | / first row | peak MB held for backward |")
    print("|---|---|---|---|")
    for name in names:
        med = statistics.median(times[name])
        print(f"| {name} | {med:.3f} | {med / base:.2f} | {held[name]:.2f} |")


if __name__ == "__main__":
    main()
