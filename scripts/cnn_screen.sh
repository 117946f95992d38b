#!/usr/bin/env bash
# CPU screens of the bsd CNN on a network narrower than the default (fc [128]) so that a few epochs fit on
# the 2-core machine; one thread per run. Rows land in the ablation table of docs/results.md.
#   center: ReCo on batch-centred conv maps (model.reco.center) against the paper's ReCo, channels
#           [32, 64, 32], the two side by side
#   wide1:  a first conv stage four times wider, channels [128, 64, 32] (does width lift the CNN as it
#           lifts the MLP?), compared with the center=none row
#   pool:   ReCo on the layer's firing rates (model.reco.on=spikes) over whole maps and over maps
#           average-pooled to 2 x 2 (model.reco.pool=2), channels [32, 64, 32], side by side
#   pool1:  the same with every map pooled to one value per channel (model.reco.pool=1)
#   poolc:  pooled to 2 x 2 and centred over the batch (model.reco.center=batch): firing rates are
#           non-negative, so without centring every pair of classes overlaps and is pushed apart
#   poolgrid: the centred rates pooled to 1 x 1 and to 4 x 4, and centred voltages pooled to 2 x 2
#   ratesc: the centred rates of whole maps (no pooling)
# Usage: bash scripts/cnn_screen.sh [center|wide1|pool|pool1|poolc|poolgrid|ratesc] [OUT=results/cpu-2026-11-29-cnn] [EPOCHS=3] [EXPERIMENT=mnist_cnn]
set -uo pipefail
cd "$(dirname "$0")/.."
SCREEN=${1:-center}
OUT=${2:-results/cpu-2026-11-29-cnn}
EPOCHS=${3:-3}
EXP=${4:-mnist_cnn}
PY=${PY:-.venv/bin/python}
mkdir -p "$OUT/logs"
run() {  # run CHANNELS TAG OVERRIDES...
  local name="c${1//,/-}_$2_epochs$EPOCHS" ch=$1; shift 2
  $PY src/train.py +experiment="$EXP" model.rule=bsd seed=${SEED:-0} threads=1 logger=csv trainer.enable_progress_bar=false \
    "model.channels=[$ch]" 'model.fc=[128]' trainer.max_epochs="$EPOCHS" "$@" variant="$name" \
    hydra.run.dir="$OUT/$EXP/bsd/seed${SEED:-0}_$name" \
    > "$OUT/logs/$EXP-$name-seed${SEED:-0}.log" 2>&1 || echo "FAILED: $EXP $name (see $OUT/logs)"
}
case "$SCREEN" in
  center) run 32,64,32 center_none model.reco.center=none & run 32,64,32 center_batch model.reco.center=batch & wait ;;
  wide1) run 128,64,32 center_none model.reco.center=none ;;
  pool) run 32,64,32 spikes model.reco.on=spikes & run 32,64,32 spikes_pool2 model.reco.on=spikes model.reco.pool=2 & wait ;;
  pool1) run 32,64,32 spikes_pool1 model.reco.on=spikes model.reco.pool=1 ;;
  poolc) run 32,64,32 spikes_pool2_center model.reco.on=spikes model.reco.pool=2 model.reco.center=batch ;;
  poolgrid)
    run 32,64,32 spikes_pool1_center model.reco.on=spikes model.reco.pool=1 model.reco.center=batch
    run 32,64,32 spikes_pool4_center model.reco.on=spikes model.reco.pool=4 model.reco.center=batch
    run 32,64,32 voltage_pool2_center model.reco.pool=2 model.reco.center=batch ;;
  ratesc) run 32,64,32 spikes_center model.reco.on=spikes model.reco.center=batch ;;
  *) echo "unknown screen '$SCREEN' (expected center, wide1, pool, pool1, poolc, poolgrid or ratesc)" >&2; exit 2 ;;
esac
