#!/usr/bin/env bash
# Longer bsd runs of text_char (ablations, reported in their own table of docs/results.md): the default
# network for 3 epochs and the 1024-unit, T = 2 network for 2 epochs, side by side, one thread each.
# Usage: bash scripts/text_longer.sh [OUT=results/cpu-2026-11-29-text] [w1024_T2_epochs3]
# (the second form: the 1024-unit, T = 2 network for 3 epochs alone, on both cores)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/cpu-2026-11-29-text}
PY=${PY:-.venv/bin/python}
mkdir -p "$OUT/logs"
run() {  # run VARIANT OVERRIDES...
  local v=$1; shift
  $PY src/train.py +experiment=text_char model.rule=bsd seed=0 threads=${THREADS:-1} logger=csv trainer.enable_progress_bar=false \
    variant="$v" "$@" hydra.run.dir="$OUT/text_char/bsd/seed0_$v" > "$OUT/logs/text_char-bsd-$v.log" 2>&1 \
    || echo "FAILED: text_char bsd $v (see $OUT/logs)"
}
if [ "${2:-}" = "w1024_T2_epochs3" ]; then  # one run on both cores: threads=2
  THREADS=2 run w1024_T2_epochs3 'model.widths=[1024]' model.T=2 trainer.max_epochs=3
  exit
fi
run epochs3 trainer.max_epochs=3 &
run w1024_T2_epochs2 'model.widths=[1024]' model.T=2 trainer.max_epochs=2 &
wait
