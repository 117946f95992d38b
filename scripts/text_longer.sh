#!/usr/bin/env bash
# Longer bsd runs of text_char (ablations, reported in their own table of docs/results.md): the earlier
# default network (512 units, T = 4) for 3 epochs and the 1024-unit, T = 2 network for 2 epochs, side by
# side, one thread each.
# Usage: bash scripts/text_longer.sh [OUT=results/cpu-2026-11-29-text] [wW_TT_epochsN]
# (the second form: one network of W units, T steps per character, for N epochs alone, on THREADS
# threads, default 2; e.g. w1024_T2_epochs3)
#        bash scripts/text_longer.sh OUT NAME OVERRIDE...   (one run of the default experiment labelled
# variant=NAME with the given overrides, on THREADS threads, default 1; e.g. lr5e-3 model.optimizer.lr=5e-3)
# SEED (default 0) sets the seed of every run. Runs take the experiment's batch size (64 since the afternoon
# of 2026-11-29; the wW_TT_epochsN rows of that morning ran at 128: add data.batch_size=128 via the
# NAME OVERRIDE... form to extend them).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/cpu-2026-11-29-text}
PY=${PY:-.venv/bin/python}
mkdir -p "$OUT/logs"
run() {  # run VARIANT OVERRIDES...
  local v=$1; shift
  $PY src/train.py +experiment=text_char model.rule=bsd seed=${SEED:-0} threads=${THREADS:-1} logger=csv trainer.enable_progress_bar=false \
    variant="$v" "$@" hydra.run.dir="$OUT/text_char/bsd/seed${SEED:-0}_$v" > "$OUT/logs/text_char-bsd-$v-seed${SEED:-0}.log" 2>&1 \
    || echo "FAILED: text_char bsd $v (see $OUT/logs)"
}
case "${2:-}" in
  w[0-9]*_T[0-9]*_epochs[0-9]*)  # one run alone: wW_TT_epochsN = W units, T steps per character, N epochs
    spec=${2#w}; width=${spec%%_*}; spec=${spec#*_T}; steps=${spec%%_*}; epochs=${spec#*_epochs}
    THREADS=${THREADS:-2} run "$2" "model.widths=[$width]" model.T="$steps" trainer.max_epochs="$epochs"
    exit ;;
  "") ;;
  *) if [ $# -lt 3 ]; then
       echo "unknown variant '$2' (expected wW_TT_epochsN, e.g. w1024_T2_epochs3, or NAME OVERRIDE...)" >&2; exit 2
     fi
     run "$2" "${@:3}"
     exit ;;
esac
run epochs3 'model.widths=[512]' model.T=4 trainer.max_epochs=3 &
run w1024_T2_epochs2 'model.widths=[1024]' model.T=2 trainer.max_epochs=2 &
wait
