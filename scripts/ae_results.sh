#!/usr/bin/env bash
# The CPU runs behind the image generation table of docs/results.md: mnist_ae and fmnist_ae with the
# three rules at the default of 2026-12-01 (latent 128, lr 3e-3, model.reco.margin=code for bsd), seed 0,
# one thread per run, and the bsd ablations of the same session. The FID feature networks are trained
# and cached on first use (or beforehand: python -m bsd.fid --data NAME).
# (The rows of the earlier default, latent 32 without a margin, came from the same script at commit
# 3d3e99f into results/cpu-2026-11-29-ae.)
# Usage: bash scripts/ae_results.sh [OUT=results/cpu-2026-12-01-ae] [main|bsd|bp|ablations]
#   main: bsd and bp in two lanes side by side; bsd / bp / ablations: one lane of it
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/cpu-2026-12-01-ae}
WHAT=${2:-main}
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
mkdir -p "$OUT/logs"
variant() {  # variant EXPERIMENT NAME OVERRIDES...: a bsd ablation in its own run directory
  local exp=$1 v=$2; shift 2
  $PY src/train.py +experiment="$exp" model.rule=bsd seed=0 threads=1 logger=csv trainer.enable_progress_bar=false \
    variant="$v" "$@" hydra.run.dir="$OUT/$exp/bsd/seed0_$v" > "$OUT/logs/$exp-bsd-$v.log" 2>&1 \
    || echo "FAILED: $exp bsd $v (see $OUT/logs)"
}
bsd_lane() { one mnist_ae bsd; one fmnist_ae bsd; }
bp_lane() { one mnist_ae bp_ann; one fmnist_ae bp_ann; one mnist_ae bp_snn; one fmnist_ae bp_snn; }
ablations() {
  variant mnist_ae margin_zero model.reco.margin=zero     # the paper's hinge at today's shape and lr
  variant mnist_ae z32 model.latent=32                    # the margin at the earlier latent width
}
case "$WHAT" in
  main) bsd_lane & bp_lane & wait ;;
  bsd) bsd_lane ;;
  bp) bp_lane ;;
  ablations) ablations ;;
  *) echo "unknown part '$WHAT' (main, bsd, bp or ablations)" >&2; exit 2 ;;
esac
