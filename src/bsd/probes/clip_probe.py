"""How often the joint gradient clip of an experiment is active during its first training steps.

With layer-local losses a per-layer loss weight only rescales AdamW's epsilon for that layer's parameters
(tests/rules/test_loss_weights.py); it reaches the other layers only through a clip of the joint gradient
norm, and only on steps where that clip is active. This trains the experiment's default for STEPS steps
(AdamW at the config's learning rate, no schedule, seed 0) and prints the gradient norm and how many steps
were clipped so far.

    python -m bsd.probes.clip_probe mnist_mlp 200 [overrides...]
"""

from __future__ import annotations

import sys

import torch
from hydra.utils import instantiate

from ..config import compose, to_objects
from ..tasks import build_module


def main(argv: list[str]) -> None:
    """Print the joint gradient norm at a few steps and the count of clipped steps."""
    if len(argv) < 2:
        raise SystemExit("usage: python -m bsd.probes.clip_probe EXPERIMENT STEPS [overrides...]")
    exp, steps, overrides = argv[0], int(argv[1]), argv[2:]
    torch.set_num_threads(1)
    cfg = compose([f"+experiment={exp}", "seed=0", *overrides])
    clip = cfg.trainer.gradient_clip_val
    if clip is None:
        print(f"{exp}: trainer.gradient_clip_val is null, so no step is clipped and a loss weight only "
              "rescales AdamW's epsilon")
        return
    torch.manual_seed(0)
    dm = instantiate(cfg.data)
    module = build_module(to_objects(cfg), dm)
    dm.prepare_data()
    dm.setup("fit")
    o = cfg.model.optimizer
    opt = torch.optim.AdamW(module.parameters(), lr=o.lr, weight_decay=o.weight_decay)
    clipped = 0
    for i, (x, y, *_) in enumerate(dm.train_dataloader()):
        if i >= steps:
            break
        loss, _ = module.rule.loss(module.stack, module.code, x, y)
        opt.zero_grad()
        loss.backward()
        norm = float(torch.nn.utils.clip_grad_norm_(module.parameters(), clip))
        clipped += norm > clip
        opt.step()
        if i in (0, 9, 24, 49, 99) or i == steps - 1:
            print(f"step {i + 1}: gradient norm {norm:.3f}, clipped {clipped} of {i + 1} steps (clip {clip})",
                  flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
