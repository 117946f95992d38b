#!/usr/bin/env bash
# CPU screen of ReCo on batch-centred voltages (model.reco.center) for the bsd CNN: a narrower network than
# the default (channels [32, 64, 32], fc [128]) so that a few epochs fit on the 2-core machine; the two
# settings side by side, one thread each. Rows land in the ablation table of docs/results.md.
# Usage: bash scripts/cnn_center_screen.sh [OUT=results/cpu-2026-11-29-cnn] [EPOCHS=3] [EXPERIMENT=mnist_cnn]
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/cpu-2026-11-29-cnn}
EPOCHS=${2:-3}
EXP=${3:-mnist_cnn}
PY=${PY:-.venv/bin/python}
mkdir -p "$OUT/logs"
run() {  # run CENTER
  $PY src/train.py +experiment="$EXP" model.rule=bsd seed=${SEED:-0} threads=1 logger=csv trainer.enable_progress_bar=false \
    'model.channels=[32,64,32]' 'model.fc=[128]' trainer.max_epochs="$EPOCHS" model.reco.center="$1" \
    variant="c32-64-32_center_$1_epochs$EPOCHS" \
    hydra.run.dir="$OUT/$EXP/bsd/seed${SEED:-0}_c32-64-32_center_$1_epochs$EPOCHS" \
    > "$OUT/logs/$EXP-center_$1-epochs$EPOCHS-seed${SEED:-0}.log" 2>&1 || echo "FAILED: $EXP center=$1 (see $OUT/logs)"
}
if [ -n "${ONLY:-}" ]; then run "$ONLY"; exit; fi
run none &
run batch &
wait
