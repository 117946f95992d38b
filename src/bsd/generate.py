"""Generate from a trained checkpoint.

Usage: ``python -m bsd.generate RUN_DIR/checkpoints/best.ckpt --prompt "ROMEO:" --length 500``
(text models from ``text_char`` or ``text_file`` runs).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from .errors import user_errors


def load_text_model(path: str | Path):
    """A :class:`~bsd.seq_module.SequenceBSDModule` text model from ``path``; a clear error otherwise."""
    from .seq_module import SequenceBSDModule

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"checkpoint {p} does not exist (runs keep checkpoints/best.ckpt and last.ckpt)")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=False)
    except Exception as e:  # noqa: BLE001 - any unreadable file gets the same message
        raise ValueError(f"{p} is not a readable checkpoint ({e})") from e
    hp = ckpt.get("hyper_parameters", {}) if isinstance(ckpt, dict) else {}
    if hp.get("task") != "classify" or not hp.get("vocab"):
        kind = hp.get("task") or hp.get("model", {}).get("arch", "unknown")
        raise ValueError(f"{p} is not a text model (its task is {kind!r}); generation needs a checkpoint of "
                         "+experiment=text_char or data=text_file")
    return SequenceBSDModule.load_from_checkpoint(p, map_location="cpu")


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--prompt", default="ROMEO:\n")
    ap.add_argument("--length", type=int, default=300)
    ap.add_argument("--temperature", type=float, default=0.8, help="0 = greedy")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="also write the text to this file")
    a = ap.parse_args(argv)
    with user_errors():
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
