"""The floors of a forecasting experiment's data config, computed by the code the runs use, without training.

    python -m bsd.probes.ts_floors [--val | --both] [EXPERIMENT] [OVERRIDE...]
    python -m bsd.probes.ts_floors timeseries_elec data.residual_parts=16

``--val`` scores the same fits on the validation span (to choose a data setting without the test span);
``--both`` prints the validation and the test span side by side.

Prints last value, seasonal naive and the linear AR model, and with ``data.predict=residual`` the linear map of
the input step that the models' target leaves out (what a zero output scores), as a markdown table.
"""

from __future__ import annotations

import sys

from hydra.utils import get_class, instantiate

from ..config import compose


def main() -> None:
    """Print the floors of ``+experiment=EXPERIMENT`` with the overrides."""
    args = sys.argv[1:]
    splits = ["test"]
    if args and args[0] in ("--val", "--both"):
        splits = ["val"] if args.pop(0) == "--val" else ["val", "test"]
    exp = args.pop(0) if args and "=" not in args[0] else "timeseries_elec"
    cfg = compose([f"+experiment={exp}", *args])
    if not hasattr(get_class(cfg.data._target_), "floors"):
        sys.exit(f"{exp} is not a forecasting experiment (its data module has no floors)")
    dm = instantiate(cfg.data)
    scores = {split: dm.floors(split) for split in splits}
    print(f"floors of +experiment={exp} {' '.join(args)} ({' and '.join(splits)} span of {dm.source})\n")
    heads = [f"{split} {col}" for split in splits for col in ("MSE (normalised)", "MAE", "RMSE")]
    print(f"| floor | {' | '.join(heads)} |\n|---|" + "---|" * len(heads))
    for name in scores[splits[0]]:
        cells = [f"{f[f'{sp}/mse']:.6f} | {f[f'{sp}/mae']:.1f} | {f[f'{sp}/rmse']:.1f}"
                 for sp in splits for f in [scores[sp][name]]]
        print(f"| {name} | {' | '.join(cells)} |")

if __name__ == "__main__":
    main()
