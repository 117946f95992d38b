"""Short screening loop for the autoencoder rules (the autoencoder screens of docs/experiments/autoencoder.md).

Trains ``+experiment=mnist_ae`` plus the given Hydra overrides for 150 steps of batch 128 drawn from the
first 30,000 MNIST training images (seed 0, no Lightning), and prints the mean training reconstruction MSE of
the last 20 steps, the validation MSE on the first 1,000 validation images (eval mode; held out of training, never
the test images) and the ReCo pull term of each hidden layer every 50 steps.

At the end it also asks how much of the image each hidden layer of the forward net holds: a ridge
regression from the layer's firing rates for 5,000 training images to the images, scored on the validation
images (the mean image is the floor above).

Usage: ``python -m bsd.probes.ae_screen THREADS [overrides...]``, e.g.
``python -m bsd.probes.ae_screen 2 trainer.gradient_clip_val=null model.optimizer.lr=1e-2``
(``STEPS=450 python -m bsd.probes.ae_screen ...`` trains longer; default 150 steps)
"""

import os
import sys
import time

import torch

from ..config import compose
from ..data import ImageDataModule
from ..tasks import AutoencoderModule


def main() -> None:
    """Run the loop described in the module docstring."""
    cfg = compose(["+experiment=mnist_ae", *sys.argv[2:]])
    torch.set_num_threads(int(sys.argv[1]))
    torch.manual_seed(0)
    dm = ImageDataModule("mnist")
    dm.setup()
    x_train = dm.splits["train"][torch.arange(30000)][0]
    x_val = dm.splits["val"][torch.arange(1000)][0]
    floor = ((x_val - x_train.mean(0)) ** 2).mean().item()
    print(f"mean training image as the reconstruction: val mse {floor:.4f}", flush=True)
    m = AutoencoderModule(cfg.model, (1, 28, 28), "mnist")
    opt = torch.optim.AdamW(m.stack.parameters(), cfg.model.optimizer.lr, weight_decay=0.01)
    clip = cfg.trainer.gradient_clip_val
    t0, hist = time.time(), []
    for s in range(int(os.environ.get("STEPS", "150"))):
        idx = torch.randint(0, len(x_train), (128,))
        m.train()
        loss, logs = m.rule.loss(m.stack, None, x_train[idx], None)
        opt.zero_grad()
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(m.stack.parameters(), clip)
        opt.step()
        hist.append(logs["loss/recon"].item())
        if (s + 1) % 50 == 0:
            m.eval()
            with torch.no_grad():
                ve = ((m(x_val).reshape(x_val.shape) - x_val) ** 2).mean().item()
            pulls = " ".join(f"{logs[k].item():.2f}" for k in sorted(logs) if "pull" in k)
            print(f"step {s + 1} train recon {sum(hist[-20:]) / 20:.4f} val mse {ve:.4f} pulls {pulls} "
                  f"{time.time() - t0:.0f}s", flush=True)
    m.eval()
    for k in range(1, m.stack.depth):
        mse = layer_probe(m, k, x_train[:5000], x_val)
        shape = tuple(m.stack.layers[k].shape)
        print(f"ridge from the rates of hidden layer {k} {shape} to the image: val mse {mse:.4f}")


@torch.no_grad()
def layer_probe(m: AutoencoderModule, k: int, x_fit: torch.Tensor, x_eval: torch.Tensor, ridge: float = 1e-3) -> float:
    """MSE on ``x_eval`` of a ridge regression (with intercept) from hidden layer ``k``'s firing rates to the image."""
    def feats(x: torch.Tensor) -> torch.Tensor:
        z = m.layer_rates(x, k, batch_size=500).flatten(1)
        return torch.cat([z, torch.ones(len(z), 1)], 1).double()

    f, y = feats(x_fit), x_fit.reshape(len(x_fit), -1).double()
    w = torch.linalg.solve(f.T @ f + ridge * len(f) * torch.eye(f.shape[1], dtype=f.dtype), f.T @ y)
    pred = feats(x_eval) @ w
    return ((pred - x_eval.reshape(len(x_eval), -1).double()) ** 2).mean().item()


if __name__ == "__main__":
    main()
