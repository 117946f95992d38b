"""Screen of the autoencoder's ex-post latent prior on trained checkpoints (no retraining).

For each run directory: load ``checkpoints/best.ckpt``, refit each prior on the run's ``n_fit``
training images, draw ``n`` samples (seed 0; the pseudo-prior ``encoded`` decodes the test images' own
latent rates instead, which isolates what re-drawing latent spike trains costs) and compute the FID
(classifier features, the run's own feature network) of the samples against the test images. Prints a
table and writes it as JSON (read by ``python -m bsd.report``); the first 64 samples of each prior go to
``grids/`` beside it (``--grids-only``: those grids and no FID).

``--space current`` fits each prior to the latent layer's time-mean basal voltages instead of its rates
(``model.latent_space``): samples drive the latent LIF soma (ReLU for ``bp_ann``), so no spike sampling
applies; those rows carry the sampling ``lif``.

Usage: python -m bsd.probes.prior_screen RUN_DIR [RUN_DIR ...] [--priors gaussian gmm:10 gmm:50 encoded]
       [--sampling bernoulli regular] [--space rate current]
       [--n 10000] [--out priors.json] [--grids-only]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from ..fid import feed, load_feature_net, make_fid
from ..generate import load_image_model
from ..grids import image_grid, save_png


def screen(run: Path, priors: list[str], n: int, grids: Path, with_fid: bool = True,
           samplings: tuple[str, ...] = ("bernoulli",), spaces: tuple[str, ...] = ("rate",)) -> list[dict]:
    """FID of decoded latents of ``run``'s best checkpoint under each prior and latent spike sampling.

    A prior is ``gaussian``, ``gmm:K`` or ``encoded`` (no prior: the test images' own latent rates).
    """
    cfg = OmegaConf.load(run / "config_resolved.yaml")
    metrics = json.loads((run / "metrics.json").read_text())
    model = load_image_model(run / "checkpoints" / "best.ckpt", cfg.data.name)
    gen = metrics["generation"]
    net, meta = load_feature_net(gen["feature_net"], cfg.data.name)
    recorded = gen.get("feature_net_sha256") or gen.get("feature_net_test_acc")
    found = meta["sha256"] if gen.get("feature_net_sha256") else meta.get("test_acc")
    if recorded is not None and recorded != found:  # the file at that path changed since the run scored with it
        raise SystemExit(f"{run}: the FID network at {gen['feature_net']} ({found}) is not the one the run "
                         f"recorded ({recorded}); its FIDs would not compare with the run's")
    dm = instantiate(cfg.data)
    dm.prepare_data()
    dm.setup("test")
    test = dm.splits["test"][torch.arange(min(n, len(dm.splits["test"])))][0].float()
    fit = dm.splits["train"][torch.arange(min(len(dm.splits["train"]), model.hparams.n_fit))][0]
    fid = make_fid(net, keep_real=True)  # the test images fed once, every prior's samples scored against them
    if with_fid:
        feed(fid, test, real=True)
    rows = []
    combos = [(sp, sa) for sp in spaces for sa in (samplings if sp == "rate" else ("lif",))]
    for space, sampling in combos:
        for p in priors:
            kind, _, k = p.partition(":")
            t0 = time.time()
            m = len(test) if with_fid else 64
            spikes = sampling if space == "rate" else None
            if kind == "encoded":  # the test images' own latent codes, decoded again: no prior
                model.set_prior("gaussian", 1, space)
                x = model.decode_latents(model.latents(test[:m]), 0, spikes)
            else:
                model.set_prior(kind, int(k or 10), space)
                model.fit_latent(fit)
                x = model.sample(m, 0, spikes)
            tag = p.replace(":", "") + ("" if sampling == "bernoulli" else f"_{sampling}")
            tag += f"_seed{cfg.seed}" if cfg.get("seed") else ""  # seed-0 grids keep their earlier names
            save_png(grids / f"{cfg.data.name}_{cfg.model.rule}_{tag}.png", image_grid(x[:64], 16))
            if not with_fid:
                continue
            fid.reset()
            feed(fid, x, real=False)
            rows.append({"run": str(run), "rule": cfg.model.rule, "data": cfg.data.name, "prior": p,
                         "sampling": sampling, "fid_samples": float(fid.compute()), "n": len(x),
                         "seconds": round(time.time() - t0, 1)})
            print(f"{cfg.data.name:14s} {cfg.model.rule:7s} {p:10s} {sampling:9s} FID {rows[-1]['fid_samples']:8.1f} "
                  f"({rows[-1]['seconds']} s)", flush=True)
    return rows


def main() -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--priors", nargs="+", default=["gaussian", "gmm:10", "gmm:50"])
    ap.add_argument("--sampling", nargs="+", default=["bernoulli"], choices=["bernoulli", "regular"],
                    help="how latent rates become the decoder's spike trains (model.latent_sampling)")
    ap.add_argument("--space", nargs="+", default=["rate"], choices=["rate", "current"],
                    help="what each prior is fitted to (model.latent_space)")
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--out", type=Path, default=Path("priors.json"))
    ap.add_argument("--grids-only", action="store_true", help="write the sample grids, skip the FID and the JSON")
    a = ap.parse_args()
    torch.set_num_threads(1)
    rows = [r for run in a.runs for r in screen(run, a.priors, a.n, a.out.parent / "grids", not a.grids_only,
                                                tuple(a.sampling), tuple(a.space))]
    if a.grids_only:
        print(f"wrote grids to {a.out.parent / 'grids'}")
        return
    command = "python -m bsd.probes.prior_screen " + " ".join(sys.argv[1:])
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps({"command": command, "rows": rows}, indent=1))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
