#!/usr/bin/env bash
# The CPU runs behind the sequence tables of docs/results.md: text_char and timeseries_elec with the
# three rules, seed 0, default settings. Two lanes run side by side, one thread each (2-core machine).
# Usage: bash scripts/seq_results.sh [OUT=results/cpu-2026-11-28-seq]
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/cpu-2026-11-28-seq}
PY=${PY:-.venv/bin/python}
one() {  # experiment rule
  $PY src/train.py +experiment="$1" model.rule="$2" seed=0 threads=1 logger=csv trainer.enable_progress_bar=false \
    hydra.run.dir="$OUT/$1/$2/seed0" > "$OUT/logs/$1-$2.log" 2>&1 || echo "FAILED: $1 $2 (see $OUT/logs/$1-$2.log)"
}
mkdir -p "$OUT/logs"
( one text_char bsd; one text_char bp_ann; one timeseries_elec bp_ann; one timeseries_elec bsd ) &
( one text_char bp_snn; one timeseries_elec bp_snn ) &
wait
