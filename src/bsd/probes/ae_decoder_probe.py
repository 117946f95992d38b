"""Where does a trained autoencoder's decoder lose the image? BP-trained probes of its decoder stages.

For a run directory (``checkpoints/best.ckpt``) and each layer ``k`` from the latent up to the last
decoder layer, the forward net's firing rates of layer ``k`` (time mean; ReLU outputs for ``bp_ann``)
are computed for ``--n-fit`` training images; a fresh copy of the autoencoder's own decoder stages
above ``k`` (the same maps, re-initialised, ReLU between them, analog) is then trained by
back-propagation on the reconstruction MSE, and scored on ``--n-test`` test images. The step from
one layer's probe to the next measures how much the locally trained stage between them loses against
the same stage trained end to end. The last row is the run's own reconstruction; for ``bsd`` runs the
script also compares the two streams' decoder spikes on 1,000 test images (:func:`stream_report`).

Usage: ``python -m bsd.probes.ae_decoder_probe RUN_DIR [RUN_DIR ...] [--epochs 5] [--out FILE.json]``
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from omegaconf import OmegaConf

from ..data import ImageDataModule
from ..generate import load_image_model
from ..rules.ae import latent_index
from ..rules.bsd import spike_agreement


def decoder_above(stack, k: int) -> torch.nn.Module:
    """A fresh, analog copy of the stack's maps above layer ``k`` (ReLU between them)."""
    mods: list[torch.nn.Module] = []
    for layer in [*stack.layers[k + 1:stack.depth], stack.concept]:
        m = copy.deepcopy(layer.basal)
        for sub in m.modules():
            if hasattr(sub, "reset_parameters"):
                sub.reset_parameters()
        mods += [m, torch.nn.ReLU()]
    return torch.nn.Sequential(*mods[:-1])


def rates(model, x: torch.Tensor, k: int, batch: int = 500) -> torch.Tensor:
    """Layer ``k``'s time-mean forward output for images ``x``."""
    return model.layer_rates(x, k, batch)


@torch.no_grad()
def stream_report(model, x: torch.Tensor) -> list[dict]:
    """``bsd`` only: how the two streams' decoder spikes compare, and the top map fed the backward spikes.

    For each layer above the latent: both streams' firing rates and the fraction of (step, sample, unit)
    entries where their spikes agree; then the test MSE of the trained top map applied to the backward
    stream's spikes of the last decoder layer (the ones its forward input is distilled towards).
    """
    st, rule = model.stack, model.rule
    s0 = rule.encode(st, x)
    fwd, above, _, _ = rule.streams_from_top(st, s0, s0)
    rows = []
    for i in range(latent_index(st) + 1, st.depth):
        r_f, r_b, agree = spike_agreement(fwd.inputs[i], above[i - 1], None)
        rows.append({"layer": i, "rate_fwd": r_f.item(), "rate_bwd": r_b.item(), "agree": agree.item()})
    out = st.concept.basal(above[st.depth - 2].mean(0))
    rows.append({"top_from_backward_mse": F.mse_loss(out, x.reshape(out.shape)).item()})
    return rows


def probe(model, k: int, x_fit: torch.Tensor, x_test: torch.Tensor, epochs: int, seed: int = 0) -> float:
    """Test MSE of a BP-trained copy of the decoder above layer ``k``, fed layer ``k``'s rates."""
    torch.manual_seed(seed)
    z_fit, z_test = rates(model, x_fit, k), rates(model, x_test, k)
    dec = decoder_above(model.stack, k)
    opt = torch.optim.AdamW(dec.parameters(), 3e-3)
    for _ in range(epochs):
        perm = torch.randperm(len(z_fit))
        for i in range(0, len(z_fit), 128):
            idx = perm[i:i + 128]
            loss = F.mse_loss(dec(z_fit[idx]), x_fit[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        return F.mse_loss(dec(z_test), x_test).item()


def main(argv: list[str] | None = None) -> None:
    """Probe every run named on the command line and print (and optionally save) the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--n-fit", type=int, default=30000)
    ap.add_argument("--n-test", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    rows, data = [], {}
    for run in a.runs:
        cfg = OmegaConf.load(run / "config_resolved.yaml")
        model = load_image_model(run / "checkpoints" / "best.ckpt", cfg.data.name)
        model.eval()
        if cfg.data.name not in data:
            dm = ImageDataModule(cfg.data.name)
            dm.setup()
            shape = (-1, *model.stack.in_shape)
            data[cfg.data.name] = (dm.splits["train"][torch.arange(a.n_fit)][0].reshape(shape),
                                   dm.splits["test"][torch.arange(a.n_test)][0].reshape(shape))
        x_fit, x_test = data[cfg.data.name]
        t0 = time.time()
        for k in range(latent_index(model.stack), model.stack.depth):
            mse = probe(model, k, x_fit, x_test, a.epochs)
            rows.append({"run": str(run), "rule": cfg.model.rule, "layer": k,
                         "shape": list(model.stack.layers[k].shape), "probe": "bp decoder above", "test_mse": mse})
            print(f"{run} {cfg.model.rule} layer {k} {tuple(model.stack.layers[k].shape)}: BP-trained decoder "
                  f"above it, test MSE {mse:.4f} ({time.time() - t0:.0f} s)", flush=True)
        with torch.no_grad():
            own = F.mse_loss(model(x_test).reshape(x_test.shape), x_test).item()
        rows.append({"run": str(run), "rule": cfg.model.rule, "layer": model.stack.depth, "probe": "own",
                     "test_mse": own})
        print(f"{run} {cfg.model.rule}: its own reconstruction, test MSE {own:.4f}", flush=True)
        if cfg.model.rule == "bsd":
            for r in stream_report(model, x_test[:1000]):
                rows.append({"run": str(run), "rule": "bsd", "probe": "streams", **r})
                print(f"{run} streams: {r}", flush=True)
    if a.out is not None:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
