#!/usr/bin/env bash
# text_char with several characters per input step (data.context: the current one and the ones before it),
# the default network otherwise (1024 units, T = 1, batches of 64, one epoch), seed 0: bsd and bp_snn with 4
# characters side by side, then bp_ann with 4 and bsd with 8. One thread each (2-core machine); rows land in
# the ablation table of docs/results.md (variants ctx4, ctx8). About 35 minutes in all.
# Usage: bash scripts/text_context.sh [OUT=results/cpu-2026-11-29-textctx] [seeds]
# (`seeds`: only bsd with 4 characters on seeds 1 and 2, side by side)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/cpu-2026-11-29-textctx}
PY=${PY:-.venv/bin/python}
mkdir -p "$OUT/logs"
run() {  # run RULE CONTEXT [SEED]
  local rule=$1 k=$2 seed=${3:-0}
  $PY src/train.py +experiment=text_char model.rule="$rule" seed="$seed" threads=1 logger=csv \
    trainer.enable_progress_bar=false variant="ctx$k" data.context="$k" \
    hydra.run.dir="$OUT/text_char/$rule/seed${seed}_ctx$k" > "$OUT/logs/text_char-$rule-ctx$k-seed$seed.log" 2>&1 \
    || echo "FAILED: text_char $rule ctx$k seed $seed (see $OUT/logs)"
}
if [ "${2:-}" = seeds ]; then run bsd 4 1 & run bsd 4 2 & wait; exit; fi
run bsd 4 & run bp_snn 4 & wait
run bp_ann 4 & run bsd 8 & wait
