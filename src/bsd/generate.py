"""Generate from a trained checkpoint.

Text models (``text_char`` / ``text_file`` runs):
``python -m bsd.generate RUN_DIR/checkpoints/best.ckpt --prompt "ROMEO:" --length 500``

Image models (``mnist_ae`` / ``fmnist_ae`` runs): N images decoded from latents drawn from the
prior fitted to the training latents (model.latent_prior, saved in the checkpoint), written as PNG files plus a grid:
``python -m bsd.generate RUN_DIR/checkpoints/best.ckpt --n 64 --out samples/``
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .errors import user_errors


def read_hparams(path: str | Path) -> dict:
    """The hyper-parameters stored in a Lightning checkpoint, with its task under ``task``.

    Clear errors for a missing or unreadable file.
    """
    from .runs import load_checkpoint

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"checkpoint {p} does not exist (runs keep checkpoints/best.ckpt and last.ckpt)")
    ckpt = load_checkpoint(p)
    if "state_dict" not in ckpt:
        raise ValueError(f"{p} is not a Lightning checkpoint of this project (no state_dict)")
    return {**ckpt.get("hyper_parameters", {}), "task": (ckpt.get("bsd") or {}).get("task")}


def load_text_model(path: str | Path):
    """A :class:`~bsd.tasks.TextModule` from ``path``; a clear error otherwise."""
    from .tasks import TextModule

    p = Path(path)
    hp = read_hparams(p)
    if hp.get("task") != "text":
        kind = hp.get("task") or hp.get("model", {}).get("arch", "unknown")
        raise ValueError(f"{p} is not a text model (its task is {kind!r}); generation needs a checkpoint of "
                         "+experiment=text_char or data=text_file")
    return TextModule.load_from_checkpoint(p, map_location="cpu", weights_only=True)


def load_image_model(path: str | Path, dataset: str | None = None):
    """An :class:`~bsd.tasks.AutoencoderModule` from ``path``; a clear error for any other checkpoint.

    ``dataset`` (optional) must match the dataset the model was trained on.
    """
    from .tasks import AutoencoderModule

    p = Path(path)
    hp = read_hparams(p)
    if hp.get("task") != "generate":
        kind = hp.get("task") or hp.get("model", {}).get("arch", "unknown")
        raise ValueError(f"{p} is not an image generation model (it is {kind!r}); image generation needs a "
                         "checkpoint of +experiment=mnist_ae or fmnist_ae")
    if dataset is not None and hp.get("dataset") != dataset:
        raise ValueError(f"{p} was trained on {hp.get('dataset')!r}, not {dataset!r}")
    try:
        model = AutoencoderModule.load_from_checkpoint(p, map_location="cpu", weights_only=True)
    except RuntimeError as e:  # weights whose shapes do not match the architecture in the hyper-parameters
        raise ValueError(f"{p}: its weights do not fit the autoencoder its hyper-parameters describe "
                         f"({str(e).splitlines()[0]}); was the file edited or mixed up with another run?") from e
    if not bool(model.latent_fitted):
        raise ValueError(f"{p} has no fitted latent prior (it is fitted before each validation); use a "
                         "checkpoint written after a validation epoch")
    return model.eval()


def write_images(model, n: int, out: Path, seed: int = 0, sampling: str | None = None, nrow: int = 8) -> list[Path]:
    """Generate ``n`` images and write ``out/sample_0000.png``... and ``out/grid.png``."""
    from .grids import image_grid, save_png

    imgs = model.sample(n, seed, sampling)
    paths = [save_png(out / f"sample_{i:04d}.png", image_grid(imgs[i:i + 1], 1, pad=0)) for i in range(n)]
    paths.append(save_png(out / "grid.png", image_grid(imgs[:256], nrow)))
    return paths


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--prompt", default="ROMEO:\n", help="text models")
    ap.add_argument("--length", type=int, default=300, help="text models")
    ap.add_argument("--temperature", type=float, default=0.8, help="text models; 0 = greedy")
    ap.add_argument("--n", type=int, default=64, help="image models: number of images")
    ap.add_argument("--sampling", choices=("bernoulli", "regular"), default=None,
                    help="image models: latent rates to spikes (default: the model's model.latent_sampling)")
    ap.add_argument("--data", default=None, help="image models: refuse a checkpoint trained on another dataset")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="text: also write the text to this file; images: output folder (required)")
    a = ap.parse_args(argv)
    with user_errors():
        hp = read_hparams(a.checkpoint)
        if hp.get("task") not in ("generate", "text"):
            kind = hp.get("task") or hp.get("model", {}).get("arch", "unknown")
            raise ValueError(f"{a.checkpoint} is neither a text model nor an image generation model (it is "
                             f"{kind!r}); use a checkpoint of text_char / text_file or mnist_ae / fmnist_ae")
        if hp.get("task") == "generate":
            if not a.out:
                raise ValueError("--out FOLDER is required for image models")
            if a.n < 1:
                raise ValueError(f"--n must be >= 1, got {a.n}")
            model = load_image_model(a.checkpoint, a.data)
            if a.sampling and model.latent_space != "rate":
                raise ValueError(f"--sampling draws spike trains from sampled latent rates, but {a.checkpoint} "
                                 f"samples latent currents (model.latent_space={model.latent_space}), which drive "
                                 "the latent LIF directly; leave --sampling out")
            paths = write_images(model, a.n, Path(a.out), a.seed, a.sampling)
            print(f"wrote {a.n} images and {paths[-1]}")
            return
        if a.length < 1:
            raise ValueError(f"--length must be >= 1, got {a.length}")
        model = load_text_model(a.checkpoint)
        text = a.prompt + model.generate(a.prompt, a.length, a.temperature, a.seed)
    print(text)
    if a.out:
        from .runs import atomic_write_bytes

        atomic_write_bytes(Path(a.out), text.encode())


if __name__ == "__main__":
    main()
