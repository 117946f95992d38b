#!/usr/bin/env bash
# CPU screens of the bsd CNN on a network narrower than the default (fc [128]) so that a few epochs fit on
# the 2-core machine; one thread per run. Rows land in the ablation table of docs/results.md.
#   center: ReCo on batch-centred conv maps (model.reco.center) against the paper's ReCo, channels
#           [32, 64, 32], the two side by side
#   wide1:  a first conv stage four times wider, channels [128, 64, 32] (does width lift the CNN as it
#           lifts the MLP?), compared with the center=none row
# Usage: bash scripts/cnn_screen.sh [center|wide1] [OUT=results/cpu-2026-11-29-cnn] [EPOCHS=3] [EXPERIMENT=mnist_cnn]
set -uo pipefail
cd "$(dirname "$0")/.."
SCREEN=${1:-center}
OUT=${2:-results/cpu-2026-11-29-cnn}
EPOCHS=${3:-3}
EXP=${4:-mnist_cnn}
PY=${PY:-.venv/bin/python}
mkdir -p "$OUT/logs"
run() {  # run CHANNELS CENTER
  local name="c${1//,/-}_center_$2_epochs$EPOCHS"
  $PY src/train.py +experiment="$EXP" model.rule=bsd seed=${SEED:-0} threads=1 logger=csv trainer.enable_progress_bar=false \
    "model.channels=[$1]" 'model.fc=[128]' trainer.max_epochs="$EPOCHS" model.reco.center="$2" variant="$name" \
    hydra.run.dir="$OUT/$EXP/bsd/seed${SEED:-0}_$name" \
    > "$OUT/logs/$EXP-$name-seed${SEED:-0}.log" 2>&1 || echo "FAILED: $EXP $name (see $OUT/logs)"
}
case "$SCREEN" in
  center) run 32,64,32 none & run 32,64,32 batch & wait ;;
  wide1) run 128,64,32 none ;;
  *) echo "unknown screen '$SCREEN' (expected center or wide1)" >&2; exit 2 ;;
esac
