#!/usr/bin/env bash
# The CPU runs behind today's bsd rows of the classification table (the default of 2026-12-01: ReCo on
# centred firing rates, conv maps pooled to 4 x 4): mnist_mlp and fmnist_mlp over seeds 0-2, mnist_cnn
# (seed 0, a 3-epoch run, trainer.max_epochs=3: about 10 minutes an epoch on one thread; the 10-epoch runs: scripts/cnn_full.sh), one thread each. The BP rows of the same networks are the earlier ones
# (scripts/gpu_results.sh, and the CPU runs of results/cpu-2026-11-28); BP rules do not read the
# ReCo settings. The narrow-CNN screens that chose the setting: scripts/cnn_screen.sh pool|poolc|poolgrid|ratesc.
# Usage: bash scripts/classify_results.sh [OUT_MLP=results/cpu-2026-12-01-mlp] [OUT_CNN=results/cpu-2026-12-01-cnn]
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
mlp() {
  local OUT=${1:-results/cpu-2026-12-01-mlp}
  mkdir -p "$OUT/logs"
  # the first screen of the setting (the same configuration as the default's seed 0)
  $PY src/train.py +experiment=mnist_mlp model.rule=bsd seed=0 threads=1 logger=csv trainer.enable_progress_bar=false \
    model.reco.on=spikes model.reco.center=batch variant=spikes_center \
    hydra.run.dir="$OUT/mnist_mlp/bsd/seed0_spikes_center" > "$OUT/logs/mnist_mlp-spikes_center-seed0.log" 2>&1
  for s in 0 1 2; do SEED=$s one mnist_mlp bsd; done
  for s in 0 1 2; do SEED=$s one fmnist_mlp bsd; done
}
cnn() {
  local OUT=${1:-results/cpu-2026-12-01-cnn}
  mkdir -p "$OUT/logs"
  one mnist_cnn bsd trainer.max_epochs=3
}
mlp "${1:-results/cpu-2026-12-01-mlp}" & cnn "${2:-results/cpu-2026-12-01-cnn}" & wait
