#!/usr/bin/env bash
# The CPU runs behind the sequence tables of docs/results.md: text_char and timeseries_elec with the
# three rules, seed 0, default settings. Two lanes run side by side, one thread each (2-core machine).
# Usage: bash scripts/seq_results.sh [OUT=results/cpu-2026-11-28-seq]
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/cpu-2026-11-28-seq}
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
mkdir -p "$OUT/logs"
( one text_char bsd; one text_char bp_ann; one timeseries_elec bp_ann; one timeseries_elec bsd
  # ablation (reported in its own table): a wider recurrent layer with 2 steps per character
  $PY src/train.py +experiment=text_char model.rule=bsd seed=0 threads=1 logger=csv trainer.enable_progress_bar=false \
    model.widths=[1024] model.T=2 variant=w1024_T2 hydra.run.dir="$OUT/text_char/bsd/seed0_w1024_T2" \
    > "$OUT/logs/text_char-bsd-w1024_T2.log" 2>&1 || echo "FAILED: text_char bsd w1024_T2" ) &
# bp_snn back-propagates through all 200 steps of a 50-character sequence: about 10 s per batch on one
# thread here, so its text run is limited to 100 batches (the report shows batches per epoch)
( one timeseries_elec bp_snn; one text_char bp_snn trainer.limit_train_batches=100 ) &
wait
# ablation: more training for the bsd forecaster (reported in its own table)
( $PY src/train.py +experiment=timeseries_elec model.rule=bsd seed=0 threads=1 logger=csv \
    trainer.enable_progress_bar=false trainer.max_epochs=5 variant=epochs5 \
    hydra.run.dir="$OUT/timeseries_elec/bsd/seed0_epochs5" > "$OUT/logs/timeseries_elec-bsd-epochs5.log" 2>&1 \
    || echo "FAILED: timeseries_elec bsd epochs5" ) &
wait
